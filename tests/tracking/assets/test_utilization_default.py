"""Utilization's default period: the last 7 days up to now (today included, measured up to now), so a new
database's first hours of sightings show instead of a month of "missing"; a period the user chooses stays
theirs; the page says which period it shows. The clock is fixed at one seam (django.utils.timezone.now)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from tests.tracking.assets.audit_world import AuditWorld, audit_world_make
from tracking.assets.utilization import STATE
from tracking.assets.utilization_data import utilization_compute, utilization_period
from tracking.models import Tag, ZonePresence

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def _day(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, (_day(11, 27), _day(12, 4))),  # the last 7 days, today included (measured up to now)
    (date(2026, 11, 1), date(2026, 11, 10), (_day(11, 1), _day(11, 11))),  # the user's days, the end included
    (date(2026, 11, 1), None, (_day(11, 1), _day(12, 4))),  # from the user's day up to now
    (None, date(2026, 11, 10), (_day(11, 4), _day(11, 11))),  # the 7 days up to the user's day
])
def test_it_defaults_to_the_last_seven_days_and_keeps_the_users_choice(
    start: date | None, end: date | None, expected: tuple[datetime, datetime],
) -> None:
    assert utilization_period(start=start, end=end, today=NOW.date()) == expected


@pytest.fixture
def world(db: None, floor_doc: dict[str, Any]) -> AuditWorld:
    """A new database: pump-1 (available, no status history) has been in the store for the last two hours."""
    world = audit_world_make(floor_doc, today=NOW.date())
    ZonePresence.objects.create(tag=Tag.objects.get(tag_id=world.epc("pump-1")), zone=world.store,
                                entered_at=NOW - timedelta(hours=2))
    return world


def test_the_default_period_shows_what_the_rtls_saw_today(world: AuditWorld) -> None:
    pump1 = [world.assets["pump-1"].pk]
    start, end = utilization_period(start=None, end=None, today=NOW.date())
    result = utilization_compute(start=start, end=end, asset_ids=pump1, now=NOW)
    hours = result.per_asset[0] / 3600
    assert (result.start, result.end, result.up_to_now) == (_day(11, 27), NOW, True)
    assert hours[STATE["available"]] == pytest.approx(2.0)  # the two hours in the store count
    assert hours[STATE["missing"]] == pytest.approx(6 * 24 + 12)  # before: seen nowhere (24 h grace from w0)
    old_default = utilization_compute(start=_day(11, 3), end=_day(12, 3), asset_ids=pump1, now=NOW)
    assert old_default.per_asset[0][STATE["missing"]] / 3600 == pytest.approx(30 * 24)  # the bug: all missing
    assert not old_default.up_to_now


@pytest.fixture
def fixed_now() -> Iterator[mock.MagicMock]:
    with mock.patch("django.utils.timezone.now", autospec=True, return_value=NOW) as now:
        yield now


def _period(page: bytes) -> str:
    """The page's statement of its period, as text."""
    found = re.search(r'<p[^>]*id="utilization-period"[^>]*>(.*?)</p>', page.decode(), re.DOTALL)
    assert found is not None, "the page says no period"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


@pytest.mark.parametrize(("query", "period", "dates"), [
    ("", "Showing 2026-11-27 00:00 to 2026-12-03 14:00 UTC (now): the last 7 days up to now, the default; "
         "choose dates above for another period.", ("2026-11-27", "2026-12-03")),
    ("?category=infusion_pump", "Showing 2026-11-27 00:00 to 2026-12-03 14:00 UTC (now): the last 7 days up to "
                                "now, the default; choose dates above for another period.", ()),
    ("?start=2026-11-01&end=2026-11-10", "Showing 2026-11-01 00:00 to 2026-11-11 00:00 UTC.",
     ("2026-11-01", "2026-11-10")),
    ("?start=2026-12-01", "Showing 2026-12-01 00:00 to 2026-12-03 14:00 UTC (now).", ("2026-12-01",)),
])
def test_the_page_says_which_period_it_shows(client: Client, biomed: User, world: AuditWorld,
                                             fixed_now: mock.MagicMock, query: str, period: str,
                                             dates: tuple[str, ...]) -> None:
    client.force_login(biomed)
    page = client.get(f"/assets/utilization/{query}")
    assert page.status_code == 200
    assert _period(page.content) == period
    for day in dates:  # the form shows the days of the period (the default's too)
        assert f'value="{day}"' in page.content.decode(), day
    assert fixed_now.called


def test_the_api_defaults_to_the_same_period(api: APIClient, biomed: User, world: AuditWorld,
                                             fixed_now: mock.MagicMock) -> None:
    api.force_authenticate(biomed)
    body = api.get("/api/assets/utilization/").json()
    assert (body["start"], body["end"]) == ("2026-11-27T00:00:00Z", "2026-12-03T14:00:00Z")
