"""Reads for the rules pages and API: status rules, forbidden zones, and PAR levels with their live count."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from alerts.models import Alert
from tracking.access import visible_only
from tracking.assets import rules
from tracking.models import Asset, ForbiddenZone, ParLevel, StatusRule

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

STATE_LABELS = {
    rules.ParState.ZERO: "none available",
    rules.ParState.LOW: "below critical",
    rules.ParState.BELOW_TARGET: "below target",
    rules.ParState.AT_TARGET: "at PAR",
}


def status_rules_list() -> QuerySet[StatusRule]:
    return StatusRule.objects.select_related("zone", "zone__floor")


def forbidden_zones_list() -> QuerySet[ForbiddenZone]:
    return ForbiddenZone.objects.select_related("zone", "zone__floor").order_by("zone_kind", "zone__name", "pk")


def par_levels_visible(*, user: AnyUser) -> QuerySet[ParLevel]:
    """The PAR levels on the floors the user may watch."""
    rows = ParLevel.objects.select_related("zone", "zone__floor", "ward").order_by("zone__floor", "zone__name",
                                                                                  "category")
    return visible_only(rows, user=user, floor_field="zone__floor")


def par_levels_overview(levels: QuerySet[ParLevel] | list[ParLevel]) -> list[dict[str, Any]]:
    """Each level with its available count now, its state and its open alert (one count query)."""
    levels = list(levels)
    if not levels:
        return []
    wanted = {level.pk for level in levels}
    d = rules.STATE.current()
    if not wanted <= {p.pk for p in d.par}:  # saved by another process since the last load
        rules.invalidate()
        d = rules.STATE.current()
    specs = [p for p in d.par if p.pk in wanted]
    ward_of = {p.pk: p.ward_id for p in specs}  # the level's ward, else the zone's own ward
    counts = rules.par_counts_now(d, specs) if specs else {}
    alerts = dict(Alert.objects.filter(key__in=[rules.par_key(level.pk) for level in levels],
                                       state__in=Alert.OPEN_STATES).values_list("key", "pk"))
    out = []
    for level in levels:
        n = counts.get(level.pk, 0)
        state = rules.par_state(n, critical=level.critical_count, target=level.target_count)
        out.append({
            "id": level.pk, "zone": level.zone_id, "zone_name": level.zone.name, "floor": level.zone.floor_id,
            "floor_name": level.zone.floor.name, "category": level.category,
            "category_label": Asset.Category(level.category).label, "target_count": level.target_count,
            "critical_count": level.critical_count, "ward": ward_of.get(level.pk, level.ward_id),
            "ward_name": _zone_name(d, ward_of.get(level.pk, level.ward_id)), "available": n, "state": state,
            "state_label": STATE_LABELS[state], "alert": alerts.get(rules.par_key(level.pk)),
            "fill_pct": 100 if level.target_count == 0 else min(100, round(100 * n / level.target_count)),
            "critical_pct": 0 if level.target_count == 0 else round(100 * level.critical_count / level.target_count),
        })
    return out


def _zone_name(d: rules.Directory, zone_id: int | None) -> str:
    node = d.zones.get(zone_id) if zone_id is not None else None
    return node.name if node else ""
