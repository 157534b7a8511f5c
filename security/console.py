"""What the security console, the infants page and the security API show: door rows (the shape of the floor
websocket's "doors" message), protected infants with their band, place and escort, and the floors worth
watching. Reads only; every write goes through security.services, security.codepink or the door services.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from floorplans.models import Door, Floor, Zone
from security.doors.selectors import door_row
from security.doors.selectors import door_rows as floor_door_rows
from security.models import CodePink, DoorController, EscortPass, Infant, LocationAccess, MatchCheck, TagState
from tracking.access import floor_ids_visible
from tracking.models import CurrentLocation

if TYPE_CHECKING:
    from tracking.access import AnyUser


# ---- doors --------------------------------------------------------------------------------------------


def door_rows(*, floor_id: int | None = None) -> list[dict[str, Any]]:
    """The rows of one floor's map (exactly the "doors" message's, plus `floor_id`), or of every controller
    with all the doors it locks."""
    if floor_id is not None:
        return [{**row, "floor_id": floor_id} for row in floor_door_rows(floor_id=floor_id)]
    doors: dict[str, list[str]] = defaultdict(list)
    for controller_code, door_code in (Door.objects.exclude(lock_controller="").order_by("code")
                                       .values_list("lock_controller", "code")):
        doors[controller_code].append(door_code)
    return [{**door_row(c, doors.get(c.code, [])), "floor_id": c.floor_id}
            for c in DoorController.objects.order_by("code")]


# ---- infants ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a tag was last located (only on floors the viewer may watch)."""

    floor_id: int
    floor_name: str
    zone_id: int | None
    zone_name: str
    x_m: float
    y_m: float
    seen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"floor": self.floor_id, "floor_name": self.floor_name, "zone": self.zone_id,
                "zone_name": self.zone_name, "x_m": round(self.x_m, 2), "y_m": round(self.y_m, 2),
                "seen_at": self.seen_at}


def places_of(tag_pks: list[int], *, user: AnyUser) -> dict[int, Place]:
    """Tag pk -> its last place, for the tags located on floors the user may watch (one query)."""
    visible = floor_ids_visible(user=user)  # empty without the permission to watch floors
    if not tag_pks or visible == frozenset():
        return {}
    rows = CurrentLocation.objects.filter(tag_id__in=tag_pks).select_related("floor", "zone")
    if visible is not None:
        rows = rows.filter(floor_id__in=sorted(visible))
    return {row.tag_id: Place(row.floor_id, row.floor.name, row.zone_id, row.zone.name if row.zone else "",
                              row.position.x, row.position.y, row.seen_at) for row in rows}


def infants_list(*, user: AnyUser, states: tuple[str, ...] = Infant.ARMED_STATES, ward_id: int | None = None,
                 at: datetime | None = None) -> QuerySet[Infant]:
    """Infants in these states, of wards on floors the user may watch, with what their rows need joined or
    prefetched (the active escort as `active_escorts`, a list of zero or one)."""
    now = at or timezone.now()
    infants = Infant.objects.filter(state__in=states)
    visible = floor_ids_visible(user=user)
    if visible is not None:
        infants = infants.filter(ward__floor_id__in=sorted(visible))
    if ward_id is not None:
        infants = infants.filter(ward_id=ward_id)
    active = EscortPass.objects.filter(ended_at__isnull=True, expires_at__gt=now).select_related("authorized_by")
    return infants.select_related(
        "tracked_object__tag__band_state", "mother__tracked_object", "ward__floor", "enrolled_by",
        "discharge_requested_by",
    ).prefetch_related(Prefetch("escorts", queryset=active, to_attr="active_escorts")).order_by(
        "ward__name", "tracked_object__name")


def band_of(infant: Infant) -> TagState | None:
    tag = infant.tracked_object.tag
    if tag is None:
        return None
    try:
        return tag.band_state
    except TagState.DoesNotExist:
        return None


