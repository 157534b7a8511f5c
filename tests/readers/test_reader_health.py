"""Reader health lands in the database in one upsert, shows in the API, and offline is announced once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from accounts import roles
from accounts.services import user_create_with_role
from floorplans.models import Floor
from readers.health import OFFLINE, ONLINE, HealthChange, HealthState
from readers.models import ReaderHealth
from readers.services import reader_condition_listeners, reader_health_record

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit announcements run for real

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_it_upserts_health_and_announces_offline_after_commit(floor: Floor) -> None:
    heard: list[HealthChange] = []
    reader_condition_listeners.append(heard.append)
    try:
        online = [HealthState("RFID-X1", ONLINE, T0, T0, 12.5, 1000), HealthState("NOT-A-READER", ONLINE, T0, T0, 1, 1)]
        assert reader_health_record(states=online, drops={"RFID-X1": {"garbled": 2}}) == 1
        went = HealthChange("RFID-X1", OFFLINE, T0 + timedelta(seconds=70), T0)
        offline = [HealthState("RFID-X1", OFFLINE, went.at, T0, 0.0, 1000, "connection refused")]
        assert reader_health_record(states=offline, drops={}, changes=[went]) == 1
    finally:
        reader_condition_listeners.remove(heard.append)
    row = ReaderHealth.objects.get(reader__code="RFID-X1")
    assert (row.state, row.reads_total, row.last_error, row.drops) == (OFFLINE, 1000, "connection refused", {})
    assert ReaderHealth.objects.count() == 1
    assert heard == [went]


def test_the_api_shows_health_and_filters_by_state(floor: Floor, api: APIClient) -> None:
    reader_health_record(states=[HealthState("BLE-101", OFFLINE, T0, None, 0.0, 0, "no reads")], drops={})
    api.force_authenticate(user_create_with_role(username="security", role=roles.SECURITY, password="pw"))
    offline = api.get("/api/readers/", {"state": "offline"}).json()["results"]
    assert [(r["code"], r["health"]["state"], r["health"]["last_error"]) for r in offline] == [
        ("BLE-101", "offline", "no reads")]
    everything = api.get("/api/readers/").json()["results"]
    assert {r["code"]: r["health"] is None for r in everything} == {"BLE-101": False, "RFID-X1": True, "UWB-1": True}
