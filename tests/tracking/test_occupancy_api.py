"""GET /api/occupancy/?floor=: open zone stays per zone, counted by kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from floorplans.models import Floor, Zone
from tests.tracking.whereabouts import floor_above, floor_elsewhere, place, scope, zone
from tracking.models import ZonePresence
from tracking.serializers import OccupancySerializer

pytestmark = pytest.mark.django_db


def _stay(tag_id: str, where: Zone, *, kind: str | None = "staff", category: str | None = None,
          left: bool = False) -> None:
    tag = place(tag_id, where.floor, 1, 1, kind=kind, category=category)
    now = timezone.now()
    ZonePresence.objects.create(tag=tag, zone=where, entered_at=now - timedelta(minutes=30),
                                exited_at=now if left else None)


@pytest.fixture
def stays(floor: Floor) -> Floor:
    """3 North: two nurses and a bare tag in the corridor, a pump in the store, one who left room 101;
    upstairs: someone in its corridor."""
    corridor = zone(floor, "3N-C")
    _stay("nurse-1", corridor)
    _stay("nurse-2", corridor)
    _stay("bare-1", corridor, kind=None)
    _stay("pump-1", zone(floor, "3N-ST"), category="infusion_pump")
    _stay("gone-1", zone(floor, "3N-101"), left=True)
    upstairs = floor_above(floor)
    _stay("up-1", Zone.objects.create(floor=upstairs, code="4N-C", name="Corridor 4", kind=Zone.Kind.CORRIDOR,
                                      polygon=corridor.polygon))
    return floor


def test_it_counts_open_stays_per_occupied_zone_by_kind(api: APIClient, nurse: User, stays: Floor) -> None:
    api.force_authenticate(nurse)
    response = api.get(f"/api/occupancy/?floor={stays.pk}")
    assert response.status_code == 200
    assert response.json() == [
        {"zone": zone(stays, "3N-C").pk, "zone_name": "Corridor", "count": 3, "by_kind": {"staff": 2, "unassigned": 1}},
        {"zone": zone(stays, "3N-ST").pk, "zone_name": "Equipment store", "count": 1, "by_kind": {"asset": 1}},
    ]
    assert set(response.json()[0]) == set(OccupancySerializer().fields)


@pytest.mark.parametrize(("query", "field"), [("", "floor"), ("?floor=999999", "floor"), ("?floor=x", "floor")])
def test_it_rejects_a_missing_or_unknown_floor(api: APIClient, nurse: User, floor: Floor, query: str,
                                               field: str) -> None:
    api.force_authenticate(nurse)
    response = api.get("/api/occupancy/" + query)
    assert response.status_code == 400 and field in response.json()


def test_it_refuses_a_floor_outside_the_scope(api: APIClient, nurse: User, stays: Floor) -> None:
    scope(nurse, "elsewhere", buildings=(floor_elsewhere().building,))
    api.force_authenticate(nurse)
    assert api.get(f"/api/occupancy/?floor={stays.pk}").status_code == 403


@pytest.mark.parametrize(("persona", "status"), [("visitor", 403), ("security_officer", 200), ("biomed", 200)])
def test_it_needs_the_permission_to_see_occupancy(api: APIClient, request: pytest.FixtureRequest, stays: Floor,
                                                  persona: str, status: int) -> None:
    api.force_authenticate(request.getfixturevalue(persona))
    assert api.get(f"/api/occupancy/?floor={stays.pk}").status_code == status
