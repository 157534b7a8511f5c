"""No input crashes a BLE parser: random bytes, text, JSON-ish values, and mutated recorded payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.adapters.ble_adv import AdvError, decode_adv
from readers.adapters.ble_mqtt import BLE_PROTOCOLS, gateway_table, parser_for
from readers.drops import DropCounter
from readers.reads import TagRead

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
GATEWAYS = gateway_table(
    {
        "AC233FC001EA": "gw-a",
        "kitchen": "gw-b",
        "OpenMQTTGateway": "gw-c",
        "12Bh000T": "gw-d",
        "E7DAE08E6FC3": "gw-e",
        "123456789ABC": "gw-f",
    }
)
TOPICS = st.sampled_from(
    [
        "espresense/devices/ac233f000001/kitchen",
        "home/OpenMQTTGateway/BTtoMQTT/AC233F000001",
        "gw/ac233fc001ea/status",
        "",
        "/",
        "espresense/devices//",
        "a/BTtoMQTT",
    ]
)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "ble"
FUZZ = settings(derandomize=True, max_examples=150, deadline=None, database=None)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "AC:23:3F:00:00:01",
            "AC233FC001EA",
            "kitchen",
            "12Bh000T",
            "-60",
            "2024-05-01T12:00:00Z",
            "Gateway",
            "0201061AFF4C000215",
            "$GPRP",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "mac",
                    "rssi",
                    "timestamp",
                    "type",
                    "id",
                    "devices",
                    "trackingId",
                    "sourceId",
                    "rawData",
                    "batteryLevel",
                    "battery",
                    "content",
                    "data",
                    "manufacturerdata",
                    "batt",
                    "moving",
                ]
            ),
            children,
            max_size=8,
        )
    ),
    max_leaves=30,
)


def _recorded() -> list[bytes]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            out.append(bytes.fromhex(case["payload_hex"]) if "payload_hex" in case else case["payload"].encode())
    return out


def _parse_all(payload: bytes | str, topic: str) -> None:
    for protocol in BLE_PROTOCOLS:
        reads = parser_for(protocol)(payload, topic=topic, gateways=GATEWAYS, drops=DropCounter(), now=NOW)
        assert all(isinstance(r, TagRead) and len(r.tag_id) == 12 for r in reads)


@FUZZ
@given(payload=st.binary(max_size=300), topic=TOPICS)
def test_it_survives_random_bytes(payload: bytes, topic: str) -> None:
    _parse_all(payload, topic)


@FUZZ
@given(payload=st.text(max_size=300), topic=TOPICS)
def test_it_survives_random_text(payload: str, topic: str) -> None:
    _parse_all(payload, topic)


@FUZZ
@given(value=json_values, topic=TOPICS)
def test_it_survives_json_ish_values_as_json_and_msgpack(value: Any, topic: str) -> None:
    _parse_all(json.dumps(value), topic)
    _parse_all(msgpack.packb(value), topic)


@FUZZ
@given(
    base=st.sampled_from(_recorded()),
    cut=st.integers(0, 400),
    flips=st.lists(st.integers(0, 400), max_size=4),
    topic=TOPICS,
)
def test_it_survives_truncated_and_bit_flipped_recordings(base: bytes, cut: int, flips: list[int], topic: str) -> None:
    data = bytearray(base[:cut] if cut < len(base) else base)
    for i in flips:
        if data:
            data[i % len(data)] ^= 1 << (i % 8)
    _parse_all(bytes(data), topic)


@FUZZ
@given(data=st.binary(max_size=62))
def test_it_decodes_any_advertisement_or_says_why_not(data: bytes) -> None:
    try:
        decode_adv(data)
    except AdvError as exc:
        assert exc.reason.value in ("garbled", "truncated")
