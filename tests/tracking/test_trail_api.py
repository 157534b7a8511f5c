"""GET /api/tags/<tag_id>/trail/: one tag's recorded positions over a time range, from the partitioned history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.utils import timezone
from rest_framework.test import APIClient

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor
from tests.tracking.whereabouts import floor_elsewhere, place, scope, zone
from tracking.models import LocationHistory, Method, Tag
from tracking.serializers import TrailPointSerializer, TrailSerializer
from tracking.store.partitions import history_partitions_maintain

pytestmark = pytest.mark.django_db

MINUTES_AGO = [120, 50, 40, 30, 20, 10]


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def walked(floor: Floor, now: datetime) -> Tag:
    """Tag "walker": a point every 10 minutes along the corridor (x = 20 - minutes/10), and one 2 h ago; its
    partitions (yesterday and today, UTC) created the way the pipeline creates them."""
    history_partitions_maintain(now=now - timedelta(days=1), days_ahead=1)
    tag = place("walker", floor, 0.0, 9.5)
    corridor = zone(floor, "3N-C")
    LocationHistory.objects.bulk_create([
        LocationHistory(tag=tag, floor=floor, zone=corridor, position=Point(20 - m / 10, 9.5, srid=FLOOR_SRID),
                        accuracy_m=0.456, method=Method.TRACKED, seen_at=now - timedelta(minutes=m))
        for m in MINUTES_AGO
    ])
    return tag


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_it_returns_the_last_hour_oldest_first_by_default(api: APIClient, charge_nurse: User, walked: Tag,
                                                          floor: Floor, now: datetime) -> None:
    api.force_authenticate(charge_nurse)
    response = api.get("/api/tags/walker/trail/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(TrailSerializer().fields) and body["tag"] == "walker" and body["truncated"] is False
    assert [p["x_m"] for p in body["points"]] == [15.0, 16.0, 17.0, 18.0, 19.0]
    assert body["points"][0] == {"x_m": 15.0, "y_m": 9.5, "floor": floor.pk, "zone": zone(floor, "3N-C").pk,
                                 "accuracy_m": 0.46, "seen_at": _iso(now - timedelta(minutes=50))}
    assert set(body["points"][0]) == set(TrailPointSerializer().fields)


def test_it_takes_an_explicit_range_with_until_exclusive(api: APIClient, security_officer: User, walked: Tag,
                                                         now: datetime) -> None:
    api.force_authenticate(security_officer)
    since, until = now - timedelta(minutes=121), now - timedelta(minutes=30)
    body = api.get("/api/tags/walker/trail/", {"since": _iso(since), "until": _iso(until)}).json()
    assert [p["x_m"] for p in body["points"]] == [8.0, 15.0, 16.0]
    assert (body["since"], body["until"]) == (_iso(since), _iso(until))


def test_it_keeps_the_latest_points_when_there_are_more_than_the_limit(api: APIClient, biomed: User,
                                                                       walked: Tag) -> None:
    api.force_authenticate(biomed)
    body = api.get("/api/tags/walker/trail/?limit=2").json()
    assert body["truncated"] is True and [p["x_m"] for p in body["points"]] == [18.0, 19.0]


def test_it_leaves_out_points_on_floors_outside_the_scope(api: APIClient, charge_nurse: User, walked: Tag,
                                                          now: datetime) -> None:
    elsewhere = floor_elsewhere()
    LocationHistory.objects.create(tag=walked, floor=elsewhere, zone=None, position=Point(1, 1, srid=FLOOR_SRID),
                                   accuracy_m=1, method=Method.PROXIMITY, seen_at=now - timedelta(minutes=5))
    api.force_authenticate(charge_nurse)
    assert len(api.get("/api/tags/walker/trail/").json()["points"]) == 6
    scope(charge_nurse, "Block A", buildings=(walked.location.floor.building,))
    assert len(api.get("/api/tags/walker/trail/").json()["points"]) == 5


def test_it_answers_an_empty_trail_for_a_range_with_no_partition(api: APIClient, charge_nurse: User,
                                                                walked: Tag) -> None:
    api.force_authenticate(charge_nurse)
    body = api.get("/api/tags/walker/trail/", {"since": "2020-01-01T00:00:00Z", "until": "2020-01-02T00:00:00Z"})
    assert body.status_code == 200 and body.json()["points"] == []


BAD: list[tuple[dict[str, str], str, str]] = [
    ({"since": "yesterday"}, "since", "wrong format"),
    ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since", "before until"),
    ({"since": "2026-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "since", "at most 31 days"),
    ({"limit": "0"}, "limit", "greater than or equal to 1"),
    ({"limit": "10001"}, "limit", "less than or equal to 10000"),
]


def test_it_rejects_bad_ranges(api: APIClient, charge_nurse: User, walked: Tag) -> None:
    api.force_authenticate(charge_nurse)
    for params, field, message in BAD:
        response = api.get("/api/tags/walker/trail/", params)
        assert response.status_code == 400 and message in str(response.json()[field]), params


def test_it_answers_404_for_an_unknown_tag(api: APIClient, charge_nurse: User, floor: Floor) -> None:
    api.force_authenticate(charge_nurse)
    assert api.get("/api/tags/nobody/trail/").status_code == 404


@pytest.mark.parametrize(("persona", "status"), [("nurse", 200), ("visitor", 403), ("charge_nurse", 200),
                                                 ("security_officer", 200), ("administrator", 200)])
def test_it_shows_trails_only_to_roles_that_may_see_movements(
    api: APIClient, request: pytest.FixtureRequest, walked: Tag, persona: str, status: int
) -> None:
    api.force_authenticate(request.getfixturevalue(persona))
    assert api.get("/api/tags/walker/trail/").status_code == status
