"""Asset rules on the live pipeline: status from place, PAR levels and anti-theft.

Status from place (StatusRule rows, editable on /assets/rules/). A rule matches a zone when its `zone` is the
zone or one of its ancestors (parent chain, then ward), or its `zone_kind` is the kind of one of them; and
the asset when its category matches (blank: any) and its status is one of `from_statuses` (empty: any but out
for repair and retired). Of the matching rules whose dwell has passed, the highest priority wins (then the
nearest zone, then a zone rule before a kind rule). The dwell counts from the later of the stay's entry and the
asset's last status change: "in a patient room for 10 min while available". A rule with after_s 0 applies on
the ZoneEntered event; the others on `asset_rules_tick` (every RULES_TICK_S, from the open zone stays in the
database, so a restart loses nothing). A status a person set during the stay is left alone for the rest of it.
Every change goes through tracking.assets.status.asset_status_set (source "rule").

PAR levels (ParLevel rows). The available assets (tracking.assets.finding.available_q) of the category whose
current location is in the zone or a zone inside it are counted on `par_tick` (every PAR_TICK_S), after each
status change of an asset of the category (asset_status_set) and on each zone change of one. Below critical:
"assets.par_low" (WARNING, HIGH at zero) to the owning ward's nurses; back at critical the condition clears;
back at target the alert resolves itself. The state lives in the alerts table, so two processes agree.

Anti-theft. An asset entering a zone forbidden for its category (ForbiddenZone: the zone or an ancestor, or
a zone kind), or crossing an exit door outward (Door.is_exit leads from its from_zone, inside, to its
to_zone: PortalCrossed direction "in"), raises "assets.exit" (HIGH) to security with the last seen place and
the last EXIT_TRAIL_MIN minutes of trail. Crossing an exit door back in clears the condition.

Handlers run in the pipeline's writing thread: a non-asset tag costs one dict lookup. The directory (asset tags,
zones, rules, PAR levels, forbidden zones, exit doors) is reloaded when a row of those tables is saved or
deleted in this process, and every DIRECTORY_TTL_S for changes made by other processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.db.models import Max
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from alerts.audiences import NURSES, SECURITY
from alerts.models import Alert
from alerts.services import alert_condition_clear, alert_raise
from floorplans.models import Door, Floor, Zone
from tracking.assets.status import asset_status_set
from tracking.models import (
    Asset,
    AssetStatusChange,
    CurrentLocation,
    ForbiddenZone,
    LocationHistory,
    ParLevel,
    StatusRule,
    Tag,
    TrackedObject,
    ZonePresence,
)
from tracking.pipeline.events import PortalCrossed, ZoneEntered, ZoneExited, subscribe

logger = logging.getLogger(__name__)

PAR_LOW: Final = "assets.par_low"
EXIT: Final = "assets.exit"
WARNING, HIGH = Alert.Severity.WARNING.value, Alert.Severity.HIGH.value
ONLY_BY_PEOPLE: Final = frozenset({Asset.Status.OUT_FOR_REPAIR, Asset.Status.RETIRED})  # rules never leave these
PERSON_SOURCES: Final = (AssetStatusChange.Source.MANUAL, AssetStatusChange.Source.IMPORT,
                         AssetStatusChange.Source.AUDIT)
TRAIL_MAX_POINTS: Final = 120


def rules_tick_s() -> float:
    return float(getattr(settings, "ASSET_RULES_TICK_S", 10.0))


def par_tick_s() -> float:
    return float(getattr(settings, "ASSET_PAR_TICK_S", 30.0))


def directory_ttl_s() -> float:
    return float(getattr(settings, "ASSET_DIRECTORY_TTL_S", 30.0))


def exit_trail_min() -> float:
    return float(getattr(settings, "ASSET_EXIT_TRAIL_MIN", 10.0))


def par_key(par_id: int) -> str:
    return f"{PAR_LOW}:{par_id}"


def exit_key(asset_id: int) -> str:
    return f"{EXIT}:{asset_id}"


# --- what the rules know (plain values, built from the database by Directory.load) ----------------------


@dataclass(frozen=True, slots=True)
class ZoneNode:
    pk: int
    kind: str
    name: str
    floor_id: int
    chain: tuple[int, ...]  # this zone, its parents outwards, then its ward (if not among them)


@dataclass(frozen=True, slots=True)
class AssetRef:
    asset_id: int
    tag_pk: int
    tag_id: str
    asset_number: str
    category: str
    label: str  # "infusion pump IP-1"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    pk: int
    name: str
    zone_id: int | None
    zone_kind: str
    category: str
    from_statuses: frozenset[str]
    status: str
    after_s: int
    priority: int

    def allows(self, category: str, status: str) -> bool:
        if self.category and self.category != category:
            return False
        if self.from_statuses:
            return status in self.from_statuses and status != self.status
        return status not in ONLY_BY_PEOPLE and status != self.status

    def statuses_from(self) -> frozenset[str]:
        """The statuses this rule may change (for asset_status_set's only_from)."""
        if self.from_statuses:
            return self.from_statuses - {self.status}
        return frozenset(Asset.Status.values) - ONLY_BY_PEOPLE - {self.status}


@dataclass(frozen=True, slots=True)
class ForbiddenSpec:
    pk: int
    zone_id: int | None
    zone_kind: str
    category: str


@dataclass(frozen=True, slots=True)
class ParSpec:
    pk: int
    zone_id: int
    category: str
    target: int
    critical: int
    ward_id: int | None
    label: str  # "infusion pumps in 4W equipment store"


@dataclass(frozen=True, slots=True)
class ExitDoor:
    pk: int
    name: str
    floor_id: int


# --- pure decisions ---------------------------------------------------------------------------------------


def chain_of(pk: int, parent: Mapping[int, int | None], ward: Mapping[int, int | None]) -> tuple[int, ...]:
    """The zone, its parents outwards (a cycle in bad data stops the walk), then its ward if not met."""
    chain: list[int] = []
    at: int | None = pk
    while at is not None and at not in chain and at in parent:
        chain.append(at)
        at = parent[at]
    w = ward.get(pk)
    if w is not None and w not in chain:
        chain.append(w)
    return tuple(chain)


def _level(zone_id: int | None, zone_kind: str, chain: Sequence[ZoneNode]) -> int | None:
    """How far out along the chain a (zone, kind) selector first matches (0: the zone itself), or None."""
    for level, node in enumerate(chain):
        if (zone_id is not None and zone_id == node.pk) or (zone_id is None and zone_kind == node.kind):
            return level
    return None


def rules_matching(rules: Iterable[RuleSpec], chain: Sequence[ZoneNode], *, category: str,
                   status: str) -> list[RuleSpec]:
    """The rules that apply to an asset of `category` in `status` somewhere in `chain`, best first:
    higher priority, then the nearer zone, then a zone rule before a kind rule, then the older rule."""
    ranked: list[tuple[tuple[int, int, int, int], RuleSpec]] = []
    for rule in rules:
        level = _level(rule.zone_id, rule.zone_kind, chain)
        if level is not None and rule.allows(category, status):
            ranked.append(((-rule.priority, level, 0 if rule.zone_id is not None else 1, rule.pk), rule))
    return [rule for _, rule in sorted(ranked, key=lambda item: item[0])]


def dwell_due_at(rule: RuleSpec, *, entered_at: datetime, status_since: datetime | None) -> datetime:
    """When the rule's dwell is over: after_s from the later of the entry and the last status change."""
    since = entered_at if status_since is None else max(entered_at, status_since)
    return since + timedelta(seconds=rule.after_s)


def forbidden_match(forbidden: Iterable[ForbiddenSpec], chain: Sequence[ZoneNode], *,
                    category: str) -> ForbiddenSpec | None:
    for spec in forbidden:
        if (not spec.category or spec.category == category) and _level(spec.zone_id, spec.zone_kind, chain) is not None:
            return spec
    return None


class ParState:
    ZERO, LOW, BELOW_TARGET, AT_TARGET = "zero", "low", "below_target", "at_target"


def par_state(count: int, *, critical: int, target: int) -> str:
    """zero / low (below critical) / below_target / at_target. A critical of 0 never alarms."""
    if count < critical:
        return ParState.ZERO if count == 0 else ParState.LOW
    return ParState.AT_TARGET if count >= target else ParState.BELOW_TARGET


def par_counts(pars: Iterable[ParSpec], rows: Iterable[tuple[str, int]],
               within: Mapping[int, frozenset[int]]) -> dict[int, int]:
    """Available assets per PAR level. rows: (category, zone pk) of each available located asset;
    within: PAR zone pk -> the zone and every zone inside it."""
    per = Counter(rows)
    return {p.pk: sum(n for (category, zone), n in per.items() if category == p.category and zone in within[p.zone_id])
            for p in pars}


def plural(category: str) -> str:
    label = str(Asset.Category(category).label) if category in Asset.Category.values else category
    return "other equipment" if category == Asset.Category.OTHER else f"{label}s"


# --- the directory ----------------------------------------------------------------------------------------


@dataclass
class Directory:
    assets: dict[int, AssetRef] = field(default_factory=dict)  # Tag pk -> asset
    zones: dict[int, ZoneNode] = field(default_factory=dict)
    floors: dict[int, str] = field(default_factory=dict)
    rules: tuple[RuleSpec, ...] = ()
    forbidden: tuple[ForbiddenSpec, ...] = ()
    par: tuple[ParSpec, ...] = ()
    within: dict[int, frozenset[int]] = field(default_factory=dict)  # PAR zone pk -> zones inside it
    exit_doors: dict[int, ExitDoor] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Directory:
        d = cls()
        rows = list(Zone.objects.values_list("pk", "kind", "name", "floor_id", "parent_id", "ward_id"))
        parent = {pk: parent_id for pk, _, _, _, parent_id, _ in rows}
        ward = {pk: ward_id for pk, *_, ward_id in rows}
        d.zones = {pk: ZoneNode(pk, kind, name, floor_id, chain_of(pk, parent, ward))
                   for pk, kind, name, floor_id, _, _ in rows}
        d.floors = dict(Floor.objects.values_list("pk", "name"))
        assets = Asset.objects.filter(tracked_object__tag__isnull=False)
        d.assets = {tag_pk: AssetRef(pk, tag_pk, tag_id, number, category, name)
                    for pk, tag_pk, tag_id, number, category, name in assets.values_list(
                        "pk", "tracked_object__tag__id", "tracked_object__tag__tag_id", "asset_number", "category",
                        "tracked_object__name")}
        d.rules = tuple(RuleSpec(r.pk, r.name, r.zone_id, r.zone_kind, r.category,
                                 frozenset(str(s) for s in r.from_statuses or ()), r.status, r.after_s, r.priority)
                        for r in StatusRule.objects.filter(enabled=True))
        d.forbidden = tuple(ForbiddenSpec(f.pk, f.zone_id, f.zone_kind, f.category)
                            for f in ForbiddenZone.objects.order_by("pk"))
        par = []
        for p in ParLevel.objects.order_by("pk"):
            node = d.zones.get(p.zone_id)
            ward_id = p.ward_id if p.ward_id is not None else _ward_of(node, d.zones)
            par.append(ParSpec(p.pk, p.zone_id, p.category, p.target_count, p.critical_count, ward_id,
                               f"{plural(p.category)} in {node.name if node else p.zone_id}"))
        d.par = tuple(par)
        d.within = {p.zone_id: frozenset(z.pk for z in d.zones.values() if p.zone_id in z.chain) for p in d.par}
        exits = Door.objects.filter(is_exit=True).values_list("pk", "name", "floor_id")
        d.exit_doors = {pk: ExitDoor(pk, name, floor_id) for pk, name, floor_id in exits}
        return d

    def chain(self, zone_id: int) -> list[ZoneNode]:
        node = self.zones.get(zone_id)
        return [] if node is None else [self.zones[pk] for pk in node.chain if pk in self.zones]

    def place(self, zone_id: int | None, floor_id: int | None) -> str:
        zone = self.zones.get(zone_id) if zone_id is not None else None
        floor = self.floors.get(zone.floor_id if zone else floor_id or -1, "")
        if zone is None:
            return floor or "an unknown place"
        return f"{zone.name}, {floor}" if floor else zone.name


def _ward_of(node: ZoneNode | None, zones: Mapping[int, ZoneNode]) -> int | None:
    if node is None:
        return None
    for pk in node.chain:
        if pk in zones and zones[pk].kind == Zone.Kind.WARD:
            return pk
    return None


@dataclass
class RulesState:
    directory: Directory = field(default_factory=Directory)
    loaded_at: float = float("-inf")
    dirty: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)

    def current(self) -> Directory:
        """The directory, reloaded when a watched table changed here or the TTL passed."""
        if self.dirty or time.monotonic() - self.loaded_at >= directory_ttl_s():
            with self.lock:
                if self.dirty or time.monotonic() - self.loaded_at >= directory_ttl_s():
                    self.dirty = False  # before the load: a change during it marks it dirty again
                    self.directory = Directory.load()
                    self.loaded_at = time.monotonic()
        return self.directory


