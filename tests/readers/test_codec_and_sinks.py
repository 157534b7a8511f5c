"""TagReads survive the trip through the real Redis stream unchanged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from django.conf import settings

from readers.codec import read_from_fields, read_to_fields
from readers.reads import TagRead, TagStatus, Tech
from readers.sinks import RedisStreamSink

READS = [
    TagRead("300833B2DDD9014000000001", "RFID-X1", Tech.RFID, datetime(2026, 11, 22, 8, 0, 0, 123456, tzinfo=UTC),
            rssi_dbm=-52.5, antenna=2, phase_rad=1.25),
    TagRead("AC233F000001", "BLE-101", Tech.BLE, datetime(2026, 11, 22, 8, 0, 1, tzinfo=UTC), rssi_dbm=-81.1,
            status=TagStatus(battery_pct=87, button=True, tamper=False)),
    TagRead("1A2B", "UWB-1", Tech.UWB, datetime(2026, 11, 22, 8, 0, 2, tzinfo=UTC), range_m=6.44),
]


@pytest.mark.parametrize("read", READS, ids=[r.tech.value for r in READS])
def test_it_round_trips_every_field_but_the_raw_payload(read: TagRead) -> None:
    assert read_from_fields(read_to_fields(read)) == read


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(settings.REDIS_URL)
    yield connection
    connection.close()


def test_the_redis_sink_appends_every_read_in_order(client: redis.Redis) -> None:
    stream = f"test:reads:{uuid.uuid4().hex}"
    sink = RedisStreamSink(client, stream=stream)
    try:
        sink(READS[:2])
        sink(READS[2:])
        entries = client.xrange(stream) or []
        assert [read_from_fields(fields or {}) for _, fields in entries] == READS
        assert sink.written == 3
    finally:
        client.delete(stream)
