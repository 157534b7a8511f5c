"""GET /api/locations/: current locations, filtered, paginated, only on floors the user may watch."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from floorplans.models import Floor
from tests.tracking.whereabouts import floor_above, floor_elsewhere, place, scope, zone
from tracking.selectors.locations import floor_snapshot
from tracking.serializers import LocationSerializer

pytestmark = pytest.mark.django_db


@pytest.fixture
def located(floor: Floor) -> dict[str, Floor]:
    """3 North: a pump in the store, a monitor in bed 101A, a nurse in the corridor, a bare tag in room 102;
    upstairs: a pump; another building: a pump."""
    upstairs, elsewhere = floor_above(floor), floor_elsewhere()
    place("pump-st", floor, 2.0, 5.0, zone=zone(floor, "3N-ST"), category="infusion_pump")
    place("mon-101a", floor, 1.5, 13.0, zone=zone(floor, "3N-101-A"), category="monitor")
    place("nurse-c", floor, 12.0, 9.5, zone=zone(floor, "3N-C"), name="Nina Okafor")
    place("bare-102", floor, 7.5, 15.0, kind=None)  # no zone assigned, but inside room 102 and the ward
    place("pump-up", upstairs, 2.0, 5.0, category="infusion_pump")
    place("pump-far", elsewhere, 2.0, 5.0, category="infusion_pump")
    return {"here": floor, "upstairs": upstairs, "elsewhere": elsewhere}


def _tags(api: APIClient, url: str) -> list[str]:
    response = api.get(url)
    assert response.status_code == 200, response.content
    return sorted(item["tag"] for item in response.json()["results"])


GOOD: list[tuple[str, list[str]]] = [
    ("", ["bare-102", "mon-101a", "nurse-c", "pump-far", "pump-st", "pump-up"]),
    ("?floor={here}", ["bare-102", "mon-101a", "nurse-c", "pump-st"]),
    ("?zone={store}", ["pump-st"]),
    ("?zone={ward}", ["bare-102", "mon-101a", "nurse-c", "pump-st"]),        # by polygon: rooms and beds inside
    ("?zone={room102}", ["bare-102"]),
    ("?kind=staff", ["nurse-c"]),
    ("?kind=asset&floor={here}", ["mon-101a", "pump-st"]),
    ("?category=infusion_pump", ["pump-far", "pump-st", "pump-up"]),
    ("?q=okafor", ["nurse-c"]),
    ("?q=infusion%20pump&floor={upstairs}", ["pump-up"]),
    ("?q=A-mon", ["mon-101a"]),                                               # asset number
    ("?q=patient%20monitor", ["mon-101a"]),                                   # category label
    ("?q=ventilator", []),
]


def test_it_filters_locations(api: APIClient, nurse: User, located: dict[str, Floor]) -> None:
    here = located["here"]
    ids = {"here": here.pk, "upstairs": located["upstairs"].pk, "store": zone(here, "3N-ST").pk,
           "ward": zone(here, "3N").pk, "room102": zone(here, "3N-102").pk}
    api.force_authenticate(nurse)
    for query, expected in GOOD:  # one table, one set of rows: building them is the slow part
        assert _tags(api, "/api/locations/" + query.format(**ids)) == expected, query


BAD: list[tuple[str, str, str]] = [
    ("?floor=999999", "floor", "object does not exist"),
    ("?floor=two", "floor", "Incorrect type"),
    ("?zone=999999", "zone", "object does not exist"),
    ("?kind=spaceship", "kind", "not a valid choice"),
    ("?category=toaster", "category", "not a valid choice"),
    ("?q=" + "x" * 101, "q", "no more than 100 characters"),
]


@pytest.mark.parametrize(("query", "field", "message"), BAD)
def test_it_rejects_bad_filters_with_a_400_naming_the_parameter(
    api: APIClient, nurse: User, floor: Floor, query: str, field: str, message: str
) -> None:
    api.force_authenticate(nurse)
    response = api.get("/api/locations/" + query)
    assert response.status_code == 400
    assert message in response.json()[field][0]


def test_it_answers_with_fixes_plus_floor_and_zone_name(api: APIClient, nurse: User, located: dict[str, Floor]) -> None:
    api.force_authenticate(nurse)
    (item,) = api.get("/api/locations/?q=okafor").json()["results"]
    assert set(item) == set(LocationSerializer().fields)
    assert item | {"object": 0, "seen_at": ""} == {
        "tag": "nurse-c", "object": 0, "name": "Nina Okafor", "kind": "staff", "category": "", "x_m": 12.0,
        "y_m": 9.5, "accuracy_m": 1.23, "zone": zone(located["here"], "3N-C").pk, "stationary": False,
        "seen_at": "", "floor": located["here"].pk, "zone_name": "Corridor",
    }
    assert item["seen_at"].endswith("Z")


def test_it_shows_a_scoped_user_only_their_floors_and_refuses_others(
    api: APIClient, nurse: User, located: dict[str, Floor]
) -> None:
    scope(nurse, "Block A", buildings=(located["here"].building,))
    api.force_authenticate(nurse)
    assert "pump-far" not in _tags(api, "/api/locations/")
    assert "pump-up" in _tags(api, "/api/locations/")
    refused = api.get(f"/api/locations/?floor={located['elsewhere'].pk}")
    assert refused.status_code == 403 and "may not watch floor" in refused.json()["detail"]


def test_it_pages_long_lists(api: APIClient, nurse: User, located: dict[str, Floor]) -> None:
    api.force_authenticate(nurse)
    body = api.get("/api/locations/?limit=2&offset=2").json()
    assert body["count"] == 6 and len(body["results"]) == 2 and "offset=4" in body["next"]


PERMISSIONS: list[tuple[str, int]] = [("nurse", 200), ("security_officer", 200), ("biomed", 200), ("visitor", 403)]


@pytest.mark.parametrize(("persona", "status"), PERMISSIONS)
def test_it_needs_the_permission_to_see_locations(
    api: APIClient, request: pytest.FixtureRequest, floor: Floor, persona: str, status: int
) -> None:
    user: Any = request.getfixturevalue(persona)
    api.force_authenticate(user)
    assert api.get("/api/locations/").status_code == status
    api.force_authenticate(None)
    assert api.get("/api/locations/").status_code == 401


def test_it_reads_a_floor_snapshot_in_one_query(located: dict[str, Floor],
                                                django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        snapshot = floor_snapshot(floor_id=located["here"].pk)
    assert sorted(fix["tag"] for fix in snapshot["fixes"]) == ["bare-102", "mon-101a", "nurse-c", "pump-st"]
