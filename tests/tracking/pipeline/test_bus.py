"""The bus against the real Redis: floor streams, leases shared fairly and handed over, lag that shows, and the
in-process queue's back-pressure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from django.conf import settings

from readers.drops import DropCounter
from readers.reads import TagRead, Tech
from readers.sinks import FloorStreamSink, floor_stream
from tracking.pipeline.bus import InProcessBus, RedisStreamBus


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()  # this test run's own Redis database
    yield client
    client.flushdb()
    client.close()


def reads(n: int, reader: str = "G1") -> list[TagRead]:
    return [TagRead(f"T{i}", reader, Tech.BLE, datetime.now(UTC), rssi_dbm=-60.0) for i in range(n)]


def test_it_sends_each_read_to_its_floor_stream_and_counts_readers_with_no_floor(client: redis.Redis) -> None:
    drops = DropCounter()
    sink = FloorStreamSink(client, reader_floor={"G1": 1, "G2": 2}, drops=drops)
    sink(reads(3, "G1") + reads(2, "G2") + reads(1, "ghost"))
    assert (client.xlen(floor_stream(1)), client.xlen(floor_stream(2))) == (3, 2)
    assert drops.counts() == {"unknown_reader": 1} and sink.written == 5


def test_it_shows_unprocessed_reads_as_lag_until_they_are_acknowledged(client: redis.Redis) -> None:
    bus = RedisStreamBus(client, worker="w1")
    assert bus.maintain([1]).acquired == {1}
    FloorStreamSink(client, reader_floor={"G1": 1}, drops=DropCounter())(reads(10))
    time.sleep(0.05)
    entries, age_s = bus.lag()
    assert entries == 10 and age_s >= 0.05
    deliveries = bus.poll(0.5)
    assert sum(len(d.reads) for d in deliveries) == 10 and {d.floor_id for d in deliveries} == {1}
    assert bus.lag()[0] == 10  # delivered is not processed: still lag until acknowledged
    bus.ack(deliveries)
    assert bus.lag() == (0, 0.0)


def test_it_shares_floors_between_workers_and_hands_a_dead_workers_floors_over(client: redis.Redis) -> None:
    floors = [1, 2, 3, 4]
    one, two = RedisStreamBus(client, worker="w1", lease_ttl_s=0.5), RedisStreamBus(client, worker="w2",
                                                                                    lease_ttl_s=0.5)
    assert one.maintain(floors).acquired == set(floors)  # alone: every floor
    two.maintain(floors)  # announces itself; nothing is free yet
    surplus = one.maintain(floors).surplus
    assert len(surplus) == 2
    one.release(surplus)
    assert two.maintain(floors).acquired == surplus
    FloorStreamSink(client, reader_floor={"G1": min(one.owned() or {0})}, drops=DropCounter())(reads(3))
    taken = one.poll(0.5)  # read, never acknowledged: then w1 dies
    assert sum(len(d.reads) for d in taken) == 3
    time.sleep(0.6)  # its leases and its heartbeat expire
    two.maintain(floors)
    assert two.owned() == set(floors)
    claimed = two.poll(0.1)
    assert [d.redelivered for d in claimed] == [True] and [r.tag_id for r in claimed[0].reads] == ["T0", "T1", "T2"]


def test_the_in_process_queue_reports_its_lag_and_drops_only_after_waiting(caplog: pytest.LogCaptureFixture) -> None:
    bus = InProcessBus(max_reads=5, put_timeout_s=0.05)
    bus.put(reads(5))
    time.sleep(0.02)
    entries, age_s = bus.lag()
    assert entries == 5 and age_s >= 0.02
    started = time.monotonic()
    bus.put(reads(3))  # full: waits, then drops (and says so)
    assert time.monotonic() - started >= 0.05 and bus.overflow == 3 and "dropped 3 reads" in caplog.text
    assert [len(d.reads) for d in bus.poll(0.1)] == [5] and bus.lag() == (0, 0.0)
