"""LlrpAdapter (sllurp 3.0.5) against LlrpReaderEmulator (pyllrp) over real TCP on 127.0.0.1.

Nothing here can hang: every wait polls with a deadline and every thread is joined with a timeout.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from readers.adapters.base import ReaderError, ReaderSettings
from readers.adapters.rfid_llrp import LlrpAdapter
from readers.emulators.llrp_reader import LlrpReaderEmulator
from readers.emulators.sightings import RfidSighting, RfidSource
from readers.reads import TagRead

WAIT_S = 10.0  # generous deadline for anything that normally takes well under a second
FAST = {"keepalive_ms": 1000, "backoff_base_s": 0.1, "backoff_cap_s": 0.4, "report_timeout_ms": 50}
SIGHTINGS = [
    RfidSighting("300833B2DDD9014000000001", antenna=1, rssi_dbm=-52.37, phase_rad=0.5),
    RfidSighting("300833B2DDD9014000000002", antenna=3, rssi_dbm=-67.0, phase_rad=3.0),
    RfidSighting("E2801170000002000000000000001234", antenna=4, rssi_dbm=-71.25, phase_rad=6.0),
]


class Run:
    """The adapter's batches() consumed in a thread, collecting reads."""

    def __init__(self, adapter: LlrpAdapter) -> None:
        self.adapter = adapter
        self.reads: list[TagRead] = []
        self.batches = 0
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._consume, daemon=True)
        self.thread.start()

    def _consume(self) -> None:
        try:
            for batch in self.adapter.batches():
                with self.lock:
                    self.reads.extend(batch)
                    self.batches += 1
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread to re-raise
            self.error = exc

    def snapshot(self) -> list[TagRead]:
        with self.lock:
            return list(self.reads)

    def wait_for(self, done: Callable[[list[TagRead]], bool], timeout_s: float = WAIT_S) -> list[TagRead]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.thread.is_alive():
            reads = self.snapshot()
            if done(reads):
                return reads
            time.sleep(0.01)
        raise AssertionError(f"timed out with {len(self.snapshot())} reads; error={self.error!r}")

    def stop(self) -> float:
        """stop() and the seconds until batches() returned."""
        start = time.monotonic()
        self.adapter.stop()
        self.thread.join(timeout=WAIT_S)
        assert not self.thread.is_alive(), "batches() did not end after stop()"
        return time.monotonic() - start


@pytest.fixture
def start_reader() -> Iterator[Callable[..., LlrpReaderEmulator]]:
    emulators: list[LlrpReaderEmulator] = []

    def start(source: RfidSource, **kwargs: Any) -> LlrpReaderEmulator:
        emulator = LlrpReaderEmulator(source, report_interval_s=kwargs.pop("report_interval_s", 0.05), **kwargs)
        emulator.start()
        emulators.append(emulator)
        return emulator

    yield start
    for emulator in emulators:
        emulator.stop()


@pytest.fixture
def run_adapter() -> Iterator[Callable[..., Run]]:
    runs: list[Run] = []

    def run(address: str, antennas: tuple[int, ...] = (), **options: Any) -> Run:
        settings = ReaderSettings(code="dock-1", protocol="rfid_llrp", address=address, antennas=antennas,
                                  options={**FAST, **options})
        runs.append(Run(LlrpAdapter(settings)))
        return runs[-1]

    yield run
    for started in runs:
        started.stop()


def _all_epcs_seen(reads: list[TagRead]) -> bool:
    return {r.tag_id for r in reads} >= {s.epc_hex for s in SIGHTINGS}


def test_it_streams_reads_with_impinj_rssi_and_phase_end_to_end(start_reader: Any, run_adapter: Any) -> None:
    reader = start_reader(lambda t: SIGHTINGS)
    run = run_adapter(f"127.0.0.1:{reader.port}")
    reads = run.wait_for(_all_epcs_seen)
    by_epc = {r.tag_id: r for r in reads}
    for s in SIGHTINGS:
        read = by_epc[s.epc_hex]
        assert (read.reader_id, read.antenna, read.rssi_dbm) == ("dock-1", s.antenna, s.rssi_dbm)
        assert read.phase_rad == pytest.approx(s.phase_rad, abs=2 * math.pi / 4096)
        assert read.raw["ImpinjPeakRSSI"] == round(s.rssi_dbm * 100)
    assert run.stop() < 1.0
    assert run.adapter.impinj and run.adapter.drops.total() == 0


