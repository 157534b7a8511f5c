"""A BLE gateway that hears no tag still shows it is up, as real ones do: a Minew gateway uploads its own
record alone at every upload interval, an ESPresense node publishes its telemetry every 15 s. The emulated
gateways do the same; the adapters count such an upload as the gateway alive (reader health) and make no read
of it. (On the demo, the gateways of floor L0, where no tag ever goes, showed offline.)"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from readers.adapters.base import ReaderSettings
from readers.adapters.ble_espresense import parse_espresense, parse_espresense_batch, telemetry_topic
from readers.adapters.ble_minew import parse_minew
from readers.adapters.ble_mqtt import ble_adapter_for, gateway_table
from readers.drops import DropCounter
from readers.emulators.ble_gateway import BleGatewayEmulator, GatewaySpec, gateway_messages, gateway_telemetry
from readers.emulators.sightings import BleSighting
from readers.health import ONLINE, UNKNOWN, HealthTracker
from readers.reads import TagRead, utc_now
from readers.supervisor import AdapterSpec, Supervisor

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
GATEWAYS = gateway_table({"AC:23:3F:C0:01:EA": "L0-minew", "l0-store": "BLE-L0-STORE"})
# the Minew G1 payload of a gateway that heard nothing: its own record alone (../shared/data/README.md)
IDLE_MINEW = '[{"timestamp":"2026-11-22T07:59:59Z","type":"Gateway","mac":"AC233FC001EA","gatewayFree":98,' \
             '"gatewayLoad":0.05}]'
TELEMETRY = '{"ip":"10.0.4.17","uptime":86400,"firm":"esp32","rssi":-61,"ver":"v3.3.2","freeHeap":112000,' \
            '"maxHeap":65524,"scanStack":1340,"loopStack":5012,"bleStack":1788}'
SPECS = [
    GatewaySpec("L0-minew", "ble_minew", "AC233FC001EA", "gw/minew"),
    GatewaySpec("BLE-L0-STORE", "ble_espresense", "l0-store"),
    GatewaySpec("L0-igs", "ble_ingics", "E7DAE08E6FC3", "gw/igs"),
    GatewaySpec("L0-omg", "ble_omg", "omg-l0"),
]


@pytest.mark.parametrize(("fmt", "topic", "payload", "heard", "drops"), [
    ("minew", "gw/minew", IDLE_MINEW, {"L0-minew"}, {}),
    ("minew", "gw/minew", IDLE_MINEW.replace("C001EA", "C0FFFF"), set(), {"AC233FC0FFFF": {"unknown_reader": 1}}),
    ("minew", "gw/minew", IDLE_MINEW[:-1] + ',{"type":"iBeacon","mac":"AC233F000001"}]', {"L0-minew"},
     {"L0-minew": {"missing_field": 1}}),  # a bad device record: still the gateway's sign of life
    ("espresense", "espresense/rooms/l0-store/telemetry", TELEMETRY, {"BLE-L0-STORE"}, {}),
    ("espresense", "site/espresense/rooms/L0-STORE/telemetry", "not even JSON", {"BLE-L0-STORE"}, {}),
    ("espresense", "espresense/rooms/boiler_room/telemetry", TELEMETRY, set(), {"boiler_room": {"unknown_reader": 1}}),
    ("espresense", "espresense/rooms/l0-store/status", "online", set(), {"ble_espresense": {"unknown_format": 1}}),
])
def test_it_takes_an_idle_upload_as_the_gateway_alive_and_makes_no_read_of_it(
    fmt: str, topic: str, payload: str, heard: set[str], drops: dict[str, dict[str, int]],
) -> None:
    parse = parse_minew if fmt == "minew" else parse_espresense
    counter, got = DropCounter(), set[str]()
    reads = parse(payload.encode(), topic=topic, gateways=GATEWAYS, drops=counter, now=NOW, heard=got)
    assert reads == [] and got == heard
    assert {reader: counter.counts(reader) for reader in drops} == drops
    assert counter.total() == sum(sum(by_reason.values()) for by_reason in drops.values())


def test_the_espresense_batch_parser_takes_telemetry_as_the_single_message_parser_does() -> None:
    sighting = b'{"mac":"ac233f000001","rssi":-70.5}'
    messages = [(b"espresense/rooms/l0-store/telemetry", TELEMETRY.encode()),
                (b"espresense/devices/ac233f000001/l0-store", sighting),
                (b"espresense/rooms/l0-store/telemetry", TELEMETRY.encode())]  # the cached route, again
    heard = set[str]()
    reads = parse_espresense_batch(messages, gateways=GATEWAYS, drops=DropCounter(), now=NOW, routes={}, heard=heard)
    assert [(r.tag_id, r.reader_id) for r in reads] == [("AC233F000001", "BLE-L0-STORE")]
    assert heard == {"BLE-L0-STORE"}


@pytest.mark.parametrize(("devices", "telemetry"), [
    ("espresense/devices/#", "espresense/rooms/+/telemetry"),
    ("site/espresense/devices/#", "site/espresense/rooms/+/telemetry"),
    ("espresense/devices/+/ward3-bed1", "espresense/rooms/ward3-bed1/telemetry"),
    ("espresense/devices/+/+", "espresense/rooms/+/telemetry"),
    ("espresense/#", None),  # takes the telemetry already
])
def test_it_subscribes_to_the_telemetry_of_the_nodes_its_devices_topic_covers(devices: str,
                                                                               telemetry: str | None) -> None:
    assert telemetry_topic(devices) == telemetry


def test_an_idle_emulated_minew_gateway_uploads_its_own_record_and_the_formats_without_one_stay_quiet() -> None:
    messages = gateway_messages(SPECS, [], NOW.timestamp())
    assert [topic for topic, _ in messages] == ["gw/minew"]
    (record,) = json.loads(messages[0][1])
    assert (record["type"], record["mac"]) == ("Gateway", "AC233FC001EA")
    assert record["timestamp"] == "2026-11-22T08:00:00.000Z"
    busy = gateway_messages(SPECS, [BleSighting("L0-minew", "AC233F000001", -70.0)], NOW.timestamp())
    assert len(json.loads(busy[0][1])) == 2  # the gateway's record, then the tag's


def test_emulated_espresense_nodes_send_telemetry_beside_their_devices_topic() -> None:
    specs = [*SPECS, GatewaySpec("BLE-2E-201", "ble_espresense", "2e-201", "site/espresense/devices")]
    messages = gateway_telemetry(specs, uptime_s=42.7)
    assert [topic for topic, _ in messages] == ["espresense/rooms/l0-store/telemetry",
                                                "site/espresense/rooms/2e-201/telemetry"]
    assert json.loads(messages[0][1])["uptime"] == 42


def test_the_real_parsers_take_what_idle_emulated_gateways_send_as_signs_of_life() -> None:
    heard, drops = set[str](), DropCounter()
    for topic, payload in gateway_messages(SPECS, [], NOW.timestamp()) + gateway_telemetry(SPECS, uptime_s=1.0):
        parse = parse_minew if topic.startswith("gw/") else parse_espresense
        assert parse(payload, topic=topic, gateways=GATEWAYS, drops=drops, now=NOW, heard=heard) == []
    assert heard == {"L0-minew", "BLE-L0-STORE"} and drops.total() == 0


@pytest.fixture
def broker() -> None:
    """The real Mosquitto broker (`make test` starts it); its absence is a failure, not a skip."""
    socket.create_connection(("127.0.0.1", 1883), timeout=1).close()


@pytest.mark.usefixtures("broker")
def test_gateways_that_hear_no_tag_are_online_through_the_real_adapters_and_supervisor() -> None:
    prefix = f"test-{os.getpid()}-{time.monotonic_ns()}"  # this test's messages reach this test's adapters only
    minew = GatewaySpec("L0-minew", "ble_minew", "AC233FC001EA", f"{prefix}/gw/minew")
    esp = GatewaySpec("BLE-L0-STORE", "ble_espresense", "l0-store", f"{prefix}/espresense/devices")
    options = {"mqtt_host": "127.0.0.1", "mqtt_port": 1883}
    specs = [
        AdapterSpec(ble_adapter_for("ble_minew"), ReaderSettings(
            code="minew", protocol="ble_minew", topic=f"{prefix}/gw/#",
            options=options | {"gateways": {"AC233FC001EA": "L0-minew", "AC233FC0BEEF": "L0-minew-unplugged"}}),
            ("L0-minew", "L0-minew-unplugged")),
        AdapterSpec(ble_adapter_for("ble_espresense"), ReaderSettings(
            code="esp", protocol="ble_espresense", topic=f"{prefix}/espresense/devices/#",
            options=options | {"gateways": {"l0-store": "BLE-L0-STORE"}}), ("BLE-L0-STORE",)),
    ]
    received: list[TagRead] = []
    health = HealthTracker(["L0-minew", "L0-minew-unplugged", "BLE-L0-STORE"], started_at=utc_now())
    supervisor = Supervisor(specs, sink=received.extend, drops=DropCounter(), health=health)
    supervisor.start()
    threading.Event().wait(0.5)  # both adapters subscribed before the first upload
    emulator = BleGatewayEmulator([minew, esp], lambda _t_s: [], interval_s=0.2, telemetry_s=0.5)
    emulator.start()
    try:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            states = {s.reader_id: s for s in health.snapshot(utc_now())[0]}
            if states["L0-minew"].state == states["BLE-L0-STORE"].state == ONLINE:
                break
            threading.Event().wait(0.1)
    finally:
        emulator.stop()
        assert supervisor.stop(timeout_s=3.0) == []
    assert {r: (s.state, s.reads_total) for r, s in states.items()} == {
        "L0-minew": (ONLINE, 0), "BLE-L0-STORE": (ONLINE, 0),
        "L0-minew-unplugged": (UNKNOWN, 0),  # a gateway that sends nothing is not taken along with the others
    }
    assert received == [] and emulator.published >= 2  # the first upload and the first telemetry, at least