STATE = RulesState()
WATCHED: Final = (Asset, Tag, TrackedObject, Zone, Floor, Door, StatusRule, ParLevel, ForbiddenZone)


# the fields of a watched model the directory holds: a save of others only (a status change) keeps it
DIRECTORY_FIELDS: Final[dict[type, frozenset[str]]] = {
    Asset: frozenset({"tracked_object", "tracked_object_id", "asset_number", "category"}),
    Tag: frozenset({"tag_id"}),
}


def invalidate(sender: type | None = None, update_fields: Iterable[str] | None = None, **_: Any) -> None:
    """Signal receiver: a watched row changed in this process; reload before the next use."""
    held = DIRECTORY_FIELDS.get(sender) if sender is not None else None
    if held is not None and update_fields is not None and held.isdisjoint(update_fields):
        return
    STATE.dirty = True


def reset() -> None:
    """Forget everything in memory (tests; a new process starts so)."""
    global STATE
    STATE = RulesState()


# --- events (the pipeline's writing thread) ----------------------------------------------------------------


def on_zone_entered(event: ZoneEntered) -> None:
    d = STATE.current()
    asset = d.assets.get(event.tag_pk)
    if asset is None:
        return  # not an asset: the common case
    if event.zone_id not in d.zones:  # a zone made after the last load
        invalidate()
        d = STATE.current()
    chain = d.chain(event.zone_id)
    spec = forbidden_match(d.forbidden, chain, category=asset.category)
    if spec is not None:
        zone = d.zones[event.zone_id]
        exit_alert(asset, reason=f"entered {zone.name}, where {plural(asset.category)} must not go", at=event.at,
                   data={"forbidden_zone_id": spec.pk, "zone_id": event.zone_id})
    changed = _rule_on_entry(d, asset, chain, event.zone_id, event.at)
    if not changed:
        _par_near(d, asset, chain, event.at)


