"""Current locations as the browser and the API see them: a "fix" per tag (docs/realtime.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F, FloatField, Func, Q, QuerySet
from django.utils import timezone

from floorplans.models import Zone
from tracking.access import visible_only
from tracking.models import Asset, CurrentLocation

if TYPE_CHECKING:
    from tracking.access import AnyUser

SNAPSHOT_MAX_AGE = timedelta(minutes=10)  # a snapshot shows tags seen this recently


class StX(Func):
    function = "ST_X"
    output_field = FloatField()


class StY(Func):
    function = "ST_Y"
    output_field = FloatField()


def iso_utc(at: datetime) -> str:
    """2026-11-22T03:40:00.123Z: UTC, milliseconds, a Z (what every message and response carries)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# one row per location, joined in the same query: tag -> tracked object -> asset (both may be missing)
_FIX_COLUMNS: dict[str, Any] = {
    "tag_code": F("tag__tag_id"),
    "object_pk": F("tag__tracked_object__id"),
    "object_name": F("tag__tracked_object__name"),
    "object_kind": F("tag__tracked_object__kind"),
    "asset_category": F("tag__tracked_object__asset__category"),
    "x": StX("position"),
    "y": StY("position"),
}
_FIX_FIELDS = ("accuracy_m", "zone_id", "stationary", "seen_at")


def fix_rows(locations: QuerySet[CurrentLocation]) -> QuerySet[CurrentLocation, Any]:
    """The columns a fix needs, as dicts from one query."""
    rows: QuerySet[CurrentLocation, Any] = locations.values(*_FIX_FIELDS, "floor_id", **_FIX_COLUMNS)
    return rows


def fix_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "tag": row["tag_code"],
        "object": row["object_pk"],
        "name": row["object_name"] or "",
        "kind": row["object_kind"] or "",
        "category": row["asset_category"] or "",
        "x_m": round(row["x"], 2),
        "y_m": round(row["y"], 2),
        "accuracy_m": round(row["accuracy_m"], 2),
        "zone": row["zone_id"],
        "stationary": row["stationary"],
        "seen_at": iso_utc(row["seen_at"]),
    }


def floor_snapshot(*, floor_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The websocket snapshot: every tag on the floor seen in the last SNAPSHOT_MAX_AGE (one query)."""
    now = now or timezone.now()
    rows = fix_rows(
        CurrentLocation.objects.filter(floor_id=floor_id, seen_at__gte=now - SNAPSHOT_MAX_AGE).order_by("tag_id")
    )
    return {"type": "snapshot", "floor": floor_id, "at": iso_utc(now), "fixes": [fix_from_row(row) for row in rows]}


def words_match(q: str, *, prefix: str = "") -> Q:
    """Every word of `q` appears in the object's name, asset number, category (label or code) or tag id.

    `prefix` is the path from the queried model to TrackedObject ("" or "tag__tracked_object__").
    """
    match = Q()
    for word in q.lower().split():
        categories = [c.value for c in Asset.Category if word in c.label.lower() or word in c.value]
        match &= (
            Q(**{f"{prefix}name__icontains": word})
            | Q(**{f"{prefix}asset__asset_number__icontains": word})
            | Q(**{f"{prefix}asset__category__in": categories})
            | Q(**{f"{prefix}tag__tag_id__icontains": word})
        )
    return match


def locations_list(
    *, user: AnyUser, floor_id: int | None = None, zone: Zone | None = None, kind: str = "", category: str = "",
    q: str = "",
) -> QuerySet[CurrentLocation, Any]:
    """Current locations on the floors the user may watch, filtered; rows for `location_from_row`.

    A zone matches the tags assigned to it and those whose position lies inside its polygon, so a ward
    also lists the tags in its rooms and beds.
    """
    locations = visible_only(CurrentLocation.objects.all(), user=user)
    if floor_id is not None:
        locations = locations.filter(floor_id=floor_id)
    if zone is not None:
        locations = locations.filter(Q(zone=zone) | Q(floor_id=zone.floor_id, position__coveredby=zone.polygon))
    if kind:
        locations = locations.filter(tag__tracked_object__kind=kind)
    if category:
        locations = locations.filter(tag__tracked_object__asset__category=category)
    if q:
        locations = locations.filter(words_match(q, prefix="tag__tracked_object__"))
    return fix_rows(locations).annotate(zone_name=F("zone__name")).order_by("floor_id", "tag_id")


def location_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**fix_from_row(row), "floor": row["floor_id"], "zone_name": row["zone_name"] or ""}
