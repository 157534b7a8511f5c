"""End to end through the real Mosquitto broker: emulated gateways publish in their vendor formats, the real
adapters parse. Every wait is bounded; adapters run in daemon threads and must stop within ~1 s."""

from __future__ import annotations

import json
import os
import queue
import random
import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from readers.adapters.base import ReaderAdapter, ReaderSettings
from readers.adapters.ble_mqtt import ble_adapter_for, parser_for
from readers.adapters.mqtt_wire import encode_connect, encode_publish
from readers.drops import DropCounter
from readers.emulators.ble_gateway import BleGatewayEmulator, GatewaySpec, gateway_messages
from readers.emulators.sightings import BleSighting
from readers.reads import TagRead

HOST, PORT = "127.0.0.1", 1883
UUID = "b9a5d27d-56cc-4e3a-ab51-1f2153bcb967"


@pytest.fixture
def broker() -> None:
    """The real Mosquitto broker (`make test` starts it); its absence is a failure, not a skip."""
    socket.create_connection((HOST, PORT), timeout=1).close()


class Running:
    """An adapter's batches() pumped on a daemon thread into a queue."""

    def __init__(self, adapter: ReaderAdapter) -> None:
        self.adapter, self.reads = adapter, queue.Queue[TagRead]()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for batch in self.adapter.batches():
            for read in batch:
                self.reads.put(read)

    def collect(self, *, until: set[tuple[str, str]], timeout_s: float) -> set[tuple[str, str]]:
        seen: set[tuple[str, str]] = set()
        deadline = time.monotonic() + timeout_s
        while not until <= seen and time.monotonic() < deadline:
            try:
                read = self.reads.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.add((read.tag_id, read.reader_id))
        return seen

    def stop(self) -> float:
        started = time.monotonic()
        self.adapter.stop()
        self.thread.join(timeout=3)
        assert not self.thread.is_alive()
        return time.monotonic() - started


def _source(rng: random.Random) -> list[BleSighting]:
    return [
        BleSighting("w3-esp", "AC233F000001", rng.uniform(-80, -50), ibeacon=(UUID, 1, 17710)),
        BleSighting("w3-minew", "AC233F000002", rng.uniform(-80, -50), battery_pct=77),
        BleSighting("w3-minew", "AC233F000001", rng.uniform(-80, -50), ibeacon=(UUID, 1, 17710), battery_pct=50),
        BleSighting("stray-minew", "AC233F000003", rng.uniform(-80, -50)),
    ]


@pytest.fixture
def prefix() -> str:
    return f"test-{os.getpid()}-{time.monotonic_ns()}"  # one test's messages never reach another's adapters


@pytest.mark.usefixtures("broker")
def test_it_receives_two_formats_from_emulated_gateways_and_counts_an_unknown_gateway(prefix: str) -> None:
    rng = random.Random(7)
    specs = [
        GatewaySpec("w3-esp", "ble_espresense", "ward3", f"{prefix}/espresense/devices"),
        GatewaySpec("w3-minew", "ble_minew", "AC233FC001EA", f"{prefix}/minew/ac233fc001ea"),
        GatewaySpec("stray-minew", "ble_minew", "AC233FC0FFFF", f"{prefix}/minew/ac233fc0ffff"),
    ]
    drops = DropCounter()
    esp = ble_adapter_for("ble_espresense")(
        ReaderSettings(
            code="esp",
            protocol="ble_espresense",
            topic=f"{prefix}/espresense/devices/#",
            options={"mqtt_host": HOST, "mqtt_port": PORT, "gateways": {"Ward3": "w3-esp"}},
        ),
        drops=drops,
    )
    minew = ble_adapter_for("ble_minew")(
        ReaderSettings(
            code="minew",
            protocol="ble_minew",
            topic=f"{prefix}/minew/#",
            options={"mqtt_host": HOST, "mqtt_port": PORT, "gateways": {"ac:23:3f:c0:01:ea": "w3-minew"}},
        ),
        drops=drops,
    )
    running = [Running(esp), Running(minew)]
    time.sleep(0.5)  # let both subscribe before the first publish
    emulator = BleGatewayEmulator(specs, lambda _t: _source(rng), interval_s=0.2)
    emulator.start()
    try:
        got_esp = running[0].collect(until={("AC233F000001", "w3-esp")}, timeout_s=10)
        want_minew = {("AC233F000002", "w3-minew"), ("AC233F000001", "w3-minew")}
        got_minew = running[1].collect(until=want_minew, timeout_s=10)
    finally:
        emulator.stop()
        stop_s = [r.stop() for r in running]
    assert got_esp == {("AC233F000001", "w3-esp")}
    assert got_minew == want_minew
    assert drops.counts("AC233FC0FFFF").get("unknown_reader", 0) >= 1
    assert drops.counts("minew") == {} and drops.counts("esp") == {}
    assert max(stop_s) < 1.0