def on_zone_exited(event: ZoneExited) -> None:
    d = STATE.current()
    asset = d.assets.get(event.tag_pk)
    if asset is not None:
        _par_near(d, asset, d.chain(event.zone_id), event.at)


def on_portal_crossed(event: PortalCrossed) -> None:
    d = STATE.current()
    asset = d.assets.get(event.tag_pk)
    if asset is None:
        return
    door = d.exit_doors.get(event.door_id)
    if door is None:
        return
    if event.direction == "in":  # from_zone (inside) -> to_zone (outside)
        exit_alert(asset, reason=f"went out through {door.name}", at=event.at, data={"door_id": door.pk})
    else:
        alert_condition_clear(key=exit_key(asset.asset_id), at=event.at, note=f"came back in through {door.name}")


def _rule_on_entry(d: Directory, asset: AssetRef, chain: list[ZoneNode], zone_id: int, at: datetime) -> bool:
    """Apply the best rule without dwell; True if the status changed."""
    status = Asset.objects.filter(pk=asset.asset_id).values_list("status", flat=True).first()
    if status is None:
        return False
    for rule in rules_matching(d.rules, chain, category=asset.category, status=status):
        if rule.after_s == 0:
            return _apply(rule, asset.asset_id, zone_id, at)
    return False


def _apply(rule: RuleSpec, asset_id: int, zone_id: int, at: datetime) -> bool:
    change = asset_status_set(asset_id=asset_id, status=rule.status, source=AssetStatusChange.Source.RULE,
                              rule_id=rule.pk, zone_id=zone_id, at=at, only_from=rule.statuses_from())
    return change is not None


