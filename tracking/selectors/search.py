"""Finding things: tracked objects by words, and the nearest equipment of a category to a zone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Abs

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Zone
from floorplans.selectors import KnnDistance
from tracking.access import floor_ids_visible, visible_only
from tracking.models import Asset, CurrentLocation, TrackedObject
from tracking.selectors.locations import StX, StY, iso_utc, words_match

if TYPE_CHECKING:
    from tracking.access import AnyUser

NEAREST_MAX = 50

_ITEM_COLUMNS: dict[str, Any] = {
    "object_pk": F("tag__tracked_object__id"),
    "object_name": F("tag__tracked_object__name"),
    "object_kind": F("tag__tracked_object__kind"),
    "asset_category": F("tag__tracked_object__asset__category"),
    "asset_status": F("tag__tracked_object__asset__status"),
    "tag_code": F("tag__tag_id"),
    "floor_name": F("floor__name"),
    "zone_name": F("zone__name"),
    "x": StX("position"),
    "y": StY("position"),
}


def _item(row: Mapping[str, Any]) -> dict[str, Any]:
    located = row["floor_id"] is not None
    return {
        "object": row["object_pk"],
        "name": row["object_name"] or "",
        "kind": row["object_kind"] or "",
        "category": row["asset_category"] or "",
        "tag": row["tag_code"] or "",
        "status": row["asset_status"] or "",
        "floor": row["floor_id"],
        "floor_name": row["floor_name"] or "",
        "zone": row["zone_id"],
        "zone_name": row["zone_name"] or "",
        "x_m": round(row["x"], 2) if located else None,
        "y_m": round(row["y"], 2) if located else None,
        "seen_at": iso_utc(row["seen_at"]) if located else None,
    }


def object_search(*, user: AnyUser, q: str, floor_id: int | None = None) -> QuerySet[TrackedObject, Any]:
    """Tracked objects matching every word of `q` (name, asset number, category, tag id), most recently
    seen first; rows for `search_item`. Objects located on floors the user may not watch are left out;
    objects never located are listed without a place. With `floor_id`, only objects on that floor."""
    objects = TrackedObject.objects.filter(words_match(q))
    visible = floor_ids_visible(user=user)
    if visible is not None:
        objects = objects.filter(Q(tag__location__isnull=True) | Q(tag__location__floor_id__in=sorted(visible)))
    if floor_id is not None:
        objects = objects.filter(tag__location__floor_id=floor_id)
    location = "tag__location__"
    return objects.values(
        object_pk=F("pk"), object_name=F("name"), object_kind=F("kind"), asset_category=F("asset__category"),
        asset_status=F("asset__status"), tag_code=F("tag__tag_id"), floor_id=F(f"{location}floor_id"),
        floor_name=F(f"{location}floor__name"), zone_id=F(f"{location}zone_id"), zone_name=F(f"{location}zone__name"),
        x=StX(f"{location}position"), y=StY(f"{location}position"), seen_at=F(f"{location}seen_at"),
    ).order_by(F("seen_at").desc(nulls_last=True), "object_name", "object_pk")


def search_item(row: Mapping[str, Any]) -> dict[str, Any]:
    return _item(row)


def assets_nearest(
    *, user: AnyUser, category: str, zone: Zone, available: bool = False, limit: int = 5
) -> list[dict[str, Any]]:
    """The located assets of `category` nearest to the zone's centroid, in one query.

    Same floor first, by distance in floor metres (PostGIS <->); then the building's other floors, the
    closest levels first, each by distance in plan coordinates from the same point (a building's floors
    share one frame, so the point above or below). Retired assets never count; `available` keeps only
    assets whose status is available. Only floors the user may watch. Items carry `distance_m` and
    `floors_away` (0 on the zone's floor).
    """
    origin = zone.polygon.centroid
    origin.srid = FLOOR_SRID
    level = zone.floor.level
    rows = CurrentLocation.objects.filter(
        floor__building_id=zone.floor.building_id, tag__tracked_object__asset__category=category,
    ).exclude(tag__tracked_object__asset__status=Asset.Status.RETIRED)
    if available:  # status, tag and forbidden zones: the one meaning of "available" (tracking.assets.finding)
        from tracking.assets.finding import available_q

        rows = rows.filter(tag__tracked_object__asset__in=Asset.objects.filter(available_q()).values("pk"))
    nearest = (
        visible_only(rows, user=user)
        .annotate(floors_away=Abs(F("floor__level") - level), distance_m=KnnDistance("position", origin))
        .order_by("floors_away", "distance_m", "tag_id")
        .values("floor_id", "zone_id", "seen_at", "floors_away", "distance_m", **_ITEM_COLUMNS)
    )[: min(limit, NEAREST_MAX)]
    return [{**_item(row), "distance_m": round(row["distance_m"], 2), "floors_away": row["floors_away"]}
            for row in nearest]
