"""The infusion rules: where bags are (zone events) and how long they have run (a periodic tick) → bag
status moves and alerts.

Location. The pipeline's ZoneEntered/ZoneExited events name the *smallest* zone a tag is in (a bed inside
a room inside a ward). Each zone is classified for the bag as a Place (its patient's bed, another admitted
patient's bed, elsewhere on its ward, off its ward, unknown). A new place must hold for HYSTERESIS_S
before it counts (PlaceWatch), so a bag on a bed's edge does not flap; a settled place then:
  - moves the bag along the ward (dispensed → on_ward → at_bedside, back to on_ward when it leaves the bed);
  - for a running (infusing or paused) bag at another patient's bed raises "infusion.wrong_patient" (HIGH),
    cleared once the bag has settled back at its own bed;
  - for a running bag off its ward raises "infusion.left_ward" (HIGH), cleared once it has settled back on it.
Only tags of active bags are looked at: a tag_id → bag directory (one query, refreshed every few seconds)
makes every other tag's event a dict miss.

Time. infusion_tick(now), registered with alerts.periodic every TICK_S, settles pending places (the
hysteresis timers), catches up with the database (open zone stays, for events this process did not see)
and raises or clears the time conditions of every active bag:
  - "infusion.near_empty" (WARNING): running and at most NEAR_EMPTY_MIN minutes left at the current rate;
  - "infusion.complete" (HIGH): running and the volume has gone in. The status stays infusing until a
    nurse completes the bag (only she knows the line is off the patient);
  - "infusion.not_started" (WARNING): at the bedside for NOT_STARTED_MIN minutes and not started;
  - "infusion.expired" (HIGH if running, else WARNING): past expires_at and not ended.
Thresholds are Django settings: INFUSION_HYSTERESIS_S, INFUSION_NEAR_EMPTY_MIN, INFUSION_NOT_STARTED_MIN,
INFUSION_DIRECTORY_TTL_S.

Handlers run in the pipeline's committer thread and the tick in the periodic runner's: one lock guards the
in-memory state (RuleState); everything durable is in the database, so a restart loses only timers.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from alerts.models import Alert
from alerts.services import alert_condition_clear, alert_raise
from floorplans.models import Zone
from infusion.bags import Place, alert_key, bag_alarm_record, bag_infused_ml, bag_location_changed
from infusion.models import InfusionBag, Patient
from tracking.models import ZonePresence
from tracking.pipeline.events import ZoneEntered, ZoneExited, subscribe

logger = logging.getLogger(__name__)

TICK_S = 5.0
WRONG_PATIENT, LEFT_WARD = "infusion.wrong_patient", "infusion.left_ward"
NEAR_EMPTY, COMPLETE = "infusion.near_empty", "infusion.complete"
NOT_STARTED, EXPIRED = "infusion.not_started", "infusion.expired"
TIME_KINDS = (NEAR_EMPTY, COMPLETE, NOT_STARTED, EXPIRED)
WARNING, HIGH = Alert.Severity.WARNING.value, Alert.Severity.HIGH.value


def hysteresis_s() -> float:
    return float(getattr(settings, "INFUSION_HYSTERESIS_S", 20.0))


def near_empty_min() -> float:
    return float(getattr(settings, "INFUSION_NEAR_EMPTY_MIN", 15.0))


def not_started_min() -> float:
    return float(getattr(settings, "INFUSION_NOT_STARTED_MIN", 30.0))


def directory_ttl_s() -> float:
    return float(getattr(settings, "INFUSION_DIRECTORY_TTL_S", 5.0))


# --- pure: classification and hysteresis ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    pk: int
    kind: str
    ward_id: int | None  # the zone itself for a ward
    floor_id: int
    name: str
    beds: tuple[int, ...] = ()  # for a room or bay: the bed zones in it


@dataclass(frozen=True, slots=True)
class BagInfo:
    bag_id: int
    tag_id: str
    status: str
    ward_id: int | None
    bed_id: int | None  # the patient's bed now
    patient_id: int
    label: str  # "heparin · Jane Doe (MRN1)"


def place_of(zone: ZoneInfo | None, bag: BagInfo, *, occupied: dict[int, int]) -> Place:
    """Where `zone` is for this bag. occupied: bed zone pk -> admitted patient pk.

    Bed zones need bed-level location (an RFID antenna or a beacon at the bed). With room-level location
    (BLE places a tag in a room, not on one bed of it), a room counts as the bed of the one patient admitted
    in it: the room holding the bag's bed and no other patient is its own bed; a room holding only other
    patients is another patient's bed. A shared room with the bag's patient and others stays ambiguous
    (on the ward): no alarm on a guess."""
    if zone is None:
        return Place.UNKNOWN
    if zone.pk == bag.bed_id:
        return Place.OWN_BED
    if zone.ward_id is None or zone.ward_id != bag.ward_id:
        return Place.OFF_WARD
    if zone.kind == Zone.Kind.BED and occupied.get(zone.pk, bag.patient_id) != bag.patient_id:
        return Place.OTHER_BED
    patients = {occupied[bed] for bed in zone.beds if bed in occupied}
    if patients == {bag.patient_id} and bag.bed_id in zone.beds:
        return Place.OWN_BED
    if patients and bag.patient_id not in patients:
        return Place.OTHER_BED
    return Place.WARD


@dataclass(frozen=True, slots=True)
class Settled:
    previous: Place | None
    place: Place
    zone_id: int | None
    since: datetime


@dataclass
class PlaceWatch:
    """Debounces one bag's place: a new place counts once it has held for hold_s (observations of the same
    place keep the timer; another place restarts it; going back to the settled place cancels it)."""

    settled: Place | None = None
    pending: Place | None = None
    pending_since: datetime | None = None
    zone_id: int | None = None  # the latest zone seen
    last_at: datetime | None = None
    alerted: set[str] = field(default_factory=set)  # location kinds this process raised and not cleared

    def observe(self, place: Place, zone_id: int | None, at: datetime) -> None:
        if self.last_at is not None and at < self.last_at:
            return  # older than what we know (a catch-up read of the database)
        self.last_at, self.zone_id = at, zone_id
        if place == self.settled:
            self.pending = self.pending_since = None
        elif place != self.pending:
            self.pending, self.pending_since = place, at

    def settle(self, now: datetime, hold_s: float) -> Settled | None:
        if self.pending is None or self.pending_since is None:
            return None
        if (now - self.pending_since).total_seconds() < hold_s:
            return None
        done = Settled(self.settled, self.pending, self.zone_id, self.pending_since)
        self.settled, self.pending, self.pending_since = self.pending, None, None
        return done


# --- state -----------------------------------------------------------------------------------------------


@dataclass
class RuleState:
    bags: dict[str, BagInfo] = field(default_factory=dict)  # tag_id -> active bag
    zones: dict[int, ZoneInfo] = field(default_factory=dict)
    occupied: dict[int, int] = field(default_factory=dict)  # bed zone pk -> admitted patient pk
    watches: dict[int, PlaceWatch] = field(default_factory=dict)  # bag id -> watch
    raised: set[str] | None = None  # time-rule alert keys open with an active condition (None: not loaded)
    loaded_at: float = float("-inf")  # time.monotonic() of the last directory load
    lock: threading.RLock = field(default_factory=threading.RLock)

    def refresh(self, *, force: bool = False) -> None:
        """Reload bags, beds and zones when older than the TTL (3 queries; the zones only when unknown)."""
        if not force and time.monotonic() - self.loaded_at < directory_ttl_s():
            return
        rows = InfusionBag.objects.filter(status__in=InfusionBag.ACTIVE, tracked_object__tag__isnull=False)
        self.bags = {
            tag_id: BagInfo(pk, tag_id, status, ward_id or patient_ward, bed_id, patient_id,
                            f"{drug} · {given} {family} ({mrn})")
            for pk, tag_id, status, ward_id, patient_ward, bed_id, patient_id, drug, given, family, mrn in
            rows.values_list("pk", "tracked_object__tag__tag_id", "status", "ward_id", "patient__ward_id",
                             "patient__bed_id", "patient_id", "drug", "patient__given_name", "patient__family_name",
                             "patient__mrn")
        }
        self.occupied = dict(Patient.objects.filter(discharged_at__isnull=True, bed__isnull=False)
                             .values_list("bed_id", "pk"))
        rows_z = list(Zone.objects.values_list("pk", "kind", "ward_id", "floor_id", "name", "parent_id"))
        beds: dict[int, list[int]] = {}
        for pk, kind, _, _, _, parent_id in rows_z:
            if kind == Zone.Kind.BED and parent_id is not None:
                beds.setdefault(parent_id, []).append(pk)
        self.zones = {pk: ZoneInfo(pk, kind, pk if kind == Zone.Kind.WARD else ward_id, floor_id, name,
                                   tuple(beds.get(pk, ())))
                      for pk, kind, ward_id, floor_id, name, _ in rows_z}
        live = {b.bag_id for b in self.bags.values()}
        self.watches = {pk: w for pk, w in self.watches.items() if pk in live}
        self.loaded_at = time.monotonic()

    def watch(self, bag_id: int) -> PlaceWatch:
        return self.watches.setdefault(bag_id, PlaceWatch())


STATE = RuleState()


def reset() -> None:
    """Forget everything in memory (tests; a new process starts so)."""
    global STATE
    STATE = RuleState()


# --- zone events (pipeline committer thread) ------------------------------------------------------------


def on_zone_entered(event: ZoneEntered) -> None:
    _observe(event.tag_id, event.zone_id, event.at)


def on_zone_exited(event: ZoneExited) -> None:
    state = STATE
    with state.lock:
        state.refresh()
        bag = state.bags.get(event.tag_id)
        watch = state.watches.get(bag.bag_id) if bag else None
        if watch is not None and watch.zone_id == event.zone_id:  # left it without entering another (yet)
            _observe(event.tag_id, None, event.at)


def _observe(tag_id: str, zone_id: int | None, at: datetime) -> None:
    state = STATE
    with state.lock:
        state.refresh()
        bag = state.bags.get(tag_id)
        if bag is None:
            return  # not an active bag: the common case, a dict miss
        zone = state.zones.get(zone_id) if zone_id is not None else None
        if zone_id is not None and zone is None:  # a zone made after the last load
            state.refresh(force=True)
            zone = state.zones.get(zone_id)
        state.watch(bag.bag_id).observe(place_of(zone, bag, occupied=state.occupied), zone_id, at)
        _settle(state, bag, at)


# --- the periodic tick ----------------------------------------------------------------------------------


def infusion_tick(now: datetime) -> int:
    """Settle places, catch up with the database, raise/clear time alerts. Returns alerts raised or cleared."""
    state = STATE
    with state.lock:
        state.refresh()
        _catch_up(state)
        changed = sum(_settle(state, bag, now) for bag in list(state.bags.values()))
        changed += _time_rules(state, now)
    return changed


def _catch_up(state: RuleState) -> None:
    """Observe each active bag's open zone stay (events this process missed: a restart, another process)."""
    by_pk = {b.bag_id: b for b in state.bags.values()}
    tags = {b.tag_id: b for b in by_pk.values()}
    stays = ZonePresence.objects.filter(tag__tag_id__in=list(tags), exited_at__isnull=True).order_by("entered_at")
    for tag_id, zone_id, entered_at in stays.values_list("tag__tag_id", "zone_id", "entered_at"):
        bag = tags[tag_id]
        watch = state.watch(bag.bag_id)
        if watch.last_at is None or (watch.zone_id != zone_id and entered_at > watch.last_at):
            watch.observe(place_of(state.zones.get(zone_id), bag, occupied=state.occupied), zone_id, entered_at)


