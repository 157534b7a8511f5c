"""DWM1001 `lec`/`les` lines: recorded shapes, damaged variants, reassembly from a byte stream, fuzzing."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.adapters.base import ReaderError, ReaderSettings, adapter_for
from readers.adapters.uwb_dwm1001 import (
    MAX_RANGE_M,
    Dwm1001Adapter,
    LineAssembler,
    lines_to_reads,
    parse_dwm_line,
    parse_lec_line,
    parse_les_line,
)
from readers.drops import DropCounter
from readers.reads import Tech

FIXTURES = Path(__file__).parents[1] / "fixtures" / "uwb"
TABLE: dict[str, Any] = json.loads((FIXTURES / "dwm1001_lines.json").read_text(encoding="utf-8"))
ANCHORS: dict[str, str] = TABLE["anchors"]
NOW = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
FUZZ = settings(derandomize=True, max_examples=300, deadline=None)


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["name"] for c in TABLE["cases"]])
def test_it_parses_recorded_lines_and_counts_what_it_drops(case: dict[str, Any]) -> None:
    drops = DropCounter()
    reads = parse_dwm_line(case["line"], tag_id="1A2B", anchors=ANCHORS, drops=drops, now=NOW, source="w3-dwm")
    assert [r.reader_id for r in reads] == [code for code, _ in case["expect"]]
    assert [r.range_m for r in reads] == pytest.approx([m for _, m in case["expect"]])
    assert drops.counts("w3-dwm") == case["drops"]
    assert all(r.tag_id == "1A2B" and r.tech is Tech.UWB and r.seen_at == NOW for r in reads)
    if reads:
        est = reads[-1].raw["est"]
        assert (list(est) if est else None) == case["est"]


def test_it_keeps_the_anchor_position_with_each_range() -> None:
    line = TABLE["cases"][0]["line"]
    reads = parse_lec_line(line, tag_id="1A2B", anchors=ANCHORS, drops=DropCounter(), now=NOW)
    assert [r.raw["anchor"] for r in reads] == ["1151", "0CA8", "111C", "1150"]
    assert reads[1].raw["anchor_xyz_m"] == (0.0, 8.0, 2.25)


def test_it_reads_a_recorded_session_the_same_however_the_bytes_are_split() -> None:
    stream = (FIXTURES / "dwm1001_lec_session.txt").read_bytes()
    whole = _reads_of_chunks([stream])
    rng = random.Random(7)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(stream)), k=rng.randint(1, 40)))
        chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        assert _reads_of_chunks(chunks) == whole
    assert len(whole) == 4 + 4 + 3 + 2 + 4 + 4  # the 4th line is cut inside AN2: AN0 and AN1 survive


def _reads_of_chunks(chunks: list[bytes]) -> list[tuple[str, float | None]]:
    drops = DropCounter()
    lines = LineAssembler(drops=drops, source="w3-dwm")
    reads = []
    for chunk in chunks:
        reads += lines_to_reads(lines.feed(chunk), tag_id="1A2B", anchors=ANCHORS, drops=drops, now=NOW,
                                source="w3-dwm")
    assert drops.counts() == {"truncated": 2}
    return [(r.reader_id, r.range_m) for r in reads]


def test_it_drops_an_overlong_line_as_garbled_and_reads_the_next_one() -> None:
    drops = DropCounter()
    lines = LineAssembler(drops=drops, source="w3-dwm", max_chars=50)
    assert lines.feed(b"x" * 30) == []
    assert lines.feed(b"y" * 30) == []  # 60 > 50 without a newline: dropped, skipping to the end of line
    assert lines.feed(b"z" * 500 + b"\r\nDIST,0\r\n" + b"w" * 60 + b"\nok") == ["DIST,0"]
    assert lines.feed(b"\n") == ["ok"]
    assert drops.counts() == {"garbled": 2}


def test_it_forgets_a_half_line_on_reconnect() -> None:
    lines = LineAssembler(drops=DropCounter(), source="w3-dwm")
    assert lines.feed(b"DIST,4,AN0,11") == []
    lines.reset()
    assert lines.feed(b"DIST,0\r\n") == ["DIST,0"]


def test_it_is_registered_and_refuses_settings_it_cannot_work_with() -> None:
    assert adapter_for("uwb_dwm1001") is Dwm1001Adapter
    with pytest.raises(ReaderError) as no_tag:
        Dwm1001Adapter(ReaderSettings(code="w3-dwm", protocol="uwb_dwm1001", address="socket://127.0.0.1:1"))
    assert no_tag.value.permanent
    adapter = Dwm1001Adapter(ReaderSettings(code="w3-dwm", protocol="uwb_dwm1001", address="bogus://x",
                                            options={"tag_id": "1a2b"}))
    assert adapter.tag_id == "1A2B"
    with pytest.raises(ReaderError) as bad_scheme:
        next(adapter.batches())
    assert bad_scheme.value.permanent


# --- fuzzing: no input may crash a parser, and whatever comes out is a sane read -------------------------------

_NUMBERS = st.sampled_from(["5.00", "-0.35", "0.0", "655.35", "nan", "inf", "1e999", "6.5O", "", "3", "-", "1_0"])
_IDS = st.sampled_from(["1151", "0ca8", "111C", "1150", "BEEF", "11", "XYZW", "", "DIST", "POS"])
_FIELD = st.one_of(_NUMBERS, _IDS, st.sampled_from(["AN0", "AN1", "AN2", "AN3", "AN9", "POS", "DIST", "le_us=12"]),
                   st.text(max_size=6))


@st.composite
def lec_like(draw: st.DrawFn) -> str:
    """Lines that are nearly `lec`: real blocks with fields swapped, cut or doubled."""
    fields = ["DIST", draw(st.sampled_from(["4", "3", "0", "33", "-1", "x"]))]
    for i in range(draw(st.integers(0, 5))):
        fields += [f"AN{i}", draw(_IDS), draw(_NUMBERS), draw(_NUMBERS), draw(_NUMBERS), draw(_NUMBERS)]
    if draw(st.booleans()):
        fields += ["POS", draw(_NUMBERS), draw(_NUMBERS), draw(_NUMBERS), draw(st.sampled_from(["98", "x", "300"]))]
    fields += draw(st.lists(_FIELD, max_size=3))
    line = ",".join(fields)
    return line[: draw(st.integers(0, len(line)))]


@st.composite
def les_like(draw: st.DrawFn) -> str:
    tokens = [
        f"{draw(_IDS)}[{draw(_NUMBERS)},{draw(_NUMBERS)},{draw(_NUMBERS)}]={draw(_NUMBERS)}"
        for _ in range(draw(st.integers(0, 5)))
    ]
    tokens += draw(st.lists(st.sampled_from(["le_us=2576", "le_us=x", "est[2.57,1.98,1.68,100]", "est[1,2,3]",
                                             "est[nan,1,2,100]", "]=", "[", "dwm>"]), max_size=3))
    line = " ".join(tokens)
    return line[: draw(st.integers(0, len(line)))]


def _check(reads: list[Any]) -> None:
    for read in reads:
        assert read.tag_id == "1A2B" and read.reader_id in ANCHORS.values()
        assert read.range_m is not None and 0.0 <= read.range_m <= MAX_RANGE_M


@FUZZ
@given(st.one_of(lec_like(), les_like(), st.text(max_size=300)))
def test_it_never_crashes_on_any_line(line: str) -> None:
    for parse in (parse_dwm_line, parse_lec_line, parse_les_line):
        _check(parse(line, tag_id="1A2B", anchors=ANCHORS, drops=DropCounter(), now=NOW))


@FUZZ
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_it_never_crashes_on_any_byte_stream(chunks: list[bytes]) -> None:
    drops = DropCounter()
    lines = LineAssembler(drops=drops, source="w3-dwm", max_chars=120)
    for chunk in chunks:
        for line in lines.feed(chunk):
            assert len(line) <= 120 and "\n" not in line
            _check(parse_dwm_line(line, tag_id="1A2B", anchors=ANCHORS, drops=drops, now=NOW))