def test_it_goes_on_without_impinj_when_the_reader_has_none(start_reader: Any, run_adapter: Any) -> None:
    reader = start_reader(lambda t: SIGHTINGS, impinj=False)
    run = run_adapter(f"127.0.0.1:{reader.port}")
    reads = run.wait_for(_all_epcs_seen)
    assert {(r.tag_id, r.rssi_dbm, r.phase_rad) for r in reads} == {
        ("300833B2DDD9014000000001", -52.0, None), ("300833B2DDD9014000000002", -67.0, None),
        ("E2801170000002000000000000001234", -71.0, None)}  # whole dBm: LLRP's PeakRSSI
    assert run.adapter.impinj is False and run.adapter.connections == 2


def test_it_reports_only_the_antennas_asked_for(start_reader: Any, run_adapter: Any) -> None:
    reader = start_reader(lambda t: SIGHTINGS)
    run = run_adapter(f"127.0.0.1:{reader.port}", antennas=(3, 4))
    reads = run.wait_for(lambda rs: len({r.antenna for r in rs}) >= 2)
    assert {r.antenna for r in reads} == {3, 4}


class Numbered:
    """A source that sees one new tag per report interval, its sequence number in the EPC, and remembers which
    connection of the reader (1, 2, ...) was inventorying when it was emitted."""

    def __init__(self) -> None:
        self.reader: LlrpReaderEmulator | None = None
        self.emitted: list[tuple[int, int]] = []
        self.quiet = False

    def __call__(self, t_s: float) -> list[RfidSighting]:
        if self.quiet or self.reader is None:
            return []
        seq = len(self.emitted) + 1
        self.emitted.append((seq, self.reader.counters["connections"]))
        return [RfidSighting(f"3008{seq:020X}", antenna=1 + seq % 4, rssi_dbm=-50.0)]

    def since(self, connection: int) -> set[int]:
        return {seq for seq, conn in self.emitted if conn >= connection}


def _seqs(reads: list[TagRead]) -> set[int]:
    return {int(r.tag_id[4:], 16) for r in reads}


def test_it_reconnects_after_a_reader_restart_without_losing_reads(start_reader: Any, run_adapter: Any) -> None:
    source = Numbered()
    reader = start_reader(source)
    source.reader = reader
    run = run_adapter(f"127.0.0.1:{reader.port}")
    run.wait_for(lambda rs: len(rs) >= 5)
    reader.restart(down_s=0.3)
    run.wait_for(lambda rs: len(_seqs(rs) & source.since(2)) >= 10)
    source.quiet = True
    run.wait_for(lambda rs: _seqs(rs) >= source.since(2))  # every sighting after the reconnect arrived
    assert run.adapter.connections == 2 and reader.counters["restarts"] == 1
    assert _seqs(run.snapshot()) <= {seq for seq, _ in source.emitted}
    assert run.stop() < 1.0


def test_it_stops_promptly_while_reads_are_flowing(start_reader: Any, run_adapter: Any) -> None:
    reader = start_reader(lambda t: SIGHTINGS * 20, report_interval_s=0.01)
    run = run_adapter(f"127.0.0.1:{reader.port}")
    run.wait_for(lambda rs: len(rs) > 200)
    assert run.stop() < 1.0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_it_retries_an_unreachable_reader_with_backoff_and_stops_cleanly(
    run_adapter: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="readers.adapters.rfid_llrp")
    run = run_adapter(f"127.0.0.1:{_closed_port()}", backoff_base_s=0.05, backoff_cap_s=0.2)
    time.sleep(0.8)
    delays = [float(r.getMessage().split(" in ")[1].split()[0]) for r in caplog.records if "reconnecting" in r.msg]
    assert len(delays) >= 3 and delays[0] <= 0.05 and max(delays) <= 0.2 and delays[-1] > delays[0]
    assert run.stop() < 1.0
    assert run.adapter.connections == 0 and run.error is None


def test_it_refuses_an_address_that_is_not_host_port(run_adapter: Any) -> None:
    run = run_adapter("dock-1-reader:llrp")
    run.thread.join(timeout=WAIT_S)
    assert isinstance(run.error, ReaderError) and run.error.permanent


def test_it_survives_clients_that_hang_up_at_any_point(start_reader: Any, run_adapter: Any) -> None:
    reader = start_reader(lambda t: SIGHTINGS)
    capabilities = bytes.fromhex("0401" "0000000b" "00000001" "00")  # GET_READER_CAPABILITIES, all
    for cut in (0, 4, len(capabilities), len(capabilities) + 3):
        with socket.create_connection(("127.0.0.1", reader.port), timeout=1.0) as sock:
            sock.sendall((capabilities * 2)[:cut])
    run = run_adapter(f"127.0.0.1:{reader.port}")
    run.wait_for(_all_epcs_seen)