def _settle(state: RuleState, bag: BagInfo, now: datetime) -> int:
    """Apply a place that has held long enough; keep the location alerts in line with the settled place."""
    watch = state.watches.get(bag.bag_id)
    if watch is None:
        return 0
    settled = watch.settle(now, hysteresis_s())
    if settled is not None:
        zone = state.zones.get(settled.zone_id) if settled.zone_id is not None else None
        updated = bag_location_changed(bag_id=bag.bag_id, place=settled.place, previous=settled.previous,
                                       zone_id=settled.zone_id, floor_id=zone.floor_id if zone else None,
                                       at=settled.since)
        if updated.status != bag.status:
            state.bags[bag.tag_id] = bag = _with_status(bag, updated.status)
    return _location_alerts(bag, watch, forced=settled is not None, now=now)


def _location_alerts(bag: BagInfo, watch: PlaceWatch, *, forced: bool, now: datetime) -> int:
    """Raise what the settled place calls for (once), clear what it ends. forced: the place just settled,
    so clear even what this process did not raise (after a restart the alert may be open)."""
    running = bag.status in InfusionBag.RUNNING
    changed = 0
    wanted = {WRONG_PATIENT: running and watch.settled == Place.OTHER_BED,
              LEFT_WARD: running and watch.settled == Place.OFF_WARD}
    ends = {WRONG_PATIENT: watch.settled == Place.OWN_BED,
            LEFT_WARD: watch.settled is not None and watch.settled.on_ward}
    for kind in (WRONG_PATIENT, LEFT_WARD):
        if wanted[kind] and kind not in watch.alerted:
            _raise_location(bag, kind, watch, now)
            watch.alerted.add(kind)
            changed += 1
        elif ends[kind] and (kind in watch.alerted or forced):
            if alert_condition_clear(key=alert_key(kind, bag.bag_id), at=now, note="back in place") is not None:
                bag_alarm_record(bag_id=bag.bag_id, kind=kind, raised=False, at=now, zone_id=watch.zone_id)
                changed += 1
            watch.alerted.discard(kind)
    return changed


