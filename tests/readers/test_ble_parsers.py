"""Every BLE gateway format, pinned by recorded real-shaped payloads (tests/fixtures/ble/<format>.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from readers.adapters.base import ReaderError
from readers.adapters.ble_mqtt import gateway_table, parse_http, parser_for
from readers.drops import DropCounter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ble"
FORMATS = ("espresense", "omg", "minew", "ingics", "aprilbrother", "kontakt")


def _cases() -> list[Any]:
    out = []
    for fmt in FORMATS:
        doc = json.loads((FIXTURES / f"{fmt}.json").read_text(encoding="utf-8"))
        for case in doc["cases"]:
            out.append(pytest.param(fmt, doc["gateways"], doc["now"], case, id=f"{fmt}/{case['name']}"))
    return out


def _payload(case: dict[str, Any]) -> bytes:
    return bytes.fromhex(case["payload_hex"]) if "payload_hex" in case else case["payload"].encode()


@pytest.mark.parametrize(("fmt", "gateways", "now", "case"), _cases())
def test_it_parses_recorded_payloads(fmt: str, gateways: dict[str, str], now: str, case: dict[str, Any]) -> None:
    drops = DropCounter()
    parse = parser_for(f"ble_{fmt}")
    at = datetime.fromisoformat(now)
    reads = parse(_payload(case), topic=case["topic"], gateways=gateway_table(gateways), drops=drops, now=at)
    assert len(reads) == len(case["expect"]), [r.tag_id for r in reads]
    for read, want in zip(reads, case["expect"], strict=True):
        assert (read.tag_id, read.reader_id, read.rssi_dbm) == (want["tag_id"], want["reader_id"], want["rssi_dbm"])
        assert read.seen_at.tzinfo is UTC
        assert read.seen_at.isoformat() == want.get("seen_at", read.seen_at.isoformat())
        for key in ("battery_pct", "moving"):  # status and beacon ids: checked where the case pins them
            if key in want:
                assert (getattr(read.status, key) if read.status else None) == want[key]
        if "ibeacon" in want:
            assert read.raw.get("ibeacon") == want["ibeacon"]
        assert read.raw["payload"]
    assert {reader: drops.counts(reader) for reader in case["drops"]} == case["drops"]
    assert drops.total() == sum(sum(c.values()) for c in case["drops"].values())


def test_it_parses_http_bodies_with_the_same_parsers() -> None:
    body = b"$GPRP,0C61CFC1452E,E7:DA:E0:8E:6F:C3,-44,0201061AFF4C000215B9A5D27D56CC4E3AAB511F2153BCB9670001452ED6"
    now = datetime(2024, 5, 1, tzinfo=UTC)
    reads = parse_http("ble_ingics", body, gateways={"e7:da:e0:8e:6f:c3": "w3-igs"}, drops=DropCounter(), now=now)
    assert [(r.tag_id, r.reader_id, r.seen_at) for r in reads] == [("0C61CFC1452E", "w3-igs", now)]


def test_it_refuses_an_unknown_http_format_for_good() -> None:
    with pytest.raises(ReaderError) as info:
        parse_http("ble_nonsense", b"{}", gateways={}, drops=DropCounter(), now=datetime.now(UTC))
    assert info.value.permanent


def test_it_reads_a_plain_minew_record_by_the_short_path_as_fully_as_the_long_one() -> None:
    from readers.adapters.ble_minew import parse_minew

    now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    plain = {"timestamp": "2026-11-22T07:59:59.500Z", "type": "Unknown", "mac": "ac233f000001", "rssi": -70}
    with_battery = plain | {"battery": 0}  # 0 = unknown: the long path, the same read
    payload = json.dumps([{"type": "Gateway", "mac": "AC233FC001EA"}, plain, with_battery, plain | {"rssi": 40}])
    drops = DropCounter()
    reads = parse_minew(payload, topic="gw", gateways={"AC233FC001EA": "GW-1"}, drops=drops, now=now)
    assert [(r.tag_id, r.reader_id, r.rssi_dbm, r.status, r.seen_at) for r in reads] == [
        ("AC233F000001", "GW-1", -70.0, None, datetime(2026, 11, 22, 7, 59, 59, 500000, tzinfo=UTC))] * 2
    assert reads[0].raw == {"payload": plain} and reads[1].raw == {"payload": with_battery}
    assert drops.counts() == {"absurd_value": 1}  # +40 dBm: the short path keeps the checks
