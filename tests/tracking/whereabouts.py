"""Test helpers for the realtime and API tests: more floors, located tags, scope groups."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point
from django.utils import timezone

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Building, Floor, Site, Zone
from tracking.models import Asset, CurrentLocation, FloorAccess, Method, Tag
from tracking.services import asset_register, tracked_object_tag

MINUTE = timedelta(minutes=1)


def floor_above(floor: Floor, *, levels: int = 1) -> Floor:
    """Another floor of the same building, `levels` above, sharing its plan frame."""
    level = floor.level + levels
    return Floor.objects.create(building=floor.building, code=f"L{level}", level=level, name=f"Level {level}",
                                width_m=floor.width_m, height_m=floor.height_m)


def floor_elsewhere() -> Floor:
    """A floor in another building (another site, even)."""
    site = Site.objects.create(code="OTH", name="Other Hospital")
    building = Building.objects.create(site=site, code="B", name="Block B")
    return Floor.objects.create(building=building, code="G", level=0, name="Ground", width_m=40, height_m=30)


def zone(floor: Floor, code: str) -> Zone:
    return Zone.objects.get(floor=floor, code=code)


def place(
    tag_id: str, floor: Floor, x_m: float, y_m: float, *, zone: Zone | None = None, kind: str | None = "staff",
    category: str | None = None, status: str = Asset.Status.AVAILABLE, seen_at: datetime | None = None,
    name: str | None = None, accuracy_m: float = 1.234, stationary: bool = False,
) -> Tag:
    """A tag (carried by a staff badge, an asset of `category`, or nothing with kind=None) located now."""
    if category is not None:
        asset = asset_register(asset_number=f"A-{tag_id}", category=category, tag_id=tag_id, tech=Tag.Tech.BLE)
        Asset.objects.filter(pk=asset.pk).update(status=status)
        tag = Tag.objects.get(tag_id=tag_id)
    elif kind is not None:
        tracked_object_tag(kind=kind, name=name or f"{kind} {tag_id}", tag_id=tag_id, tech=Tag.Tech.BLE)
        tag = Tag.objects.get(tag_id=tag_id)
    else:
        tag = Tag.objects.create(tag_id=tag_id, tech=Tag.Tech.BLE)
    seen_at = seen_at or timezone.now() - MINUTE
    CurrentLocation.objects.update_or_create(tag=tag, defaults={
        "floor": floor, "zone": zone, "position": Point(x_m, y_m, srid=FLOOR_SRID), "accuracy_m": accuracy_m,
        "method": Method.MULTILATERATION, "stationary": stationary, "seen_at": seen_at, "updated_at": seen_at,
    })
    return tag


def scope(user: User, name: str, *, floors: tuple[Floor, ...] = (), buildings: tuple[Building, ...] = ()) -> Group:
    """Put the user in a scope group limited to these floors and buildings."""
    group, _ = Group.objects.get_or_create(name=name)
    FloorAccess.objects.bulk_create([FloorAccess(group=group, floor=f) for f in floors]
                                    + [FloorAccess(group=group, building=b) for b in buildings])
    user.groups.add(group)
    return group