def _raise_location(bag: BagInfo, kind: str, watch: PlaceWatch, now: datetime) -> None:
    zone = STATE.zones.get(watch.zone_id) if watch.zone_id is not None else None
    where = zone.name if zone else "an unknown place"
    if kind == WRONG_PATIENT:
        title = f"Wrong patient: {bag.label} is at {where}"
        message = "The infusing bag is at another patient's bed. Check the line and the patient now."
    else:
        title = f"Infusing bag left the ward: {bag.label} is at {where}"
        message = "An infusing bag was seen outside its ward. Find the patient and check the infusion."
    alert_raise(kind=kind, severity=HIGH, key=alert_key(kind, bag.bag_id), title=title, message=message,
                subject_type=Alert.Subject.BAG, subject_id=str(bag.bag_id), subject_label=bag.label,
                audience="nurses", ward_id=bag.ward_id, zone_id=zone.pk if zone else None,
                floor_id=zone.floor_id if zone else None, at=now, data={"bag_id": bag.bag_id, "zone_id": watch.zone_id})
    bag_alarm_record(bag_id=bag.bag_id, kind=kind, raised=True, at=now, zone_id=watch.zone_id, note=title)


# --- time rules -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    kind: str
    severity: int
    title: str
    message: str


def bag_conditions(bag: InfusionBag, now: datetime) -> list[Condition]:
    """The time conditions this bag is in at `now` (pure given the bag row)."""
    out: list[Condition] = []
    name = f"{bag.drug} for {bag.patient.given_name} {bag.patient.family_name}"
    running = bag.status in InfusionBag.RUNNING
    if running and bag.rate_ml_h:
        left_ml = bag.volume_ml - bag_infused_ml(bag, now)
        if left_ml <= 1e-6:
            out.append(Condition(COMPLETE, HIGH, f"Infusion complete: {name}",
                                 f"{bag.volume_ml:g} mL infused. Stop the pump and complete the bag."))
        elif left_ml / bag.rate_ml_h * 60.0 <= near_empty_min():
            minutes = left_ml / bag.rate_ml_h * 60.0
            out.append(Condition(NEAR_EMPTY, WARNING, f"Near empty ({minutes:.0f} min left): {name}",
                                 f"{left_ml:.0f} mL left at {bag.rate_ml_h:g} mL/h."))
    if (bag.status == InfusionBag.Status.AT_BEDSIDE and bag.arrived_bedside_at is not None
            and now - bag.arrived_bedside_at >= timedelta(minutes=not_started_min())):
        waited = (now - bag.arrived_bedside_at).total_seconds() / 60.0
        out.append(Condition(NOT_STARTED, WARNING, f"Not started after {waited:.0f} min at the bedside: {name}",
                             "The bag is at the bedside but the infusion has not been started."))
    if bag.status in InfusionBag.ACTIVE and bag.expires_at <= now:
        out.append(Condition(EXPIRED, HIGH if running else WARNING, f"Expired bag: {name}",
                             f"The bag expired at {bag.expires_at:%Y-%m-%d %H:%M} UTC (lot {bag.lot or '?'})."))
    return out


