"""The rules' memory (what this process has heard and said), their thresholds and the writes they share.

One RuleState per process: the pipeline's committer thread and the periodic runner's thread both go through
STATE.lock. Everything durable is in the database (alerts by key, CurrentLocation, Code Pink), so a restart
loses timers only.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.db.models import Q
from shapely import wkb

from alerts.audiences import SECURITY
from alerts.models import Alert
from alerts.services import alert_condition_clear, alert_raise
from floorplans.models import Door, Floor, Zone
from security.doors.services import door_command
from security.geometry import ExitDoor, ExitLevel, FloorExits, FloorGeometry
from security.models import CodePink
from tracking.models import CurrentLocation
from tracking.selectors.locations import StX, StY

if TYPE_CHECKING:
    from security.selectors import ArmedInfant, ArmedMother

logger = logging.getLogger(__name__)

EXIT_APPROACH, EXIT_ALARM, ELEVATOR_HOLD = "security.exit_approach", "security.exit_alarm", "security.elevator_hold"
OUTSIDE_WARD, TAMPER, STRAP_LOOSE = "security.outside_ward", "security.tamper", "security.strap_loose"
SUPERVISION_LOST, LOW_BATTERY = "security.supervision_lost", "security.low_battery"
INFO, WARNING, HIGH, CRITICAL = (Alert.Severity.INFO.value, Alert.Severity.WARNING.value, Alert.Severity.HIGH.value,
                                 Alert.Severity.CRITICAL.value)
GEOMETRY_TTL_S, CODE_PINK_TTL_S = 60.0, 2.0


def supervision_s() -> float:
    return float(getattr(settings, "SECURITY_SUPERVISION_S", os.environ.get("HOSPITAL_IOT_SUPERVISION_S", 30.0)))


def approach_m() -> float:
    return float(getattr(settings, "SECURITY_EXIT_APPROACH_M", 3.0))


def at_exit_m() -> float:
    return float(getattr(settings, "SECURITY_EXIT_AT_M", 1.0))


def key(kind: str, infant_id: int) -> str:
    return f"{kind}:{infant_id}"


# --- memory ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fix:
    floor_id: int
    x_m: float
    y_m: float
    zone_id: int | None
    at_s: float

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.at_s, UTC)

    def place(self) -> dict[str, Any]:
        return {"floor_id": self.floor_id, "zone_id": self.zone_id, "x_m": round(self.x_m, 2),
                "y_m": round(self.y_m, 2)}


@dataclass
class InfantWatch:
    """What this process said about one infant (so a window repeats nothing)."""

    level: int = ExitLevel.NONE
    door: str = ""  # the exit door of the current episode
    raised: set[str] = field(default_factory=set)  # kinds raised here and not cleared
    locked: set[str] = field(default_factory=set)  # controllers commanded in this exit episode
    held: bool = False  # elevators held in this exit episode
    breached: bool = False  # Code Pink started in this exit episode
    escorted_door: str = ""  # the exit an escorted infant was last logged at
    seen_note_s: float = float("-inf")
    place_s: float = float("-inf")


@dataclass
class RuleState:
    last: dict[int, Fix] = field(default_factory=dict)  # tag pk -> latest fix (infants and mothers only)
    heard_s: dict[int, float] = field(default_factory=dict)  # tag pk -> unix s of the latest fix or status
    watches: dict[int, InfantWatch] = field(default_factory=dict)  # infant id ->
    floors: dict[int, tuple[FloorGeometry, float]] = field(default_factory=dict)  # floor -> (geometry, loaded)
    code_pinks: list[tuple[int, int, int | None, int | None]] = field(default_factory=list)  # pk, bldg, floor, inf
    code_pinks_s: float = float("-inf")
    together: dict[tuple[int, int], float] = field(default_factory=dict)  # (mother tag, infant tag) -> since s
    matched: dict[tuple[int, int], float] = field(default_factory=dict)  # (mother tag, infant tag) -> last s
    lost: set[int] | None = None  # infant ids with supervision_lost open (None: not read yet)
    watch_since_s: float | None = None  # when this process's supervision job first ran
    watched: tuple[int, int, np.ndarray] = (0, 0, np.zeros(0, np.int64))  # id(infants), id(mothers), pks
    lock: threading.RLock = field(default_factory=threading.RLock)

    def watch(self, infant_id: int) -> InfantWatch:
        return self.watches.setdefault(infant_id, InfantWatch())

    def pks(self, infants: dict[int, ArmedInfant], mothers: dict[int, ArmedMother]) -> np.ndarray:
        """Every watched tag pk as one array, rebuilt only when the directory was."""
        if self.watched[:2] != (id(infants), id(mothers)):
            self.watched = (id(infants), id(mothers), np.fromiter([*infants, *mothers], np.int64))
        return self.watched[2]

    def geometry(self, floor_id: int) -> FloorGeometry:
        cached = self.floors.get(floor_id)
        if cached is None or time.monotonic() - cached[1] > GEOMETRY_TTL_S:
            cached = (floor_geometry_load(floor_id=floor_id), time.monotonic())
            self.floors[floor_id] = cached
        return cached[0]

    def code_pink_for(self, infant: ArmedInfant, floor_id: int, building_id: int) -> tuple[int, bool] | None:
        """The active Code Pink naming the infant or covering this floor, and whether it names the infant
        (the list is refreshed every CODE_PINK_TTL_S)."""
        if time.monotonic() - self.code_pinks_s > CODE_PINK_TTL_S:
            self.code_pinks = list(CodePink.objects.filter(state=CodePink.State.ACTIVE).order_by("started_at")
                                   .values_list("pk", "building_id", "floor_id", "infant_id"))
            self.code_pinks_s = time.monotonic()
        ranked = sorted(self.code_pinks, key=lambda row: row[3] != infant.infant_id)  # its own first
        for pk, building, floor, infant_id in ranked:
            if infant_id == infant.infant_id or floor == floor_id or (floor is None and building == building_id):
                return pk, infant_id == infant.infant_id
        return None


STATE = RuleState()


def reset() -> None:
    """Forget everything in memory (tests; a new process starts so). In place: the rule modules hold STATE."""
    vars(STATE).update(vars(RuleState()))


def floor_geometry_load(*, floor_id: int) -> FloorGeometry:
    """A floor's exits (lift-lobby doors marked) and ward outlines from the database (3 queries)."""
    building_id = Floor.objects.values_list("building_id", flat=True).get(pk=floor_id)
    lobby_kinds = (Zone.Kind.ELEVATOR_LOBBY, Zone.Kind.ELEVATOR)
    to_lobby = {zone for pair in Door.objects.filter(  # zones one door away from a lobby
        Q(to_zone__kind__in=lobby_kinds) | Q(from_zone__kind__in=lobby_kinds), floor_id=floor_id)
        .values_list("from_zone_id", "to_zone_id") for zone in pair}
    doors = []
    for door in Door.objects.filter(floor_id=floor_id, is_exit=True).select_related("from_zone", "to_zone"):
        (ax, ay), (bx, by) = door.line.coords[0], door.line.coords[-1]
        doors.append(ExitDoor(door.pk, door.code, (ax, ay), (bx, by), as_shape(door.from_zone.polygon),
                              as_shape(door.to_zone.polygon), controller=door.lock_controller, name=door.name,
                              to_elevator_lobby=door.to_zone.kind in lobby_kinds or door.to_zone_id in to_lobby))
    wards = {pk: as_shape(polygon) for pk, polygon in
             Zone.objects.filter(floor_id=floor_id, kind=Zone.Kind.WARD).values_list("pk", "polygon")}
    exits = FloorExits(doors, approach_m=approach_m(), at_exit_m=at_exit_m())
    return FloorGeometry(floor_id=floor_id, building_id=building_id, exits=exits, wards=wards)


