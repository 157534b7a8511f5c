"""Utilization over a period from the database: status changes (AssetStatusChange) and sightings (zone stays,
the last fix) of the chosen assets, turned into arrays once and handed to tracking.assets.utilization.

Per asset, the status at the start is that of its last change before the start; an asset whose first change
is later started in that change's "from" status (unknown when the change does not say); an asset with no
change at all had its current status throughout. Sightings are its tag's zone stays (an open stay lasts
until the end) and its last fix; a gap longer than `missing_after_h` counts as missing after that much.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db.models import Q
from django.utils import timezone

from tracking.assets.utilization import (
    STATE,
    STATES,
    Float,
    Int,
    UtilizationTable,
    group_seconds,
    status_seconds,
    unseen_intervals,
)
from tracking.models import Asset, AssetStatusChange, CurrentLocation, ZonePresence

NO_UNIT = "(no unit)"
MAX_PERIOD = timedelta(days=366)


@dataclass(frozen=True)
class Utilization:
    start: datetime
    end: datetime
    missing_after_h: float
    by_category: UtilizationTable
    by_unit: UtilizationTable
    by_category_unit: UtilizationTable
    per_asset: Float = field(repr=False)  # (N, S) seconds
    asset_ids: list[int] = field(default_factory=list)
    up_to_now: bool = False  # the period asked for reaches past now: it is measured up to now (end is now)

    @property
    def states(self) -> tuple[str, ...]:
        return STATES


def _table(seconds: Float, keys: Sequence[str]) -> UtilizationTable:
    labels = sorted(set(keys), key=str.casefold)
    index = {label: i for i, label in enumerate(labels)}
    group = np.array([index[k] for k in keys], dtype=np.int64)
    summed, fractions = group_seconds(seconds, group, len(labels))
    counts = np.bincount(group, minlength=len(labels)).tolist() if len(group) else [0] * len(labels)
    return UtilizationTable(labels, counts, summed, fractions)


def _initial_states(asset_rows: Sequence[Mapping[str, Any]], start: datetime) -> Int:
    ids = [int(str(r["pk"])) for r in asset_rows]
    before = dict(AssetStatusChange.objects.filter(asset_id__in=ids, at__lte=start).order_by("asset_id", "-at", "-pk")
                  .distinct("asset_id").values_list("asset_id", "to_status"))
    after = dict(AssetStatusChange.objects.filter(asset_id__in=ids, at__gt=start).order_by("asset_id", "at", "pk")
                 .distinct("asset_id").values_list("asset_id", "from_status"))
    states = []
    for row in asset_rows:
        pk = int(str(row["pk"]))
        if pk in before:
            status = before[pk]
        elif pk in after:
            status = after[pk] or "unknown"
        else:
            status = str(row["status"])
        states.append(STATE.get(status, STATE["unknown"]))
    return np.array(states, dtype=np.int64)


def _changes(ids: list[int], index: dict[int, int], start: datetime, end: datetime) -> tuple[Int, Float, Int]:
    rows = list(AssetStatusChange.objects.filter(asset_id__in=ids, at__gt=start, at__lt=end)
                .order_by("at", "pk").values_list("asset_id", "at", "to_status"))
    return (np.array([index[a] for a, _, _ in rows], dtype=np.int64),
            np.array([at.timestamp() for _, at, _ in rows], dtype=np.float64),
            np.array([STATE.get(s, STATE["unknown"]) for _, _, s in rows], dtype=np.int64))


def _sightings(tags: dict[int, int], start: datetime, end: datetime, grace: timedelta) -> tuple[Int, Float, Float]:
    """Sighting intervals (asset index, start, end) of the assets' tags: zone stays and the last fix."""
    stays = list(ZonePresence.objects.filter(tag_id__in=tags, entered_at__lt=end)
                 .filter(Q(exited_at__isnull=True) | Q(exited_at__gte=start - grace))
                 .values_list("tag_id", "entered_at", "exited_at"))
    fixes = list(CurrentLocation.objects.filter(tag_id__in=tags).values_list("tag_id", "seen_at"))
    end_s = end.timestamp()
    asset = [tags[t] for t, _, _ in stays] + [tags[t] for t, _ in fixes]
    a = [entered.timestamp() for _, entered, _ in stays] + [seen.timestamp() for _, seen in fixes]
    b = [exited.timestamp() if exited else end_s for _, _, exited in stays] + [seen.timestamp() for _, seen in fixes]
    return np.array(asset, dtype=np.int64), np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)