def _time_rules(state: RuleState, now: datetime) -> int:
    if state.raised is None:  # after a start: what is already open (and still active) is not raised again
        state.raised = set(Alert.objects.filter(kind__in=TIME_KINDS, state__in=Alert.OPEN_STATES,
                                                condition_active=True).values_list("key", flat=True))
    bags = InfusionBag.objects.filter(status__in=InfusionBag.ACTIVE).select_related("patient")
    wanted: dict[str, tuple[InfusionBag, Condition]] = {}
    for bag in bags:
        for condition in bag_conditions(bag, now):
            wanted[alert_key(condition.kind, bag.pk)] = (bag, condition)
    changed = 0
    for key, (bag, condition) in wanted.items():
        if key not in state.raised:
            _raise_time(bag, condition, key, now)
            state.raised.add(key)
            changed += 1
    for key in sorted(state.raised - set(wanted)):
        kind, _, bag_part = key.partition(":")
        superseded = kind == NEAR_EMPTY and f"{COMPLETE}:{bag_part}" in wanted  # near empty, now empty
        alert_condition_clear(key=key, at=now, note="infusion complete" if superseded else "condition over",
                              resolve=superseded)
        state.raised.discard(key)
        changed += 1
    return changed


def _raise_time(bag: InfusionBag, condition: Condition, key: str, now: datetime) -> None:
    label = f"{bag.drug} · {bag.patient.given_name} {bag.patient.family_name} ({bag.patient.mrn})"
    bed_id = bag.patient.bed_id
    alert_raise(kind=condition.kind, severity=condition.severity, key=key, title=condition.title,
                message=condition.message, subject_type=Alert.Subject.BAG, subject_id=str(bag.pk),
                subject_label=label, audience="nurses", ward_id=bag.ward_id, zone_id=bed_id, at=now,
                data={"bag_id": bag.pk})
    bag_alarm_record(bag_id=bag.pk, kind=condition.kind, raised=True, at=now, zone_id=bed_id, note=condition.title)


def _with_status(bag: BagInfo, status: str) -> BagInfo:
    return BagInfo(bag.bag_id, bag.tag_id, status, bag.ward_id, bag.bed_id, bag.patient_id, bag.label)


def subscribe_all() -> None:
    """Wire the rules to the pipeline's events and the alerts' periodic runner (InfusionConfig.ready)."""
    from alerts import periodic  # at ready() time: alerts registers its own jobs in its ready()

    subscribe(ZoneEntered, on_zone_entered)
    subscribe(ZoneExited, on_zone_exited)
    periodic.register("infusion", TICK_S, infusion_tick)