def as_shape(geometry: Any) -> Any:
    """A GEOS geometry as shapely."""
    return wkb.loads(bytes(geometry.wkb))


# --- shared writes --------------------------------------------------------------------------------------


def infant_raise(kind: str, severity: int, infant: ArmedInfant, *, title: str, message: str, at: datetime,
                 place: dict[str, Any] | None, audience: str = SECURITY, **data: Any) -> None:
    """Raise the infant's condition `kind` (key security.<kind>:<infant pk>), placed where given."""
    alert_raise(**{
        "kind": kind, "severity": severity, "key": key(kind, infant.infant_id), "title": title, "message": message,
        "subject_type": Alert.Subject.INFANT, "subject_id": str(infant.infant_id), "subject_label": infant.name,
        "audience": audience, "ward_id": infant.ward_id, **(place or {}),
        "data": {"infant_id": infant.infant_id, "tag_id": infant.tag_id, **(place or {}), **data}}, at=at)
    watch = STATE.watch(infant.infant_id)
    watch.raised.add(kind)
    watch.place_s = at.timestamp()


def infant_clear(kind: str, infant: ArmedInfant, *, at: datetime, note: str) -> None:
    """The condition is over (its open alert, by key, whoever raised it)."""
    alert_condition_clear(key=key(kind, infant.infant_id), at=at, note=note)
    STATE.watch(infant.infant_id).raised.discard(kind)


def command_door(controller: str, command: str, *, reason: str, at: datetime) -> str:
    """Send one command; returns "" or the error (a missing controller must not stop the alarm)."""
    try:
        door_command(controller=controller, command=command, reason=reason, at=at)
    except Exception as error:  # logged, and said in the alarm's data
        logger.exception("security: %s %s failed", command, controller)
        return f"{type(error).__name__}: {error}"
    return ""


def fix_stored(tag_pk: int) -> Fix | None:
    """Where the pipeline (of any process) last put the tag: its CurrentLocation row."""
    row = (CurrentLocation.objects.filter(tag_id=tag_pk)
           .values_list("floor_id", StX("position"), StY("position"), "zone_id", "seen_at").first())
    return None if row is None else Fix(row[0], row[1], row[2], row[3], row[4].timestamp())
