"""The band status frame (docs/tags.md): encode/decode, garbage, and every adapter that reads it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.adapters.ble_adv import (
    BAND_PREFIX,
    AdvError,
    BandFrame,
    band_adv,
    decode_adv,
    decode_band,
    ibeacon_adv,
)
from readers.adapters.ble_minew import parse_minew
from readers.adapters.ble_mqtt import advert, gateway_table, parser_for
from readers.adapters.uwb_mqtt import parse_uwb_json
from readers.drops import DropCounter, DropReason
from readers.emulators.ble_gateway import GatewaySpec, gateway_messages
from readers.emulators.sightings import BleSighting
from readers.reads import TagStatus

FIXTURES = Path(__file__).parents[1] / "fixtures"
FUZZ = settings(derandomize=True, max_examples=300, deadline=None, database=None)
MINEW: dict[str, Any] = json.loads((FIXTURES / "ble" / "band_minew.json").read_text(encoding="utf-8"))
UWB: dict[str, Any] = json.loads((FIXTURES / "uwb" / "band_status.json").read_text(encoding="utf-8"))

frames = st.builds(BandFrame, flags=st.integers(0, 255), battery_mv=st.integers(0, 0xFFFF),
                   seq=st.integers(0, 0xFFFF), version=st.integers(1, 255))


def test_it_lays_the_frame_out_byte_by_byte_as_documented() -> None:
    frame = BandFrame(flags=0x04, battery_mv=2950, seq=42)
    assert band_adv(frame).hex().upper() == "0201060AFFFFFFB10104860B2A00"  # the example of docs/tags.md
    assert frame.status == TagStatus(battery_pct=85, tamper=False, button=True, moving=False, strap_loose=False,
                                     battery_mv=2950)


@FUZZ
@given(frame=frames)
def test_it_reads_back_every_frame_it_writes(frame: BandFrame) -> None:
    advert_ = decode_adv(band_adv(frame))
    assert advert_.band == frame
    assert advert_.status == frame.status and advert_.beacon_ids == {"band_seq": frame.seq}
    assert frame.status.tamper == bool(frame.flags & 1) and frame.status.strap_loose == bool(frame.flags & 2)
    assert frame.status.button == bool(frame.flags & 4) and frame.status.moving == bool(frame.flags & 16)


@FUZZ
@given(tail=st.binary(max_size=40))
def test_it_decodes_any_band_bytes_or_says_why_not(tail: bytes) -> None:
    try:
        frame = decode_band(BAND_PREFIX + tail)
    except AdvError as exc:
        assert (exc.reason, len(tail) < 6) in ((DropReason.TRUNCATED, True), (DropReason.GARBLED, False))
        return
    assert len(tail) >= 6 and frame.version >= 1 and 0 <= frame.flags <= 255


@FUZZ
@given(data=st.binary(max_size=62), cut=st.integers(0, 62))
def test_it_survives_garbage_around_and_inside_band_frames(data: bytes, cut: int) -> None:
    """Random bytes after a band structure header, and real band adverts cut anywhere: AdvError or an Advert."""
    for raw in (bytes((len(data) + 4, 0xFF)) + BAND_PREFIX + data, band_adv(BandFrame(5, 2900, 9))[:cut] + data):
        try:
            decoded = decode_adv(raw)
        except AdvError as exc:
            assert exc.reason in (DropReason.TRUNCATED, DropReason.GARBLED)
            continue
        assert decoded.band is None or decoded.status == decoded.band.status


def test_a_frame_without_the_band_start_is_decoded_as_before() -> None:
    beacon = ibeacon_adv("b9a5d27d-56cc-4e3a-ab51-1f2153bcb967", 1, 2, -59)
    assert decode_adv(beacon).band is None and decode_adv(beacon).status is None
    other_test_device = bytes.fromhex("020106" + "06FFFFFF010203")  # company 0xFFFF, not our frame type
    assert decode_adv(other_test_device).band is None


def _status(read_status: TagStatus | None) -> dict[str, Any] | None:
    return None if read_status is None else dataclasses.asdict(read_status)


@pytest.mark.parametrize("case", MINEW["cases"], ids=[c["name"] for c in MINEW["cases"]])
def test_it_reads_band_status_from_minew_raw_data(case: dict[str, Any]) -> None:
    drops = DropCounter()
    reads = parse_minew(case["payload"], topic=case["topic"], gateways=gateway_table(MINEW["gateways"]), drops=drops,
                        now=datetime.fromisoformat(MINEW["now"]))
    assert [(r.tag_id, r.reader_id, r.rssi_dbm) for r in reads] == [
        (e["tag_id"], e["reader_id"], e["rssi_dbm"]) for e in case["expect"]]
    for read, want in zip(reads, case["expect"], strict=True):
        assert _status(read.status) == want["status"]
        assert read.raw.get("band_seq") == want.get("band_seq")
    assert {reader: drops.counts(reader) for reader in case["drops"]} == case["drops"]


@pytest.mark.parametrize("case", UWB["cases"], ids=[c["name"] for c in UWB["cases"]])
def test_it_reads_band_status_from_uwb_ranges_and_drops_a_bad_one_alone(case: dict[str, Any]) -> None:
    drops = DropCounter()
    reads = parse_uwb_json(case["topic"], json.dumps(case["payload"]).encode(), anchors=UWB["anchors"],
                           reader_id=UWB["reader_id"], drops=drops, now=datetime.fromisoformat(UWB["now"]))
    assert [(r.tag_id, r.reader_id, r.range_m) for r in reads] == [tuple(e) for e in case["expect"]]
    assert all(_status(r.status) == case["status"] for r in reads)
    assert drops.counts(UWB["reader_id"]) == case["drops"]


GATEWAYS = [
    GatewaySpec("gw-minew", "ble_minew", "AC233FC001EA", "gw/minew"),
    GatewaySpec("gw-ingics", "ble_ingics", "E7DAE08E6FC3", "gw/ingics"),
    GatewaySpec("gw-ab", "ble_aprilbrother", "123456789ABC", "gw/ab"),
    GatewaySpec("gw-omg", "ble_omg", "omg-2e"),
    GatewaySpec("gw-espresense", "ble_espresense", "nursery"),
]


@pytest.mark.parametrize("spec", GATEWAYS, ids=[g.protocol for g in GATEWAYS])
def test_every_raw_advert_format_carries_the_band_frame_through_the_same_decoder(spec: GatewaySpec) -> None:
    frame = BandFrame(flags=0x03, battery_mv=2650, seq=513)  # strap cut and loose, 15 %
    sightings = [BleSighting(spec.code, "AC233FB00001", -64.0), BleSighting(spec.code, "AC233F000042", -70.0,
                                                                             battery_pct=77)]
    now = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    messages = gateway_messages([spec], sightings, now.timestamp(), {"AC233FB00001": band_adv(frame)})
    parse, drops = parser_for(spec.protocol), DropCounter()
    reads = [read for topic, payload in messages
             for read in parse(payload, topic=topic, gateways=gateway_table({spec.gateway_id: spec.code}), drops=drops,
                               now=now)]
    by_tag = {r.tag_id: r for r in reads}
    assert drops.total() == 0 and set(by_tag) == {"AC233FB00001", "AC233F000042"}
    band = by_tag["AC233FB00001"].status
    if spec.protocol == "ble_espresense":  # forwards no advertising bytes: a sighting only (docs/tags.md)
        assert band is None
        return
    assert band == frame.status and band is not None and band.tamper and band.battery_pct == 15
    assert by_tag["AC233F000042"].status in (None, TagStatus(battery_pct=77))  # an ordinary tag, as before


def test_the_shared_advert_cache_keeps_each_heartbeat_apart() -> None:
    first, second = band_adv(BandFrame(0, 2900, 1)), band_adv(BandFrame(1, 2900, 2))
    assert advert(first).status != advert(second).status
    assert advert(first) is advert(first)  # a repeated frame (between heartbeats) is decoded once