def test_it_encodes_every_format_so_the_real_parsers_read_it_back() -> None:
    rng = random.Random(3)
    sightings = [
        BleSighting("g", "AC233F00000A", -61.0, ibeacon=(UUID, 2, 3), battery_pct=80),
        BleSighting("g", "AC233F00000B", rng.uniform(-90, -40), battery_pct=40),
    ]
    ids = {"ble_espresense": "ward3", "ble_omg": "omg1", "ble_kontakt": "12Bh000T"}
    for protocol in ("ble_espresense", "ble_omg", "ble_minew", "ble_ingics", "ble_aprilbrother", "ble_kontakt"):
        spec = GatewaySpec("g", protocol, ids.get(protocol, "AC233FC001EA"), "" if protocol in ids else "t")
        drops, reads = DropCounter(), []
        t_s = time.time()
        for topic, payload in gateway_messages([spec], sightings, t_s):
            reads += parser_for(protocol)(
                payload,
                topic=topic,
                gateways={spec.gateway_id.lower() if protocol in ids else spec.gateway_id: "g"},
                drops=drops,
                now=spec_now(t_s),
            )
        assert drops.total() == 0, (protocol, drops.counts())
        assert sorted(r.tag_id for r in reads) == ["AC233F00000A", "AC233F00000B"], protocol
        assert all(r.reader_id == "g" for r in reads)


def spec_now(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, tz=UTC)


def test_it_stops_within_a_second_while_the_broker_is_unreachable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = ble_adapter_for("ble_ingics")(
        ReaderSettings(code="igs", protocol="ble_ingics", topic="igs/#", options={"mqtt_port": port})
    )
    running = Running(adapter)
    time.sleep(1.0)  # a few refused connects and backoff waits
    assert adapter.backoff.attempt >= 1
    assert running.stop() < 1.0


@pytest.mark.usefixtures("broker")
def test_it_takes_a_burst_of_espresense_messages_from_many_gateways_without_losing_one(prefix: str) -> None:
    """20,000 one-read messages from 20 gateway connections, as fast as Mosquitto takes them: every one arrives."""
    rooms = [f"room-{k}" for k in range(20)]
    drops = DropCounter()
    adapter = ble_adapter_for("ble_espresense")(
        ReaderSettings(code="esp", protocol="ble_espresense", topic=f"{prefix}/espresense/devices/#",
                       options={"gateways": {room: f"gw-{room}" for room in rooms}}),
        drops=drops,
    )
    running = Running(adapter)
    gateways = [_mqtt_connection() for _ in rooms]
    try:
        probe = encode_publish(f"{prefix}/espresense/devices/probe/{rooms[0]}", b'{"mac":"AC233FFFFFFF","rssi":-50.0}')
        deadline = time.monotonic() + 10
        while not running.collect(until={("AC233FFFFFFF", "gw-room-0")}, timeout_s=0.2) and time.monotonic() < deadline:
            gateways[0].sendall(probe)  # until the adapter has subscribed
        time.sleep(0.3)
        while not running.reads.empty():
            running.reads.get()
        for k, (room, sock) in enumerate(zip(rooms, gateways, strict=True)):
            sock.sendall(b"".join(
                encode_publish(f"{prefix}/espresense/devices/ac233f{k:02x}{i:04x}/{room}",
                               json.dumps({"mac": f"ac233f{k:02x}{i:04x}", "rssi": -60.5 - i % 30}).encode())
                for i in range(1_000)))
        got = running.collect(until={(f"AC233F{k:02X}{i:04X}", f"gw-{room}") for k, room in enumerate(rooms)
                                     for i in range(1_000)}, timeout_s=20)
    finally:
        for sock in gateways:
            sock.close()
        running.stop()
    assert len(got - {("AC233FFFFFFF", "gw-room-0")}) == 20_000
    assert drops.total() == 0


def _mqtt_connection() -> socket.socket:
    sock = socket.create_connection((HOST, PORT), timeout=5)
    sock.sendall(encode_connect(f"test-gw-{time.monotonic_ns()}", keepalive_s=30))
    assert sock.recv(4) == bytes.fromhex("20020000")
    return sock


def test_it_counts_a_topic_that_is_not_utf8_as_garbled_and_parses_the_rest() -> None:
    drops = DropCounter()
    adapter = ble_adapter_for("ble_ingics")(
        ReaderSettings(code="igs", protocol="ble_ingics", topic="igs/#", options={"gateway_id": "E7DAE08E6FC3"}),
        drops=drops,
    )
    body = b"$GPRP,0C61CFC1452E,E7:DA:E0:8E:6F:C3,-44,0201061AFF4C000215B9A5D27D56CC4E3AAB511F2153BCB9670001452ED6"
    reads = adapter.parse_batch([(b"igs/\xff", body), (b"igs/gw", body)], now=datetime.now(UTC))
    assert [(r.tag_id, r.reader_id) for r in reads] == [("0C61CFC1452E", "igs")]
    assert drops.counts("igs") == {"garbled": 1}
