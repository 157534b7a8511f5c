"""GET /api/search/ (find things by words) and /api/nearest/ (the closest equipment of a kind)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from floorplans.models import Floor
from tests.tracking.whereabouts import floor_above, floor_elsewhere, place, scope, zone
from tracking.models import Asset, Tag
from tracking.serializers import NearestItemSerializer, SearchItemSerializer
from tracking.services import asset_register

pytestmark = pytest.mark.django_db

IN_USE, RETIRED = Asset.Status.IN_USE, Asset.Status.RETIRED


@pytest.fixture
def pumps(floor: Floor) -> dict[str, Floor]:
    """Pumps around bed 101A (centroid 1.5, 13.1) on 3 North, two floors up, one level down, in another
    building; and one never located."""
    up2, down1, elsewhere = floor_above(floor, levels=2), floor_above(floor, levels=-1), floor_elsewhere()
    place("p-near", floor, 1.5, 10.1, category="infusion_pump", status=IN_USE)        # 3.0 m
    place("p-mid", floor, 5.5, 13.1, category="infusion_pump")                        # 4.0 m
    place("p-far", floor, 21.5, 13.1, category="infusion_pump")                       # 20.0 m
    place("p-retired", floor, 1.5, 13.0, category="infusion_pump", status=RETIRED)    # closest, never listed
    place("p-up2", up2, 1.5, 13.1, category="infusion_pump")
    place("p-down1", down1, 11.5, 13.1, category="infusion_pump")                     # 10.0 m, one level
    place("p-other", elsewhere, 1.5, 13.1, category="infusion_pump")
    place("s-syringe", floor, 1.5, 12.0, category="syringe_pump")
    asset_register(asset_number="A-p-lost", category="infusion_pump", tag_id="p-lost", tech=Tag.Tech.BLE)
    return {"here": floor, "up2": up2, "down1": down1, "elsewhere": elsewhere}


def _nearest(api: APIClient, floor: Floor, query: str = "") -> list[tuple[str, float, int]]:
    response = api.get(f"/api/nearest/?category=infusion_pump&zone={zone(floor, '3N-101-A').pk}{query}")
    assert response.status_code == 200, response.content
    return [(item["tag"], item["distance_m"], item["floors_away"]) for item in response.json()]


def test_it_lists_the_nearest_on_the_same_floor_first_then_the_closest_levels(
    api: APIClient, nurse: User, pumps: dict[str, Floor]
) -> None:
    api.force_authenticate(nurse)
    assert _nearest(api, pumps["here"], "&limit=10") == [
        ("p-near", 3.0, 0), ("p-mid", 4.0, 0), ("p-far", 20.0, 0), ("p-down1", 10.0, 1), ("p-up2", 0.0, 2),
    ]


def test_it_keeps_only_available_ones_and_honours_the_limit(api: APIClient, nurse: User,
                                                            pumps: dict[str, Floor]) -> None:
    api.force_authenticate(nurse)
    assert [tag for tag, *_ in _nearest(api, pumps["here"], "&available=1&limit=2")] == ["p-mid", "p-far"]
    assert [tag for tag, *_ in _nearest(api, pumps["here"])] == ["p-near", "p-mid", "p-far", "p-down1", "p-up2"]


def test_it_answers_nearest_items_with_the_documented_fields(api: APIClient, nurse: User,
                                                            pumps: dict[str, Floor]) -> None:
    api.force_authenticate(nurse)
    item = api.get(f"/api/nearest/?category=infusion_pump&zone={zone(pumps['here'], '3N-101-A').pk}").json()[0]
    assert set(item) == set(NearestItemSerializer().fields)
    assert (item["status"], item["floor"], item["floor_name"], item["x_m"]) == ("in_use", pumps["here"].pk,
                                                                               "3 North - Test Ward", 1.5)


def test_it_leaves_floors_outside_the_scope_out_of_nearest(api: APIClient, nurse: User,
                                                           pumps: dict[str, Floor]) -> None:
    scope(nurse, "3 North and below", floors=(pumps["here"], pumps["down1"]))
    api.force_authenticate(nurse)
    assert [tag for tag, *_ in _nearest(api, pumps["here"], "&limit=10")] == ["p-near", "p-mid", "p-far", "p-down1"]


NEAREST_BAD: list[tuple[str, str]] = [
    ("zone={zone}", "category"),
    ("category=infusion_pump", "zone"),
    ("category=toaster&zone={zone}", "category"),
    ("category=infusion_pump&zone=999999", "zone"),
    ("category=infusion_pump&zone={zone}&limit=0", "limit"),
    ("category=infusion_pump&zone={zone}&limit=51", "limit"),
    ("category=infusion_pump&zone={zone}&available=perhaps", "available"),
]


@pytest.mark.parametrize(("query", "field"), NEAREST_BAD)
def test_it_rejects_bad_nearest_queries(api: APIClient, nurse: User, floor: Floor, query: str, field: str) -> None:
    api.force_authenticate(nurse)
    response = api.get("/api/nearest/?" + query.format(zone=zone(floor, "3N-ST").pk))
    assert response.status_code == 400 and field in response.json()


def test_it_refuses_nearest_from_a_zone_on_a_floor_outside_the_scope(api: APIClient, nurse: User,
                                                                      floor: Floor) -> None:
    scope(nurse, "elsewhere", buildings=(floor_elsewhere().building,))
    api.force_authenticate(nurse)
    assert api.get(f"/api/nearest/?category=infusion_pump&zone={zone(floor, '3N-ST').pk}").status_code == 403


SEARCHES: list[tuple[str, list[str]]] = [
    ("infusion pump", ["p-down1", "p-far", "p-lost", "p-mid", "p-near", "p-other", "p-retired", "p-up2"]),
    ("INFUSION A-p-m", ["p-mid"]),
    ("syringe", ["s-syringe"]),
    ("p-lost", ["p-lost"]),
    ("wheelchair", []),
]


def test_it_finds_objects_by_every_word(api: APIClient, nurse: User, pumps: dict[str, Floor]) -> None:
    api.force_authenticate(nurse)
    for q, expected in SEARCHES:
        response = api.get("/api/search/", {"q": q})
        assert response.status_code == 200
        assert sorted(item["tag"] for item in response.json()["results"]) == expected, q


def test_it_lists_search_results_most_recently_seen_first_and_the_never_seen_last(
    api: APIClient, nurse: User, pumps: dict[str, Floor]
) -> None:
    api.force_authenticate(nurse)
    results = api.get("/api/search/", {"q": "infusion", "floor": str(pumps["here"].pk)}).json()["results"]
    assert sorted(item["tag"] for item in results) == ["p-far", "p-mid", "p-near", "p-retired"]
    every = api.get("/api/search/", {"q": "A-p-lost"}).json()["results"]
    assert set(every[0]) == set(SearchItemSerializer().fields)
    assert every[0] | {"object": 0} == {
        "object": 0, "name": "infusion pump A-p-lost", "kind": "asset", "category": "infusion_pump", "tag": "p-lost",
        "status": "available", "floor": None, "floor_name": "", "zone": None, "zone_name": "", "x_m": None,
        "y_m": None, "seen_at": None,
    }


def test_it_leaves_objects_on_floors_outside_the_scope_out_of_search(api: APIClient, nurse: User,
                                                                     pumps: dict[str, Floor]) -> None:
    scope(nurse, "Block A", buildings=(pumps["here"].building,))
    api.force_authenticate(nurse)
    tags = [item["tag"] for item in api.get("/api/search/", {"q": "infusion"}).json()["results"]]
    assert "p-other" not in tags and "p-lost" in tags and "p-up2" in tags
    assert api.get("/api/search/", {"q": "infusion", "floor": str(pumps["elsewhere"].pk)}).status_code == 403


@pytest.mark.parametrize(("params", "field"), [({}, "q"), ({"q": ""}, "q"), ({"q": "pump", "floor": "x"}, "floor")])
def test_it_rejects_bad_searches(api: APIClient, nurse: User, params: dict[str, str], field: str) -> None:
    api.force_authenticate(nurse)
    response = api.get("/api/search/", params)
    assert response.status_code == 400 and field in response.json()
