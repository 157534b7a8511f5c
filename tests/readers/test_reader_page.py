"""The readers page shows health to those who look after readers, and nobody else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts import roles
from accounts.services import user_create_with_role
from floorplans.models import Floor
from readers.health import OFFLINE, ONLINE, HealthState
from readers.services import reader_health_record

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_biomed_sees_every_reader_with_its_health_and_filters_by_state(client: Client, floor: Floor) -> None:
    reader_health_record(states=[HealthState("RFID-X1", ONLINE, T0, T0, 3.5, 700),
                                 HealthState("BLE-101", OFFLINE, T0, None, 0.0, 0, "connection refused")],
                         drops={"RFID-X1": {"garbled": 4}})
    client.force_login(user_create_with_role(username="biomed", role=roles.BIOMED, password="pw"))
    page = client.get("/readers/").content.decode()
    assert "1 online" in page and "1 offline" in page and "1 unknown" in page
    assert "garbled 4" in page and "connection refused" in page
    offline = client.get("/readers/", {"state": "offline"}).content.decode()
    assert "BLE-101" in offline and "RFID-X1" not in offline


def test_nurses_do_not_get_the_readers_page(client: Client, floor: Floor) -> None:
    client.force_login(user_create_with_role(username="nurse", role=roles.NURSE, password="pw"))
    assert client.get("/readers/").status_code == 403
    assert "Readers</a>" not in client.get("/").content.decode()