def _par_near(d: Directory, asset: AssetRef, chain: list[ZoneNode], at: datetime) -> None:
    """A zone change of an asset: re-count the PAR levels of its category around that zone."""
    around = {node.pk for node in chain}
    ids = {p.pk for p in d.par if p.category == asset.category and p.zone_id in around}
    if ids:
        par_check(par_ids=ids, now=at)


# --- the dwell tick ---------------------------------------------------------------------------------------


def asset_rules_tick(now: datetime) -> int:
    """Apply the rules whose dwell has passed to assets in open zone stays; returns the status changes."""
    d = STATE.current()
    if not d.rules:
        return 0
    stays = (ZonePresence.objects.filter(exited_at__isnull=True, entered_at__lte=now,
                                         tag__tracked_object__asset__isnull=False)
             .order_by("tag_id", "-entered_at")
             .values_list("tag_id", "zone_id", "entered_at", "tag__tracked_object__asset__status",
                          "tag__tracked_object__asset__status_changed_at"))
    due: list[tuple[AssetRef, RuleSpec, int, datetime, datetime]] = []  # asset, rule, zone, entered, due at
    seen: set[int] = set()
    for tag_pk, zone_id, entered_at, status, status_since in stays:
        asset = d.assets.get(tag_pk)
        if asset is None or tag_pk in seen:
            continue
        seen.add(tag_pk)  # the latest stay of the tag (its smallest zone)
        for rule in rules_matching(d.rules, d.chain(zone_id), category=asset.category, status=status):
            due_at = dwell_due_at(rule, entered_at=entered_at, status_since=status_since)
            if due_at <= now:
                due.append((asset, rule, zone_id, entered_at, due_at))
                break
    if not due:
        return 0
    by_people = AssetStatusChange.objects.filter(asset_id__in={a.asset_id for a, *_ in due}, source__in=PERSON_SOURCES)
    decided = dict(by_people.values("asset_id").annotate(last=Max("at")).values_list("asset_id", "last"))
    changed = 0
    for asset, rule, zone_id, entered_at, due_at in due:
        person_at = decided.get(asset.asset_id)
        if person_at is not None and person_at >= entered_at:
            continue  # a person set the status during this stay: theirs stands
        changed += _apply(rule, asset.asset_id, zone_id, due_at)
    return changed


