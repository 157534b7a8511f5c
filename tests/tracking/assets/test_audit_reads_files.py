"""Uploaded reads files of a handheld sweep: CSV rows and recorded LLRP tag reports to TagReads; bad rows are
dropped with their row and reason, a file that cannot be read is refused. Pure: no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracking.assets.audit_exceptions import ReadsFileInvalid
from tracking.assets.reads_files import reads_file_parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _csv(text: str) -> tuple[list[tuple[str, str]], int, list[str]]:
    parsed = reads_file_parse(text.encode(), filename="sweep.csv", reader_id="HH-1", now=NOW)
    return [(r.tag_id, r.seen_at.isoformat()) for r in parsed.reads], parsed.dropped, parsed.errors


def test_it_reads_a_csv_with_iso_and_unix_times() -> None:
    reads, dropped, _ = _csv("EPC,seen_at,antenna,rssi_dbm\n"
                             "300833b2ddd9014000000101,2026-11-22T11:00:00Z,1,-50.5\n"
                             "\n"
                             "300833B2DDD9014000000102,1795345260,,\n")
    assert reads == [("300833B2DDD9014000000101", "2026-11-22T11:00:00+00:00"),
                     ("300833B2DDD9014000000102", "2026-11-22T11:01:00+00:00")]
    assert dropped == 0


@pytest.mark.parametrize(("row", "reason"), [
    (",2026-11-22T11:00:00Z", "row 2: no tag id"),
    ("ZZ0833B2,2026-11-22T11:00:00Z", "row 2: tag 'ZZ0833B2' is not hex"),
    ("300833B2,yesterday", "row 2: time 'yesterday' is neither ISO 8601 nor Unix seconds"),
    ("300833B2,2026-11-22T11:00:00", "row 2: time '2026-11-22T11:00:00' has no UTC offset"),
    ("300833B2,12", "row 2: time 12 is not Unix seconds after 2000"),
    ("300833B2", "row 2: no time"),
])
def test_it_drops_a_bad_row_with_its_reason_and_keeps_the_others(row: str, reason: str) -> None:
    reads, dropped, errors = _csv(f"tag_id,time\n{row}\n300833B2DDD9014000000101,2026-11-22T11:00:00+01:00\n")
    assert (len(reads), dropped, errors) == (1, 1, [reason])
    assert reads[0][1] == "2026-11-22T10:00:00+00:00"


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"", "sweep.csv", "the file is empty"),
    (b"when,where\n1,2\n", "sweep.csv", "needs a tag column"),
    (b"\xff\xfe\x00", "sweep.csv", "not UTF-8"),
    (b"{not json", "sweep.json", "not valid JSON"),
    (b'{"reads": []}', "sweep.json", 'under "tags"'),
    (b'"tags"', "sweep.json", "must be an LLRP tag report"),
])
def test_it_refuses_a_file_it_cannot_read(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(ReadsFileInvalid, match=message):
        reads_file_parse(data, filename=filename, reader_id="HH-1", now=NOW)


@pytest.mark.parametrize(("fixture", "tags", "dropped"), [
    ("llrp/impinj_r420_three_tags.json", ["300833B2DDD9014000000001", "300833B2DDD9014000000002",
                                          "E2801170000002000000000000001234"], 0),
    ("llrp/empty_report.json", [], 0),
    ("llrp/bad_epcs.json", None, None),  # the parser's own drops, counted here
])
def test_it_reads_recorded_llrp_tag_reports(fixture: str, tags: list[str] | None, dropped: int | None) -> None:
    data = (FIXTURES / fixture).read_bytes()
    now_us = json.loads(data).get("now_us")
    now = datetime.fromtimestamp(now_us / 1e6, UTC) if now_us else NOW
    parsed = reads_file_parse(data, filename=fixture, reader_id="HH-1", now=now)
    if tags is not None:
        assert [r.tag_id for r in parsed.reads] == tags and parsed.dropped == dropped
        assert all(r.reader_id == "HH-1" and r.seen_at.tzinfo is UTC for r in parsed.reads)
    else:
        assert parsed.dropped > 0 and all("dropped" in e for e in parsed.errors)


def test_a_list_of_reports_is_one_sweep() -> None:
    report = (FIXTURES / "llrp/impinj_r420_three_tags.json").read_text()
    data = f"[{report}, {report}]".encode()
    parsed = reads_file_parse(data, filename="sweep.json", reader_id="HH-1",
                              now=datetime.fromtimestamp(1795313262.6, UTC))
    assert len(parsed.reads) == 6