def infant_row(infant: Infant, *, places: dict[int, Place]) -> dict[str, Any]:
    """One infant as the infants page and the API show it."""
    tag = infant.tracked_object.tag
    band = band_of(infant)
    escorts: list[EscortPass] = getattr(infant, "active_escorts", [])
    escort = escorts[0] if escorts else None
    place = places.get(tag.pk) if tag is not None else None
    mother = infant.mother
    return {
        "id": infant.pk, "name": infant.tracked_object.name, "tag": tag.tag_id if tag else "",
        "state": infant.state, "state_label": infant.get_state_display(),
        "mother": {"id": mother.pk, "name": mother.tracked_object.name} if mother else None,
        "ward": {"id": infant.ward_id, "name": infant.ward.name, "floor": infant.ward.floor_id},
        "born_at": infant.born_at, "enrolled_at": infant.enrolled_at,
        "strap": band.strap if band else TagState.Strap.UNKNOWN,
        "battery_pct": band.battery_pct if band else (tag.battery_pct if tag else None),
        "battery_mv": band.battery_mv if band else None,
        "heard_at": band.updated_at if band else None,
        "place": place.as_dict() if place else None,
        "escort": {"id": escort.pk, "destination": escort.destination, "reason": escort.reason,
                   "authorized_by": escort.authorized_by.get_username(), "started_at": escort.started_at,
                   "expires_at": escort.expires_at} if escort else None,
        "discharge": {"reason": infant.discharge_reason, "requested_at": infant.discharge_requested_at,
                      "requested_by": infant.discharge_requested_by.get_username()
                      if infant.discharge_requested_by else None}
        if infant.state == Infant.State.DISCHARGE_REQUESTED else None,
    }


def infant_rows(infants: list[Infant], *, user: AnyUser) -> list[dict[str, Any]]:
    places = places_of([i.tracked_object.tag_id for i in infants if i.tracked_object.tag_id is not None], user=user)
    return [infant_row(infant, places=places) for infant in infants]


def wards_for_infants() -> QuerySet[Zone]:
    """The wards an infant may be enrolled to, floor by floor."""
    return Zone.objects.filter(kind=Zone.Kind.WARD).select_related("floor").order_by("floor__level", "name")


# ---- floors and incidents ------------------------------------------------------------------------------


def secured_floors(*, user: AnyUser) -> list[Floor]:
    """The floors the console offers, among those the user may watch: those with door controllers or with
    protected infants' wards first; every watchable floor when none has either."""
    visible = floor_ids_visible(user=user)
    floors = Floor.objects.select_related("building").order_by("building__code", "level")
    if visible is not None:
        floors = floors.filter(pk__in=sorted(visible))
    secured = floors.filter(
        Q(door_controllers__isnull=False) | Q(zones__protected_infants__state__in=Infant.ARMED_STATES)).distinct()
    return list(secured) or list(floors)


def code_pinks_active() -> QuerySet[CodePink]:
    return CodePink.objects.filter(state=CodePink.State.ACTIVE).select_related(
        "floor", "building", "infant__tracked_object", "started_by").order_by("-started_at")


def match_checks_list(*, infant_id: int | None = None, mother_id: int | None = None,
                      result: str | None = None) -> QuerySet[MatchCheck]:
    checks = MatchCheck.objects.select_related("mother__tracked_object", "infant__tracked_object", "zone", "user")
    if infant_id is not None:
        checks = checks.filter(infant_id=infant_id)
    if mother_id is not None:
        checks = checks.filter(mother_id=mother_id)
    if result:
        checks = checks.filter(result=result)
    return checks.order_by("-at", "-pk")


def access_log(*, username: str = "", infant_id: int | None = None, via: str = "", since: datetime | None = None,
               until: datetime | None = None) -> QuerySet[LocationAccess]:
    """The access log, newest first, filtered."""
    rows = LocationAccess.objects.select_related("infant__tracked_object")
    if username:
        rows = rows.filter(username=username)
    if infant_id is not None:
        rows = rows.filter(infant_id=infant_id)
    if via:
        rows = rows.filter(via=via)
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    return rows.order_by("-at", "-pk")


def escort_open(*, infant_id: int) -> EscortPass | None:
    """The infant's escort pass not yet ended (expired or not): the one "end escort" ends."""
    return EscortPass.objects.filter(infant_id=infant_id, ended_at__isnull=True).order_by("-started_at").first()