def utilization_compute(*, start: datetime, end: datetime, missing_after_h: float = 24.0,
                        category: str = "", department_id: int | None = None,
                        asset_ids: Sequence[int] | None = None, now: datetime | None = None) -> Utilization:
    """Utilization of every asset (optionally of one category, one unit, or these assets) over [start, end),
    measured up to `now` at the latest (a period that includes today ends at now: the rest has not happened)."""
    now = now or timezone.now()
    up_to_now = end > now
    end = min(end, now)
    if end <= start:
        raise ValueError(f"the period ends ({end:%Y-%m-%d %H:%M}) before it starts ({start:%Y-%m-%d %H:%M})")
    if end - start > MAX_PERIOD:
        raise ValueError(f"the period is {(end - start).days} days; at most {MAX_PERIOD.days}")
    if missing_after_h <= 0:
        raise ValueError(f"missing after {missing_after_h} h: must be > 0")
    assets = Asset.objects.order_by("pk")
    if category:
        assets = assets.filter(category=category)
    if department_id is not None:
        assets = assets.filter(department_id=department_id)
    if asset_ids is not None:
        assets = assets.filter(pk__in=asset_ids)
    rows = list(assets.values("pk", "category", "status", "department__name", "tracked_object__tag_id"))
    ids = [int(r["pk"]) for r in rows]
    index = {pk: i for i, pk in enumerate(ids)}
    grace = timedelta(hours=missing_after_h)
    tags = {int(r["tracked_object__tag_id"]): index[int(r["pk"])] for r in rows if r["tracked_object__tag_id"]}
    change_asset, change_t, change_state = _changes(ids, index, start, end)
    seen_asset, seen_a, seen_b = _sightings(tags, start, end, grace)
    unseen_asset, unseen_a, unseen_b = unseen_intervals(
        n_assets=len(ids), seen_asset=seen_asset, seen_start_s=seen_a, seen_end_s=seen_b,
        start_s=start.timestamp(), end_s=end.timestamp(), grace_s=grace.total_seconds())
    seconds = status_seconds(
        initial=_initial_states(rows, start), change_asset=change_asset, change_t_s=change_t,
        change_state=change_state, unseen_asset=unseen_asset, unseen_start_s=unseen_a, unseen_end_s=unseen_b,
        start_s=start.timestamp(), end_s=end.timestamp()) if ids else np.zeros((0, len(STATES)))
    labels = dict(Asset.Category.choices)
    categories = [str(labels.get(str(r["category"]), r["category"])) for r in rows]
    units = [str(r["department__name"] or NO_UNIT) for r in rows]
    return Utilization(
        start=start, end=end, missing_after_h=missing_after_h,
        by_category=_table(seconds, categories), by_unit=_table(seconds, units),
        by_category_unit=_table(seconds, [f"{c} · {u}" for c, u in zip(categories, units, strict=True)]),
        per_asset=seconds, asset_ids=ids, up_to_now=up_to_now,
    )


DEFAULT_DAYS = 7


def utilization_period(*, start: date | None, end: date | None, today: date) -> tuple[datetime, datetime]:
    """Whole UTC days: from `start` 00:00 to the day after `end` 00:00 (end included). Defaults: the end is
    today and the start DEFAULT_DAYS - 1 days before the end, so the default is the last 7 days up to now
    (utilization_compute measures a period that includes today up to now: the rest has not happened)."""
    last = end or today
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    return (datetime.combine(first, time.min, tzinfo=UTC),
            datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC))
