"""A gateway that POSTs over HTTP: same parser as MQTT, reads land in the stream, bad bodies are counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from accounts import roles
from accounts.services import token_for, user_create_with_role
from floorplans.models import Floor
from readers.codec import read_from_fields
from readers.models import Reader
from readers.sinks import READS_STREAM

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway_api(floor: Floor, api: APIClient) -> APIClient:
    Reader.objects.filter(code="BLE-101").update(protocol="ble_minew", hardware_id="AC233FC00101")
    machine = user_create_with_role(username="gw-101", role=roles.GATEWAY, password=None)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=machine)}")
    return api


@pytest.fixture
def stream_tail() -> Iterator[list[str]]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    last = client.xrevrange(READS_STREAM, count=1) or []
    marker = [str(last[0][0], "ascii") if last and isinstance(last[0][0], bytes) else "0-0"]
    yield marker
    client.close()


def _minew_body(now: datetime) -> bytes:
    return json.dumps([
        {"timestamp": now.isoformat(), "type": "Gateway", "mac": "AC233FC00101", "gatewayFree": 98},
        {"timestamp": now.isoformat(), "type": "iBeacon", "mac": "0BE383050DE8", "rssi": -58, "ibeaconTxPower": -70},
        {"timestamp": now.isoformat(), "type": "iBeacon", "mac": "0BE383050DE9", "rssi": "loud"},
    ]).encode()


def test_a_gateway_posts_its_payload_and_the_reads_join_the_stream(gateway_api: APIClient,
                                                                    stream_tail: list[str]) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    response = gateway_api.post("/api/ingest/ble_minew/", _minew_body(now), content_type="application/json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 1 and sum(body["dropped"].values()) >= 1
    client = redis.Redis.from_url(settings.REDIS_URL)
    entries = client.xrange(READS_STREAM, min=f"({stream_tail[0]}") or []
    ours = [read_from_fields(fields or {}) for _, fields in entries]
    assert [(r.tag_id, r.reader_id, r.rssi_dbm) for r in ours if r.tag_id == "0BE383050DE8"] == [
        ("0BE383050DE8", "BLE-101", -58.0)]


def test_garbage_is_counted_not_an_error(gateway_api: APIClient) -> None:
    response = gateway_api.post("/api/ingest/ble_minew/", b"\x00\xffnot json", content_type="application/json")
    assert response.status_code == 200 and response.json() == {"accepted": 0, "dropped": {"garbled": 1}}


def test_an_unknown_protocol_or_a_person_is_refused(gateway_api: APIClient, api: APIClient) -> None:
    assert gateway_api.post("/api/ingest/ble_acme/", b"[]", content_type="application/json").status_code == 404
    nurse = APIClient()
    nurse.force_authenticate(user_create_with_role(username="nurse", role=roles.NURSE, password="pw"))
    assert nurse.post("/api/ingest/ble_minew/", b"[]", content_type="application/json").status_code == 403