# --- PAR levels ---------------------------------------------------------------------------------------------


def par_check(*, category: str | None = None, par_ids: Iterable[int] | None = None,
              now: datetime | None = None) -> int:
    """Count the available assets of the PAR levels (all, one category's, or `par_ids`) and raise or clear
    their alerts. Returns how many alerts were raised, updated or cleared."""
    d = STATE.current()
    wanted = None if par_ids is None else set(par_ids)
    pars = [p for p in d.par if (category is None or p.category == category) and (wanted is None or p.pk in wanted)]
    if not pars:
        return 0
    counts = par_counts_now(d, pars)
    return _par_alerts(pars, counts, now or timezone.now())


def par_counts_now(d: Directory, pars: Sequence[ParSpec]) -> dict[int, int]:
    """One query: the available assets of the levels' categories located in the levels' zones."""
    from tracking.assets.finding import available_q  # H6's definition of "available"; lazy: finding may import us

    zones = set().union(*(d.within[p.zone_id] for p in pars))
    rows = (Asset.objects.filter(available_q(), category__in={p.category for p in pars},
                                 tracked_object__tag__location__zone_id__in=zones)
            .values_list("category", "tracked_object__tag__location__zone_id"))
    return par_counts(pars, rows, d.within)


def par_tick(now: datetime) -> int:
    return par_check(now=now)


def _par_alerts(pars: Sequence[ParSpec], counts: Mapping[int, int], now: datetime) -> int:
    open_alerts = {a.key: a for a in Alert.objects.filter(key__in=[par_key(p.pk) for p in pars],
                                                           state__in=Alert.OPEN_STATES)}
    changed = 0
    for p in pars:
        n, key = counts.get(p.pk, 0), par_key(p.pk)
        state = par_state(n, critical=p.critical, target=p.target)
        alert = open_alerts.get(key)
        if state in (ParState.ZERO, ParState.LOW):
            severity = HIGH if state == ParState.ZERO else WARNING
            if (alert is None or not alert.condition_active or alert.severity < severity
                    or alert.data.get("count") != n):
                _raise_par(p, n, severity, now)
                changed += 1
        elif alert is not None:
            if state == ParState.AT_TARGET:
                alert_condition_clear(key=key, at=now, resolve=True, note=f"back at PAR: {n} of {p.target}")
                changed += 1
            elif alert.condition_active:
                alert_condition_clear(key=key, at=now, note=f"{n} available, at or above critical ({p.critical})")
                changed += 1
    return changed


