"""The supervisor keeps every reader running whatever one of them does, and health follows the reads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from readers.adapters.backoff import Backoff
from readers.adapters.base import ReaderAdapter, ReaderError, ReaderSettings
from readers.drops import DropCounter
from readers.health import OFFLINE, ONLINE, UNKNOWN, HealthTracker
from readers.reads import TagRead, Tech, utc_now
from readers.supervisor import AdapterSpec, Supervisor

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _read(reader_id: str, n: int) -> TagRead:
    return TagRead(tag_id=f"TAG{n}", reader_id=reader_id, tech=Tech.RFID, seen_at=utc_now(), rssi_dbm=-50.0)


class _Steady(ReaderAdapter):
    """Stands in for a healthy reader: a read every 10 ms until stopped."""

    protocol: ClassVar[str] = "test_steady"
    tech: ClassVar[Tech] = Tech.RFID

    def batches(self) -> Iterator[list[TagRead]]:
        n = 0
        while not self.stopping.wait(0.01):
            n += 1
            yield [_read(self.settings.code, n)]


class _Flaky(ReaderAdapter):
    """A reader that delivers two reads and then breaks (a bug or a dropped connection), every time."""

    protocol: ClassVar[str] = "test_flaky"
    tech: ClassVar[Tech] = Tech.RFID
    starts: ClassVar[int] = 0

    def batches(self) -> Iterator[list[TagRead]]:
        type(self).starts += 1
        yield [_read(self.settings.code, 1), _read(self.settings.code, 2)]
        raise RuntimeError("reader went away")


class _Misconfigured(ReaderAdapter):
    protocol: ClassVar[str] = "test_misconfigured"
    tech: ClassVar[Tech] = Tech.RFID
    starts: ClassVar[int] = 0

    def batches(self) -> Iterator[list[TagRead]]:
        type(self).starts += 1
        raise ReaderError("bad address 'nowhere'", permanent=True)
        yield []


class _RefusesSettings(ReaderAdapter):
    """A reader whose row lacks what its adapter needs (e.g. a DWM1001 without its tag id)."""

    protocol: ClassVar[str] = "test_refuses"
    tech: ClassVar[Tech] = Tech.UWB

    def __init__(self, settings: ReaderSettings, **kwargs: Any) -> None:
        raise ReaderError(f"{settings.code}: options['tag_id'] is required", permanent=True)

    def batches(self) -> Iterator[list[TagRead]]:
        yield []


def _spec(adapter: type[ReaderAdapter], code: str) -> AdapterSpec:
    return AdapterSpec(adapter, ReaderSettings(code=code, protocol=adapter.protocol), (code,))


def test_it_keeps_good_readers_running_while_others_fail() -> None:
    received: list[TagRead] = []
    lock = threading.Lock()

    def sink(batch: list[TagRead]) -> None:
        with lock:
            received.extend(batch)

    health = HealthTracker(["GOOD", "FLAKY", "BAD"], started_at=utc_now())
    supervisor = Supervisor(
        [_spec(_Steady, "GOOD"), _spec(_Flaky, "FLAKY"), _spec(_Misconfigured, "BAD")],
        sink=sink, drops=DropCounter(), health=health, backoff=lambda: Backoff(base_s=0.01, cap_s=0.02),
    )
    supervisor.start()
    threading.Event().wait(0.6)
    assert supervisor.stop(timeout_s=3.0) == []
    by_reader = {r.reader_id for r in received}
    assert by_reader == {"GOOD", "FLAKY"}
    assert sum(r.reader_id == "GOOD" for r in received) > 20
    assert _Flaky.starts >= 3  # restarted after each failure
    assert _Misconfigured.starts == 1  # a permanent error is not retried
    states = {s.reader_id: s for s in health.snapshot(utc_now())[0]}
    assert states["BAD"].last_error == "bad address 'nowhere'" and states["BAD"].reads_total == 0
    assert "reader went away" in states["FLAKY"].last_error


def test_an_adapter_that_refuses_its_settings_is_reported_and_the_rest_run() -> None:
    received: list[TagRead] = []
    health = HealthTracker(["GOOD", "MISCONFIGURED"], started_at=utc_now())
    supervisor = Supervisor([_spec(_Steady, "GOOD"), _spec(_RefusesSettings, "MISCONFIGURED")],
                            sink=received.extend, drops=DropCounter(), health=health)
    supervisor.start()
    threading.Event().wait(0.2)
    assert supervisor.stop() == []
    states = {s.reader_id: s for s in health.snapshot(utc_now())[0]}
    assert states["MISCONFIGURED"].last_error == "MISCONFIGURED: options['tag_id'] is required"
    assert received and {r.reader_id for r in received} == {"GOOD"}


def test_a_failing_sink_is_counted_and_the_reads_keep_coming() -> None:
    calls: list[int] = []

    def sink(batch: list[TagRead]) -> None:
        calls.append(len(batch))
        if len(calls) % 2:
            raise ValueError("database hiccup")

    supervisor = Supervisor([_spec(_Steady, "GOOD")], sink=sink, drops=DropCounter(),
                            health=HealthTracker(["GOOD"], started_at=utc_now()))
    supervisor.start()
    threading.Event().wait(0.3)
    supervisor.stop()
    assert len(calls) > 10 and supervisor.sink_failures == (len(calls) + 1) // 2


def test_health_goes_online_with_reads_and_offline_after_silence_once() -> None:
    health = HealthTracker(["R1", "R2"], offline_after_s=60, started_at=T0)
    states, changes = health.snapshot(T0 + timedelta(seconds=5))
    assert {s.state for s in states} == {UNKNOWN} and changes == []
    health.record([_read("R1", n) for n in range(50)], received_at=T0 + timedelta(seconds=9))
    health.record([_read("UNKNOWN-READER", 1)], received_at=T0 + timedelta(seconds=9))  # ignored, no crash
    states, changes = health.snapshot(T0 + timedelta(seconds=10))
    r1 = next(s for s in states if s.reader_id == "R1")
    assert (r1.state, r1.reads_total, r1.reads_per_s) == (ONLINE, 50, 10.0)
    assert [(c.reader_id, c.state) for c in changes] == [("R1", ONLINE)]
    _, changes = health.snapshot(T0 + timedelta(seconds=65))  # R2 never heard from in 65 s
    assert [(c.reader_id, c.state) for c in changes] == [("R2", OFFLINE)]
    _, changes = health.snapshot(T0 + timedelta(seconds=70))  # R1 silent for 61 s
    assert [(c.reader_id, c.state) for c in changes] == [("R1", OFFLINE)]
    _, changes = health.snapshot(T0 + timedelta(seconds=80))
    assert changes == []  # reported once, not every snapshot


def test_a_connected_reader_with_no_tag_in_its_field_is_online() -> None:
    health = HealthTracker(["PORTAL"], offline_after_s=60, started_at=T0)
    health.alive(["PORTAL", "NOT-OURS"], at=T0 + timedelta(seconds=50))
    states, changes = health.snapshot(T0 + timedelta(seconds=70))
    assert [(s.reader_id, s.state, s.reads_total) for s in states] == [("PORTAL", ONLINE, 0)]
    assert [c.state for c in changes] == [ONLINE]
    _, changes = health.snapshot(T0 + timedelta(seconds=111))  # link gone 61 s ago
    assert [c.state for c in changes] == [OFFLINE]
