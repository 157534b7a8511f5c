"""The UWB adapters against the emulators over real sockets: TCP (with a restart), UDP, and the real broker."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from readers.adapters.backoff import Backoff
from readers.adapters.base import ReaderAdapter, ReaderSettings
from readers.adapters.uwb_dwm1001 import Dwm1001Adapter, parse_les_line
from readers.adapters.uwb_mqtt import UwbMqttAdapter
from readers.drops import DropCounter
from readers.emulators.sightings import UwbRange
from readers.emulators.uwb_anchor import Dwm1001Emulator, UwbMqttEmulator
from readers.reads import TagRead

ANCHORS = {"1151": "w3-uwb-a1", "0CA8": "w3-uwb-a2", "111C": "w3-uwb-a3", "1150": "w3-uwb-a4"}
ANCHOR_XYZ_M = {"1151": (5.0, 8.0, 2.25), "0CA8": (0.0, 8.0, 2.25), "111C": (5.0, 0.0, 2.25), "1150": (0.0, 0.0, 2.25)}
BROKER = ("127.0.0.1", 1883)
WAIT_S = 5.0  # every wait below is bounded by this


def walking_tag(t_s: float) -> list[UwbRange]:
    """Tag 1A2B walking back and forth along y = 4 m; deterministic in t."""
    x_m = 2.5 + 2.0 * ((t_s % 10.0) / 10.0)
    return [
        UwbRange(anchor_code=ANCHORS[a], anchor_short_id=a, anchor_xyz_m=xyz, tag_id="1A2B",
                 range_m=((x_m - xyz[0]) ** 2 + (4.0 - xyz[1]) ** 2 + (1.0 - xyz[2]) ** 2) ** 0.5)
        for a, xyz in ANCHOR_XYZ_M.items()
    ]


class Collected:
    """Reads an adapter yields, gathered by a background thread."""

    def __init__(self) -> None:
        self.reads: queue.Queue[TagRead] = queue.Queue()
        self.errors: list[BaseException] = []

    def wait_for(self, n: int, *, timeout_s: float = WAIT_S) -> list[TagRead]:
        got: list[TagRead] = []
        deadline = time.monotonic() + timeout_s
        while len(got) < n and time.monotonic() < deadline:
            try:
                got.append(self.reads.get(timeout=0.05))
            except queue.Empty:
                continue
        assert len(got) >= n, f"{len(got)} of {n} reads in {timeout_s} s (errors: {self.errors})"
        return got

    def drain(self) -> None:
        while not self.reads.empty():
            self.reads.get_nowait()


@contextmanager
def running(adapter: ReaderAdapter) -> Iterator[Collected]:
    """Run adapter.batches() in a thread; on exit stop it and check it ended within about a second."""
    collected = Collected()

    def pump() -> None:
        try:
            for batch in adapter.batches():
                for read in batch:
                    collected.reads.put(read)
        except Exception as exc:  # surfaced by wait_for's message, and re-raised in this thread
            collected.errors.append(exc)
            raise

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        yield collected
    finally:
        stopped_at = time.monotonic()
        adapter.stop()
        thread.join(timeout=WAIT_S)
        assert not thread.is_alive(), "adapter did not stop"
        assert time.monotonic() - stopped_at < 1.5


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _dwm_adapter(address: str) -> Dwm1001Adapter:
    settings = ReaderSettings(code="w3-dwm", protocol="uwb_dwm1001", address=address,
                              options={"tag_id": "1A2B", "anchors": ANCHORS})
    return Dwm1001Adapter(settings, drops=DropCounter(), backoff=Backoff(base_s=0.05, cap_s=0.2))


@pytest.fixture
def emulator() -> Iterator[Dwm1001Emulator]:
    emulator = Dwm1001Emulator(walking_tag, interval_s=0.05, tag_id="1A2B")
    emulator.start()
    yield emulator
    emulator.stop()


def test_it_reads_ranges_from_the_emulator_over_tcp_and_again_after_it_restarts(emulator: Dwm1001Emulator) -> None:
    adapter = _dwm_adapter(f"socket://127.0.0.1:{emulator.port}")
    with running(adapter) as collected:
        before = collected.wait_for(8)
        assert {r.reader_id for r in before} == set(ANCHORS.values())
        assert all(r.tag_id == "1A2B" and r.range_m is not None for r in before)
        emulator.restart(0.3)  # clients dropped, refused for 0.3 s, then back on the same port
        restarted_at = datetime.now(UTC)
        collected.drain()
        after = collected.wait_for(8)
        assert all(r.seen_at >= restarted_at for r in after)
        assert emulator.client_count == 1
    assert adapter.drops.total() == 0


def test_it_keeps_retrying_while_nothing_listens_and_connects_when_the_module_appears() -> None:
    emulator = Dwm1001Emulator(walking_tag, interval_s=0.05, tag_id="1A2B")
    port = emulator.start()
    emulator.stop()  # port known, nobody listening: connections refused
    adapter = _dwm_adapter(f"socket://127.0.0.1:{port}")
    with running(adapter) as collected:
        time.sleep(0.3)
        emulator.start()
        try:
            collected.wait_for(4)
        finally:
            emulator.stop()


def test_it_writes_les_lines_the_parser_reads_back() -> None:
    emulator = Dwm1001Emulator(walking_tag, mode="les", tag_id="1A2B")
    (line,) = emulator.lines(12.5)
    now = datetime.fromtimestamp(12.5, tz=UTC)
    reads = parse_les_line(line, tag_id="1A2B", anchors=ANCHORS, drops=DropCounter(), now=now)
    expected = walking_tag(12.5)
    assert [r.reader_id for r in reads] == [e.anchor_code for e in expected]
    assert [r.range_m for r in reads] == pytest.approx([e.range_m for e in expected], abs=0.005)


def test_it_reads_lines_from_udp_datagrams() -> None:
    port = _free_udp_port()
    adapter = _dwm_adapter(f"udp://127.0.0.1:{port}")
    lines = Dwm1001Emulator(walking_tag, tag_id="1A2B").lines(3.0)
    datagram = (lines[0] + "\r\n" + lines[0]).encode()  # two lines, the last one with no newline
    with running(adapter) as collected, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        deadline = time.monotonic() + WAIT_S
        while collected.reads.qsize() < 8 and time.monotonic() < deadline:
            sender.sendto(datagram, ("127.0.0.1", port))  # again until the adapter has bound its socket
            time.sleep(0.05)
        reads = collected.wait_for(8)
    assert {r.reader_id for r in reads} == set(ANCHORS.values())
    assert adapter.drops.total() == 0


@pytest.fixture
def broker() -> tuple[str, int]:
    """The real Mosquitto broker (`make test` starts it); its absence is a failure, not a skip."""
    socket.create_connection(BROKER, timeout=1).close()
    return BROKER


def _mqtt_adapter(topic: str) -> UwbMqttAdapter:
    settings = ReaderSettings(code="w3-uwb-gw", protocol="uwb_mqtt", address="127.0.0.1:1883", topic=topic,
                              options={"anchors": ANCHORS})
    return UwbMqttAdapter(settings, drops=DropCounter())


def test_it_reads_ranges_through_the_real_broker(broker: tuple[str, int]) -> None:
    prefix = f"test-uwb-{uuid.uuid4().hex[:8]}"  # a topic no other test run shares
    adapter = _mqtt_adapter(f"{prefix}/#")
    emulator = UwbMqttEmulator(walking_tag, host=broker[0], port=broker[1], topic_prefix=prefix, interval_s=0.05)
    with running(adapter) as collected:
        emulator.start()
        try:
            reads = collected.wait_for(8)
        finally:
            emulator.stop()
    assert {r.reader_id for r in reads} == set(ANCHORS.values())
    assert all(r.tag_id == "1A2B" and r.range_m is not None for r in reads)
    assert adapter.drops.total() == 0


def test_it_reads_dwm1001_gateway_positions_through_the_real_broker(broker: tuple[str, int]) -> None:
    prefix = f"test-dwm-{uuid.uuid4().hex[:8]}"
    adapter = _mqtt_adapter(f"{prefix}/node/+/uplink/location")
    payload = json.dumps({"position": {"x": 1.25, "y": 3.5, "z": 0.9, "quality": 93}, "superFrameNumber": 79})
    with running(adapter) as collected:
        _publish_until(lambda: collected.reads.qsize() > 0, f"{prefix}/node/0d13/uplink/location", payload)
        (read, *_) = collected.wait_for(1)
    assert (read.tag_id, read.reader_id, read.range_m) == ("0D13", "w3-uwb-gw", None)
    assert read.raw["position_m"] == (1.25, 3.5, 0.9)


def _publish_until(done: Callable[[], bool], topic: str, payload: str) -> None:
    """Publish every 0.1 s until done() (the adapter may not have subscribed yet); bounded by WAIT_S."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(*BROKER)
    client.loop_start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not done() and time.monotonic() < deadline:
            client.publish(topic, payload)
            time.sleep(0.1)
    finally:
        client.disconnect()
        client.loop_stop()