def _raise_par(p: ParSpec, n: int, severity: int, now: datetime) -> None:
    what = "none" if n == 0 else f"only {n}"
    alert_raise(
        kind=PAR_LOW, severity=severity, key=par_key(p.pk), audience=NURSES, ward_id=p.ward_id, zone_id=p.zone_id,
        title=f"Below PAR: {what} available {p.label} (critical {p.critical}, target {p.target})",
        message=f"{n} of {p.target} available {p.label}. Bring back or ask biomedical engineering to restock.",
        subject_type=Alert.Subject.ASSET, subject_id=f"par:{p.pk}", subject_label=p.label, at=now,
        data={"par_level_id": p.pk, "count": n, "critical": p.critical, "target": p.target,
              "category": p.category, "zone_id": p.zone_id},
    )


# --- anti-theft ---------------------------------------------------------------------------------------------


def exit_alert(asset: AssetRef, *, reason: str, at: datetime, data: dict[str, Any] | None = None) -> Alert:
    """Raise (or update) the asset's exit alert to security with its last seen place and recent trail."""
    d = STATE.current()
    last = (CurrentLocation.objects.filter(tag_id=asset.tag_pk)
            .values("zone_id", "floor_id", "position", "seen_at").first())
    since = at - timedelta(minutes=exit_trail_min())
    points = list(LocationHistory.objects.filter(tag_id=asset.tag_pk, seen_at__gte=since)
                  .order_by("-seen_at").values("seen_at", "position", "zone_id", "floor_id")[:TRAIL_MAX_POINTS])
    trail = [{"at": p["seen_at"].isoformat(), "x_m": round(p["position"].x, 2), "y_m": round(p["position"].y, 2),
              "zone_id": p["zone_id"], "floor_id": p["floor_id"], "place": d.place(p["zone_id"], p["floor_id"])}
             for p in reversed(points)]
    last_seen: dict[str, Any] = {}
    where = "an unknown place"
    if last is not None:
        where = d.place(last["zone_id"], last["floor_id"])
        last_seen = {"zone_id": last["zone_id"], "floor_id": last["floor_id"], "place": where,
                     "x_m": round(last["position"].x, 2), "y_m": round(last["position"].y, 2),
                     "at": last["seen_at"].isoformat()}
    return alert_raise(
        kind=EXIT, severity=HIGH, key=exit_key(asset.asset_id), audience=SECURITY,
        title=f"Asset leaving: {asset.label} {reason}",
        message=f"Last seen in {where}. The trail of its last {exit_trail_min():g} minutes is in the alert.",
        subject_type=Alert.Subject.ASSET, subject_id=str(asset.asset_id), subject_label=asset.label,
        floor_id=last["floor_id"] if last else None, zone_id=last["zone_id"] if last else None,
        x_m=last_seen.get("x_m"), y_m=last_seen.get("y_m"), at=at,
        data={"asset_id": asset.asset_id, "asset_number": asset.asset_number, "category": asset.category,
              "tag_id": asset.tag_id, "reason": reason, "last_seen": last_seen, "trail": trail,
              "trail_url": f"/api/tags/{asset.tag_id}/trail/", **(data or {})},
    )


# --- wiring -------------------------------------------------------------------------------------------------


def subscribe_all() -> None:
    """Wire the rules to the pipeline's events, the periodic runner and cache invalidation
    (TrackingConfig.ready)."""
    from alerts import periodic  # at ready() time

    subscribe(ZoneEntered, on_zone_entered)
    subscribe(ZoneExited, on_zone_exited)
    subscribe(PortalCrossed, on_portal_crossed)
    periodic.register("assets.rules", rules_tick_s(), asset_rules_tick)
    periodic.register("assets.par", par_tick_s(), par_tick)
    for model in WATCHED:
        post_save.connect(invalidate, sender=model, dispatch_uid=f"assets.rules.{model.__name__}.save")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"assets.rules.{model.__name__}.delete")
