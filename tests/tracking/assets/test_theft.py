"""Anti-theft: an asset entering a zone forbidden for its category, or crossing an exit door outward
(from the door's from_zone to its to_zone), raises "assets.exit" (HIGH) to security with the last seen place
and the last minutes of trail; crossing back in clears the condition. Other crossings and zones are quiet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.contrib.gis.geos import Point

from alerts.models import Alert
from floorplans.geometry import FLOOR_SRID
from floorplans.models import Door, Floor, Zone
from tests.tracking.assets.test_rules_helpers import T0, asset_make, at, crossed, entered, locate, tag_of, zone
from tracking.assets import rules
from tracking.assets.rules import ForbiddenSpec, ZoneNode, forbidden_match
from tracking.assets.services_rules import forbiddenzone_save
from tracking.models import Asset, ForbiddenZone, LocationHistory, Method
from tracking.pipeline.events import PortalCrossed
from tracking.store.partitions import history_partitions_ensure

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_data")]


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.ASSET_DIRECTORY_TTL_S = 3600.0
    settings.ASSET_EXIT_TRAIL_MIN = 10.0
    rules.reset()
    yield
    rules.reset()


STAIRS = ZoneNode(9, "stairs", "Stairs 1", 1, (9,))
STORE = ZoneNode(4, "storage", "Store", 1, (4, 1))
WARD = ZoneNode(1, "ward", "3 North", 1, (1,))


@pytest.mark.parametrize(("specs", "chain", "category", "expected"), [
    ([ForbiddenSpec(1, None, "stairs", "")], [STAIRS], "bed", 1),  # a kind, any category
    ([ForbiddenSpec(1, None, "stairs", "wheelchair")], [STAIRS], "bed", None),  # another category
    ([ForbiddenSpec(1, None, "stairs", "wheelchair")], [STAIRS], "wheelchair", 1),
    ([ForbiddenSpec(2, 1, "", "")], [STORE, WARD], "bed", 2),  # a zone covers the zones inside it
    ([ForbiddenSpec(2, 1, "", "")], [STAIRS], "bed", None),
])
def test_it_matches_forbidden_zones(specs: list[ForbiddenSpec], chain: list[ZoneNode], category: str,
                                    expected: int | None) -> None:
    match = forbidden_match(specs, chain, category=category)
    assert (match.pk if match else None) == expected


def _history(asset: Asset, floor: Floor, points: list[tuple[float, float, float, Zone]]) -> None:
    """Past positions (seconds from T0, x, y, zone) in the partitioned history."""
    history_partitions_ensure(seen_at_s=np.array([at(s).timestamp() for s, *_ in points]))
    for s, x, y, where in points:
        LocationHistory.objects.create(tag=tag_of(asset), floor=floor, zone=where, accuracy_m=1.0, method=Method.ZONE,
                                       position=Point(x, y, srid=FLOOR_SRID), seen_at=at(s))


def _exit_alert() -> Alert:
    return Alert.objects.get(kind=rules.EXIT)


def test_it_alerts_security_when_an_asset_goes_out_through_an_exit_door(floor: Floor) -> None:
    chair = asset_make("WC-1", category=Asset.Category.WHEELCHAIR)
    corridor, stairs = zone(floor, "3N-C"), zone(floor, "ST-1")
    _history(chair, floor, [(-1200, 5.0, 9.0, corridor), (-300, 20.0, 9.5, corridor), (-5, 25.0, 9.5, corridor),
                            (0, 27.0, 9.5, stairs)])
    locate(chair, stairs, when=T0)
    exit_door = Door.objects.get(floor=floor, code="X-1")
    rules.on_portal_crossed(crossed(chair, exit_door.pk, "in", floor_id=floor.pk, when=T0))

    alert = _exit_alert()
    assert (alert.severity, alert.audience, alert.subject_type, alert.subject_id, alert.key) == (
        Alert.Severity.HIGH, "security", "asset", str(chair.pk), f"assets.exit:{chair.pk}")
    assert (alert.floor_id, alert.zone_id) == (floor.pk, stairs.pk)
    assert "went out through Stairs 1 exit" in alert.title and alert.subject_label == "Wheelchair WC-1"
    assert alert.data["last_seen"]["place"] == "Stairs 1, 3 North - Test Ward"
    assert alert.data["door_id"] == exit_door.pk and alert.data["asset_number"] == "WC-1"
    trail = alert.data["trail"]
    assert [p["x_m"] for p in trail] == [20.0, 25.0, 27.0]  # the last 10 minutes, oldest first
    assert trail[0]["place"] == "Corridor, 3 North - Test Ward"
    assert alert.data["trail_url"] == f"/api/tags/{tag_of(chair).tag_id}/trail/"

    rules.on_portal_crossed(crossed(chair, exit_door.pk, "out", floor_id=floor.pk, when=at(60)))
    alert.refresh_from_db()
    assert not alert.condition_active and alert.state == Alert.State.NEW  # back in; security closes it


def test_it_is_quiet_for_an_ordinary_door_and_for_a_tag_that_is_not_an_asset(floor: Floor) -> None:
    chair = asset_make("WC-1", category=Asset.Category.WHEELCHAIR)
    room_door = Door.objects.get(floor=floor, code="D-101")
    rules.on_portal_crossed(crossed(chair, room_door.pk, "in", floor_id=floor.pk))
    rules.on_portal_crossed(PortalCrossed(999_999, "BADGE", floor.pk, Door.objects.get(code="X-1").pk, "in", T0))
    assert not Alert.objects.filter(kind=rules.EXIT).exists()


def test_it_alerts_when_an_asset_enters_a_zone_forbidden_for_its_category(floor: Floor) -> None:
    forbiddenzone_save(zone_kind=Zone.Kind.STAIRS, category=Asset.Category.INFUSION_PUMP, note="pumps stay on 3N")
    pump, chair = asset_make("IP-1"), asset_make("WC-1", category=Asset.Category.WHEELCHAIR)
    stairs = zone(floor, "ST-1")
    for asset in (pump, chair):
        locate(asset, stairs)
        rules.on_zone_entered(entered(asset, stairs))

    alert = _exit_alert()  # the pump's only
    assert alert.subject_id == str(pump.pk) and "entered Stairs 1" in alert.title
    assert alert.data["forbidden_zone_id"] == ForbiddenZone.objects.get(category="infusion_pump").pk
    assert alert.data["trail"] == []  # no history here: the trail is empty, not an error


def test_the_default_forbidden_kinds_cover_exit_zones(floor: Floor) -> None:
    """Migration 0009 forbids exit, entrance and loading dock zones to every category."""
    yard = Zone.objects.create(floor=floor, code="YARD", name="Service yard", kind=Zone.Kind.EXIT,
                               polygon=zone(floor, "ST-1").polygon)
    monitor = asset_make("MON-1", category=Asset.Category.MONITOR)
    rules.on_zone_entered(entered(monitor, yard))
    assert _exit_alert().subject_id == str(monitor.pk)


def test_a_repeat_updates_the_open_alert_with_the_newer_place(floor: Floor) -> None:
    chair = asset_make("WC-1", category=Asset.Category.WHEELCHAIR)
    exit_door = Door.objects.get(floor=floor, code="X-1")
    locate(chair, zone(floor, "ST-1"), when=T0)
    rules.on_portal_crossed(crossed(chair, exit_door.pk, "in", floor_id=floor.pk, when=T0))
    locate(chair, zone(floor, "3N-C"), when=T0 + timedelta(minutes=1))
    rules.on_portal_crossed(crossed(chair, exit_door.pk, "in", floor_id=floor.pk, when=T0 + timedelta(minutes=2)))
    alert = _exit_alert()
    assert alert.occurrences == 2 and alert.data["last_seen"]["place"].startswith("Corridor")
