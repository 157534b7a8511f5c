"""Finding equipment on the real PostGIS: what "available" means (status, tag, forbidden zones), where an
asset is now, and nearest-available (same floor first, scope), through the API and the page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from floorplans.models import Floor, Zone
from tests.tracking.whereabouts import floor_above, floor_elsewhere, place, scope, zone
from tracking.assets.finding import asset_place, assets_nearest_available, available_q
from tracking.assets.serializers_registry import NearestAvailableItemSerializer, PlaceSerializer
from tracking.models import Asset, ForbiddenZone, Tag
from tracking.services import asset_register

pytestmark = pytest.mark.django_db

PUMP = "infusion_pump"


def _available() -> list[str]:
    return sorted(Asset.objects.filter(available_q()).values_list("asset_number", flat=True))


def test_it_counts_as_available_only_available_assets_with_a_working_tag_outside_forbidden_zones(floor: Floor) -> None:
    store, dirty = zone(floor, "3N-ST"), zone(floor, "3N-DU")
    place("ok", floor, 2, 5, zone=store, category=PUMP)
    place("busy", floor, 2, 5, zone=store, category=PUMP, status=Asset.Status.IN_USE)
    place("dead-tag", floor, 2, 5, zone=store, category=PUMP)
    Tag.objects.filter(tag_id="dead-tag").update(active=False)
    place("in-dirty", floor, 8, 5, zone=dirty, category=PUMP)
    place("chair-in-dirty", floor, 8, 5, zone=dirty, category="wheelchair")
    place("on-stairs", floor, 28, 12, zone=zone(floor, "ST-1"), category="wheelchair")
    asset_register(asset_number="A-never-seen", category=PUMP, tag_id="never", tech="ble")
    assert _available() == ["A-chair-in-dirty", "A-in-dirty", "A-never-seen", "A-ok", "A-on-stairs"]
    ForbiddenZone.objects.create(zone=dirty, category=PUMP)            # this zone, pumps only
    ForbiddenZone.objects.create(zone_kind=Zone.Kind.STAIRS)            # every stairwell, everything
    assert _available() == ["A-chair-in-dirty", "A-never-seen", "A-ok"]


@pytest.fixture
def pumps(floor: Floor) -> dict[str, Floor]:
    """Pumps around bed 101A (centroid 1.5, 13.1) on 3 North, a level down, two up, in another building."""
    up2, down1, elsewhere = floor_above(floor, levels=2), floor_above(floor, levels=-1), floor_elsewhere()
    place("p-near", floor, 1.5, 10.1, zone=zone(floor, "3N-C"), category=PUMP)        # 3.0 m
    place("p-mid", floor, 5.5, 13.1, category=PUMP)                                   # 4.0 m
    place("p-busy", floor, 1.5, 12.6, category=PUMP, status=Asset.Status.IN_USE)      # 0.5 m, not available
    place("p-forbidden", floor, 8.0, 5.0, zone=zone(floor, "3N-DU"), category=PUMP)   # in a forbidden zone
    place("p-down1", down1, 1.5, 13.1, category=PUMP)
    place("p-up2", up2, 1.5, 13.1, category=PUMP)
    place("p-other", elsewhere, 1.5, 13.1, category=PUMP)
    place("s-syringe", floor, 1.5, 12.0, category="syringe_pump")
    ForbiddenZone.objects.create(zone_kind=Zone.Kind.DIRTY_UTILITY)
    return {"here": floor, "up2": up2, "down1": down1, "elsewhere": elsewhere}


def _nearest(user: User, floor: Floor, limit: int = 10) -> list[tuple[str, float, int]]:
    items = assets_nearest_available(user=user, category=PUMP, zone=zone(floor, "3N-101-A"), limit=limit)
    return [(item["tag"], item["distance_m"], item["floors_away"]) for item in items]


def test_it_lists_the_nearest_available_same_floor_first_then_the_closest_levels(
    nurse: User, pumps: dict[str, Floor]
) -> None:
    assert _nearest(nurse, pumps["here"]) == [("p-near", 3.0, 0), ("p-mid", 4.0, 0), ("p-down1", 0.0, 1),
                                              ("p-up2", 0.0, 2)]
    assert _nearest(nurse, pumps["here"], limit=1) == [("p-near", 3.0, 0)]


def test_it_finds_nearest_only_on_floors_the_user_may_watch(nurse: User, pumps: dict[str, Floor]) -> None:
    scope(nurse, "3 North only", floors=(pumps["here"],))
    assert [tag for tag, *_ in _nearest(nurse, pumps["here"])] == ["p-near", "p-mid"]


def test_it_says_where_an_asset_is_now_with_the_room_around_a_bed(nurse: User, floor: Floor) -> None:
    place("p-bed", floor, 1.5, 13.0, zone=zone(floor, "3N-101-A"), category=PUMP)
    asset = Asset.objects.get(asset_number="A-p-bed")
    where = asset_place(user=nurse, asset=asset)
    assert where is not None
    assert (where.zone_name, where.room_name, where.floor_name, where.level, where.x_m) == (
        "Bed 101A", "Room 101", "3 North - Test Ward", 3, 1.5)
    assert set(where.as_dict()) == set(PlaceSerializer().fields)
    scope(nurse, "elsewhere", buildings=(floor_elsewhere().building,))
    assert asset_place(user=nurse, asset=asset) is None


def test_it_answers_nearest_available_over_the_api(api: APIClient, nurse: User, pumps: dict[str, Floor]) -> None:
    api.force_authenticate(nurse)
    bed = zone(pumps["here"], "3N-101-A")
    response = api.get("/api/assets/nearest-available/", {"category": PUMP, "zone": str(bed.pk), "limit": "2"})
    assert response.status_code == 200, response.content
    items = response.json()
    assert [item["tag"] for item in items] == ["p-near", "p-mid"]
    assert set(items[0]) == set(NearestAvailableItemSerializer().fields)
    assert (items[0]["asset_number"], items[0]["status"], items[0]["place"]["zone_name"]) == (
        "A-p-near", "available", "Corridor")


@pytest.mark.parametrize(("query", "field"), [
    ({"zone": "{zone}"}, "category"),
    ({"category": PUMP}, "zone"),
    ({"category": "toaster", "zone": "{zone}"}, "category"),
    ({"category": PUMP, "zone": "999999"}, "zone"),
    ({"category": PUMP, "zone": "{zone}", "limit": "0"}, "limit"),
    ({"category": PUMP, "zone": "{zone}", "limit": "51"}, "limit"),
])
def test_it_rejects_bad_nearest_available_queries(api: APIClient, nurse: User, floor: Floor, query: dict[str, str],
                                                  field: str) -> None:
    api.force_authenticate(nurse)
    params = {key: value.format(zone=zone(floor, "3N-ST").pk) for key, value in query.items()}
    response = api.get("/api/assets/nearest-available/", params)
    assert response.status_code == 400 and field in response.json()


def test_it_refuses_nearest_available_from_a_floor_outside_the_scope_and_to_a_visitor(
    api: APIClient, nurse: User, visitor: User, floor: Floor
) -> None:
    scope(nurse, "elsewhere", buildings=(floor_elsewhere().building,))
    api.force_authenticate(nurse)
    params = {"category": PUMP, "zone": str(zone(floor, "3N-ST").pk)}
    assert api.get("/api/assets/nearest-available/", params).status_code == 403
    api.force_authenticate(visitor)
    assert api.get("/api/assets/nearest-available/", params).status_code == 403


def test_it_shows_nearest_available_on_the_page_for_a_nurse(client: Client, nurse: User,
                                                            pumps: dict[str, Floor]) -> None:
    client.force_login(nurse)
    blank = client.get("/assets/nearest/")
    assert blank.status_code == 200 and b"Bed 101A (3N-101-A)" in blank.content
    assert b"3 North (3N)" not in blank.content  # a ward is no room to fetch to
    page = client.get("/assets/nearest/", {"category": PUMP, "zone": str(zone(pumps["here"], "3N-101-A").pk)})
    html = page.content.decode()
    assert page.status_code == 200
    rows = html[html.index('id="nearest-results"'):]
    assert rows.index("A-p-near") < rows.index("A-p-mid") < rows.index("A-p-down1") < rows.index("A-p-up2")
    assert "A-p-busy" not in rows and "A-p-forbidden" not in rows and "A-p-other" not in rows
    assert "Infusion pump near Bed 101A" in html and "3.0 m" in html and "2 floors away" in html
