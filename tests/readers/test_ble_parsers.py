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
