"""parse_tag_report against recorded sllurp 3.0.5 tag reports (tests/fixtures/llrp/*.json) and fuzzing.

Fixture encoding: JSON has no bytes, so `{"$bytes": "300833b2..."}` stands for the bytes of that ASCII text
(sllurp's hexlified EPCs) and `{"$hex": "3008..."}` for raw bytes given in hex. Each fixture holds the report
(`tags`), the arrival time (`now_us`), the reads expected in order, and the drops expected by reason.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.adapters.rfid_llrp import parse_tag_report
from readers.drops import DropCounter
from readers.reads import TagRead, Tech

FIXTURES = Path(__file__).parents[1] / "fixtures" / "llrp"


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return value["$bytes"].encode("latin-1")
        if set(value) == {"$hex"}:
            return bytes.fromhex(value["$hex"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def load_llrp_fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    doc["tags"] = _decode(doc["tags"])
    return doc


def _at(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, tz=UTC)


def _round(phase_rad: float | None) -> float | None:
    return None if phase_rad is None else round(phase_rad, 9)


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_it_parses_recorded_reports(fixture: str) -> None:
    doc = load_llrp_fixture(fixture)
    drops = DropCounter()
    reads = parse_tag_report(doc["tags"], reader_id="ward3-door", drops=drops, now=_at(doc["now_us"]))
    got = [(r.tag_id, r.antenna, r.rssi_dbm, _round(r.phase_rad), r.seen_at) for r in reads]
    want = [(e["tag_id"], e["antenna"], e["rssi_dbm"], _round(e["phase_rad"]), _at(e["seen_at_us"]))
            for e in doc["expected"]]
    assert got == want
    assert drops.counts("ward3-door") == doc["drops"]
    assert all(r.tech is Tech.RFID and r.reader_id == "ward3-door" and r.seen_at.tzinfo is UTC for r in reads)


def test_it_keeps_the_tag_dict_as_raw() -> None:
    doc = load_llrp_fixture("impinj_r420_three_tags.json")
    reads = parse_tag_report(doc["tags"], reader_id="r", drops=DropCounter(), now=_at(doc["now_us"]))
    assert [r.raw for r in reads] == doc["tags"]


def test_it_turns_a_report_that_is_not_a_list_into_one_drop() -> None:
    drops = DropCounter()
    assert parse_tag_report({"EPC": b"3008"}, reader_id="r", drops=drops, now=_at(0)) == []  # type: ignore[arg-type]
    assert drops.counts() == {"garbled": 1}


def test_it_maps_the_whole_phase_range_onto_one_turn() -> None:
    tags = [{"EPC": b"3008", "ImpinjRFPhaseAngle": n} for n in (0, 1024, 2048, 4095)]
    reads = parse_tag_report(tags, reader_id="r", drops=DropCounter(), now=_at(1_700_000_000_000_000))
    assert [r.phase_rad for r in reads] == pytest.approx([0.0, math.pi / 2, math.pi, 2 * math.pi * 4095 / 4096])


KEYS = ["EPC-96", "EPC", "AntennaID", "PeakRSSI", "ImpinjPeakRSSI", "ImpinjRFPhaseAngle", "FirstSeenTimestampUTC",
        "LastSeenTimestampUTC", "TagSeenCount", "ChannelIndex"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.binary(max_size=40), st.text(max_size=40),
    st.sampled_from([b"300833b2ddd9014000000001", "E2801170000002000000000000001234", 1_700_000_000_000_000]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner), max_leaves=5)
tag_dicts = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), values, max_size=8)
reports = st.lists(tag_dicts | values, max_size=6)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(reports)
def test_it_never_crashes_on_any_report(tags: list[Any]) -> None:
    drops = DropCounter()
    reads = parse_tag_report(tags, reader_id="fuzz", drops=drops, now=_at(1_700_000_000_000_000))
    assert all(isinstance(r, TagRead) for r in reads)
    assert len(reads) + drops.total() == len(tags)  # every tag is either read or counted


@settings(derandomize=True, max_examples=100, deadline=None)
@given(st.one_of(values, st.dictionaries(st.text(max_size=3), values, max_size=3)))
def test_it_never_crashes_on_a_report_of_the_wrong_shape(report: Any) -> None:
    drops = DropCounter()
    parse_tag_report(report, reader_id="fuzz", drops=drops, now=_at(1_700_000_000_000_000))
