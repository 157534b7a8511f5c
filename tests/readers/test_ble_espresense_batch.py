"""ESPresense's batch path (what the adapter runs on each window of MQTT messages) gives exactly the reads and the
counted drops of the one-message parser: on the recorded payloads, and on anything hypothesis makes up."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.adapters import ble_espresense
from readers.adapters.base import ReaderSettings
from readers.adapters.ble_espresense import EspresenseAdapter, parse_espresense_batch
from readers.adapters.ble_mqtt import BleMqttAdapter, gateway_table
from readers.adapters.mqtt_wire import Message
from readers.drops import DropCounter

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "ble" / "espresense.json").read_text(encoding="utf-8"))
NOW = datetime.fromisoformat(FIXTURE["now"])
FUZZ = settings(derandomize=True, max_examples=300, deadline=None, database=None)


def _adapter(drops: DropCounter) -> EspresenseAdapter:
    settings = ReaderSettings(code="esp", protocol="ble_espresense", options={"gateways": FIXTURE["gateways"]})
    return EspresenseAdapter(settings, drops=drops)


def _both(messages: list[Message]) -> tuple[tuple[list[str], dict[str, int]], tuple[list[str], dict[str, int]]]:
    """(reads, drops) from the batch path and from parse_espresense one message at a time (the base adapter's
    parse_batch). Reads compared by repr: a NaN kept in `raw` is equal to itself there."""
    one_drops, batch_drops = DropCounter(), DropCounter()
    one = BleMqttAdapter.parse_batch(_adapter(one_drops), messages, now=NOW)
    batch = _adapter(batch_drops).parse_batch(messages, now=NOW)
    return ([repr(r) for r in batch], batch_drops.counts()), ([repr(r) for r in one], one_drops.counts())


def _recorded() -> list[Message]:
    return [(case["topic"].encode(), case["payload"].encode()) for case in FIXTURE["cases"]]


@pytest.mark.parametrize("message", _recorded(), ids=[case["name"] for case in FIXTURE["cases"]])
def test_it_reads_each_recorded_message_as_the_one_message_parser_does(message: Message) -> None:
    batch, one = _both([message])
    assert batch == one


def test_it_reads_a_window_of_recorded_messages_as_the_one_message_parser_does() -> None:
    messages = _recorded() * 3
    (reads, drops), one = _both(messages)
    assert (reads, drops) == one
    assert len(reads) == 9 and drops == {"unknown_reader": 3, "truncated": 3, "absurd_value": 3, "wrong_type": 3,
                                         "unknown_format": 3}


@pytest.mark.parametrize("payload", [
    b' {"mac":"dd8800003777","rssi":-60.5}',  # whitespace around: json.loads takes it
    b'{"mac":"dd8800003777","rssi":-60.5}\n',
    b'\xef\xbb\xbf{"mac":"dd8800003777","rssi":-60.5}',  # a UTF-8 byte order mark
    b'{"mac":"dd8800003777","rssi":-60.5,"rssi":-70.25}',  # a repeated key: the last one wins
    b'{"mac":"dd8800003777","rssi":NaN}',
    b'{"mac":"dd8800003777","rssi":-60,"id":"iBEACON:ABC"}',
    b'{"mac":"dd8800003777","rssi":1' + b"0" * 400 + b"}",  # an integer no float can hold
    b'{"mac":"dd8800003777","rssi":-60.5} {}',  # two documents
    b'[{"mac":"dd8800003777","rssi":-60.5}]',
    b'{"mac":"dd\\u0038800003777","rssi":-60.5}',  # an escape inside the MAC
    b"\xff\xfe{}",
], ids=lambda p: p[:40].decode(errors="replace"))
def test_it_treats_unusual_payloads_as_json_loads_would(payload: bytes) -> None:
    batch, one = _both([(b"espresense/devices/dd8800003777/kitchen", payload)])
    assert batch == one


def test_it_counts_a_topic_that_is_not_utf8_as_garbled() -> None:
    (reads, drops), one = _both([(b"espresense/devices/\xff/kitchen", b'{"mac":"dd8800003777","rssi":-60.5}')])
    assert (reads, drops) == one == ([], {"garbled": 1})


def test_it_remembers_a_bounded_number_of_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ble_espresense, "ROUTE_CACHE_SIZE", 4)
    routes: dict[bytes, Any] = {}
    messages = [(f"espresense/devices/ac233f{i:06x}/kitchen".encode(), b'{"rssi":-60.5}') for i in range(50)]
    gateways = gateway_table(FIXTURE["gateways"])
    reads = parse_espresense_batch(messages, gateways=gateways, drops=DropCounter(), now=NOW, routes=routes)
    assert len(reads) == 50 and len(routes) <= 5
    assert {r.reader_id for r in reads} == {"w3-kitchen"} and all(r.seen_at.tzinfo is UTC for r in reads)


# --- fuzzing --------------------------------------------------------------------------------------

topics = st.sampled_from([
    b"espresense/devices/dd8800003777/kitchen", b"espresense/devices/iBeacon:426c-1-2/ward3-bed1",
    b"espresense/devices/ac233f000001/Kitchen", b"espresense/devices/x/boiler_room", b"espresense/rooms/kitchen",
    b"espresense/devices//", b"", b"/", b"espresense/devices/\xc3/kitchen",
])
values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), st.text(max_size=20),
    st.sampled_from(["dd8800003777", "DD:88:00:00:37:77", "iBeacon:426c7565-1-2", "-70", "ibeacon:", ""]),
)
documents = st.dictionaries(st.sampled_from(["mac", "rssi", "id", "rssi@1m", "distance"]), values, max_size=5)
payloads = st.one_of(
    documents.map(lambda d: json.dumps(d).encode()),
    st.tuples(documents, st.sampled_from([" ", "\n", "", "x", "[", "]", "{}"]), st.booleans()).map(
        lambda t: (t[1] + json.dumps(t[0]) if t[2] else json.dumps(t[0]) + t[1]).encode()),
    st.binary(max_size=80),
    st.lists(values, max_size=3).map(lambda v: json.dumps(v).encode()),
)


@FUZZ
@given(st.lists(st.tuples(topics, payloads), max_size=12))
def test_it_matches_the_one_message_parser_on_any_window(messages: list[Message]) -> None:
    batch, one = _both(messages)
    assert batch == one


@FUZZ
@given(st.lists(st.tuples(topics, payloads), max_size=12), st.data())
def test_it_matches_the_one_message_parser_on_damaged_recordings(messages: list[Message], data: st.DataObject) -> None:
    damaged = []
    for topic, payload in _recorded():
        cut = bytearray(payload[: data.draw(st.integers(0, len(payload)))])
        for i in data.draw(st.lists(st.integers(0, 400), max_size=2)):
            if cut:
                cut[i % len(cut)] ^= 1 << (i % 8)
        damaged.append((topic, bytes(cut)))
    batch, one = _both(damaged + messages)
    assert batch == one
