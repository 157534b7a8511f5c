"""Builders for the asset rules, PAR and anti-theft tests (no tests here): assets on the small test ward
(3 North: corridor 3N-C, room 3N-101 with bed 3N-101-A, store 3N-ST, dirty utility 3N-DU, stairs ST-1 behind
the exit door X-1), located tags, open zone stays and the pipeline events. A fixed clock T0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib.gis.geos import Point

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor, Zone
from tracking.models import Asset, CurrentLocation, Method, Tag, ZonePresence
from tracking.pipeline.events import PortalCrossed, ZoneEntered, ZoneExited
from tracking.services import asset_register

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
S = Asset.Status


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def zone(floor: Floor, code: str) -> Zone:
    return Zone.objects.get(floor=floor, code=code)


def asset_make(number: str, *, category: str = Asset.Category.INFUSION_PUMP, status: str = S.AVAILABLE,
               tech: str = Tag.Tech.BLE) -> Asset:
    """A registered asset with its tag, put in `status` without history (as if imported long ago)."""
    asset = asset_register(asset_number=number, category=category, tag_id=f"TAG-{number}", tech=tech)
    Asset.objects.filter(pk=asset.pk).update(status=status)
    asset.refresh_from_db()
    return asset


def tag_of(asset: Asset) -> Tag:
    tag = asset.tracked_object.tag
    assert tag is not None
    return tag


def locate(asset: Asset, where: Zone, *, when: datetime = T0) -> CurrentLocation:
    """The asset's current location: the centre of `where`."""
    centre = where.polygon.centroid
    location, _ = CurrentLocation.objects.update_or_create(tag=tag_of(asset), defaults={
        "floor_id": where.floor_id, "zone": where, "position": Point(centre.x, centre.y, srid=FLOOR_SRID),
        "accuracy_m": 0.5, "method": Method.ZONE, "seen_at": when, "updated_at": when,
    })
    return location


def stay(asset: Asset, where: Zone, *, entered_at: datetime) -> ZonePresence:
    """The asset's open stay in `where` (its other open stays closed then), and its location there."""
    tag = tag_of(asset)
    ZonePresence.objects.filter(tag=tag, exited_at__isnull=True).update(exited_at=entered_at)
    locate(asset, where, when=entered_at)
    return ZonePresence.objects.create(tag=tag, zone=where, entered_at=entered_at)


def entered(asset: Asset, where: Zone, *, when: datetime = T0) -> ZoneEntered:
    tag = tag_of(asset)
    return ZoneEntered(tag.pk, tag.tag_id, where.floor_id, where.pk, when)


def exited(asset: Asset, where: Zone, *, when: datetime = T0) -> ZoneExited:
    tag = tag_of(asset)
    return ZoneExited(tag.pk, tag.tag_id, where.floor_id, where.pk, when)


def crossed(asset: Asset, door_id: int, direction: str, *, floor_id: int, when: datetime = T0) -> PortalCrossed:
    tag = tag_of(asset)
    return PortalCrossed(tag.pk, tag.tag_id, floor_id, door_id, direction, when)
