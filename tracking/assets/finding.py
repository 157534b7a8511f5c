"""Finding equipment: what "available" means, where an asset is now, and the nearest available ones.

* `available_q()` — an Asset filter: status available, its tag active, and not standing in a forbidden
  zone (tracking.models.ForbiddenZone: that zone, or any zone of that kind, for its category or for all).
  Nearest-available and the PAR counts (tracking.assets.rules) both use it.
* `asset_places(...)` — where assets are now (floor, zone, the room around a bed, position, last seen),
  only on floors the user may watch (tracking.access).
* `assets_nearest_available(...)` — the available assets of a category nearest to a zone: PostGIS
  distance (`<->`) from the zone's centroid, the zone's floor first, then the closest levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Abs

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Zone
from floorplans.selectors import KnnDistance
from tracking.access import floor_ids_visible, visible_only
from tracking.models import Asset, CurrentLocation, ForbiddenZone
from tracking.selectors.locations import StX, StY, iso_utc

if TYPE_CHECKING:
    from tracking.access import AnyUser

NEAREST_MAX: Final = 50
_LOCATION = "tracked_object__tag__location__"
_ASSET = "tag__tracked_object__asset__"  # from a CurrentLocation
_NEAREST_ASSET = {"asset_id": "id", "asset_number": "asset_number", "category": "category", "status": "status",
                  "make": "make", "model": "model"}


def available_q() -> Q:
    """Assets that can be fetched and used now: status available, tag active, not in a forbidden zone.

    An asset never located counts as not in a forbidden zone. For an Asset queryset:
    `Asset.objects.filter(available_q(), category="infusion_pump")`.
    """
    forbidden = ForbiddenZone.objects.filter(
        Q(zone_id=OuterRef(f"{_LOCATION}zone_id")) | Q(zone_kind=OuterRef(f"{_LOCATION}zone__kind")),
        Q(category="") | Q(category=OuterRef("category")),
    )
    return Q(status=Asset.Status.AVAILABLE, tracked_object__tag__active=True) & ~Q(Exists(forbidden))


@dataclass(frozen=True, slots=True)
class AssetPlace:
    """Where an asset's tag was last located."""

    floor: int
    floor_name: str
    building_name: str
    level: int
    zone: int | None
    zone_name: str
    zone_kind: str
    room_name: str  # the zone's parent (the room around a bed), or ""
    x_m: float
    y_m: float
    accuracy_m: float
    seen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seen_at": iso_utc(self.seen_at), "x_m": round(self.x_m, 2),
                "y_m": round(self.y_m, 2), "accuracy_m": round(self.accuracy_m, 2)}


_PLACE_COLUMNS: dict[str, Any] = {
    "floor_name": F("floor__name"), "building_name": F("floor__building__name"), "level": F("floor__level"),
    "zone_name": F("zone__name"), "zone_kind": F("zone__kind"), "room_name": F("zone__parent__name"),
    "x": StX("position"), "y": StY("position"),
}


def _place(row: Mapping[str, Any]) -> AssetPlace:
    return AssetPlace(
        floor=row["floor_id"], floor_name=row["floor_name"], building_name=row["building_name"], level=row["level"],
        zone=row["zone_id"], zone_name=row["zone_name"] or "", zone_kind=row["zone_kind"] or "",
        room_name=row["room_name"] or "", x_m=row["x"], y_m=row["y"], accuracy_m=row["accuracy_m"],
        seen_at=row["seen_at"],
    )


def asset_places(*, user: AnyUser | None, asset_ids: Iterable[int]) -> dict[int, AssetPlace]:
    """asset pk -> where it is now, for the assets located on floors the user may watch (one query).
    `user` None: every floor (the management commands)."""
    rows = CurrentLocation.objects.filter(tag__tracked_object__asset__in=list(asset_ids))
    if user is not None:
        rows = visible_only(rows, user=user)
    values = rows.values("floor_id", "zone_id", "accuracy_m", "seen_at", asset_id=F("tag__tracked_object__asset__id"),
                         **_PLACE_COLUMNS)
    return {row["asset_id"]: _place(row) for row in values}


def asset_place(*, user: AnyUser | None, asset: Asset) -> AssetPlace | None:
    """Where the asset is now; None when never located or on a floor the user may not watch."""
    return asset_places(user=user, asset_ids=[asset.pk]).get(asset.pk)


def place_hidden(*, user: AnyUser, asset: Asset) -> bool:
    """Is the asset located on a floor this user may not watch (so the page says so, without the place)?"""
    visible = floor_ids_visible(user=user)
    if visible is None:
        return False
    floor_id = CurrentLocation.objects.filter(tag__tracked_object__asset=asset).values_list("floor_id", flat=True)
    return any(f not in visible for f in floor_id)


def assets_nearest_available(*, user: AnyUser, category: str, zone: Zone, limit: int = 5) -> list[dict[str, Any]]:
    """The available assets (`available_q`) of `category` nearest to the zone's centroid, in one query.

    Same floor first, by distance in floor metres (PostGIS `<->`); then the building's other floors, the
    closest levels first, each by distance from the same point in plan coordinates (a building's floors
    share one frame). Only located assets on floors the user may watch. Each item: the asset, where it is
    (`AssetPlace.as_dict`), `distance_m` and `floors_away` (0: the zone's floor).
    """
    origin = zone.polygon.centroid
    origin.srid = FLOOR_SRID
    candidates = Asset.objects.filter(available_q(), category=category).values("pk")
    rows = CurrentLocation.objects.filter(floor__building_id=zone.floor.building_id,
                                          tag__tracked_object__asset__in=candidates)
    nearest: QuerySet[CurrentLocation, Any] = (
        visible_only(rows, user=user)
        .annotate(floors_away=Abs(F("floor__level") - zone.floor.level), distance_m=KnnDistance("position", origin))
        .order_by("floors_away", "distance_m", "tag_id")
        .values("floor_id", "zone_id", "accuracy_m", "seen_at", "floors_away", "distance_m",
                tag_code=F("tag__tag_id"), **{name: F(f"{_ASSET}{field}") for name, field in _NEAREST_ASSET.items()},
                **_PLACE_COLUMNS)
    )
    return [
        {"asset": row["asset_id"], "asset_number": row["asset_number"], "category": row["category"],
         "status": row["status"], "make": row["make"], "model": row["model"], "tag": row["tag_code"],
         "place": _place(row).as_dict(), "distance_m": round(row["distance_m"], 2), "floors_away": row["floors_away"]}
        for row in nearest[: min(limit, NEAREST_MAX)]
    ]
