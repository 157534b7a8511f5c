"""Uploaded reads files for a handheld sweep: what a handheld exported, turned into TagReads. No Django.

Two shapes are accepted:

* CSV with a header row: a tag column (`epc`, `tag_id` or `tag`) and a time column (`seen_at`, `time` or
  `timestamp`: ISO 8601 with a UTC offset, or Unix seconds); optional `antenna` and `rssi_dbm`. Blank lines
  are skipped. A row without a tag, with a tag that is not hex, or with a bad time is dropped and counted
  (its row number and reason are listed), the others are kept.
* JSON in the shape of an LLRP tag report as sllurp hands it (tests/fixtures/llrp/*.json): an object with
  "tags" (a list of tag dicts), a list of such objects, or a bare list of tag dicts; bytes are written
  {"$bytes": "<ascii>"} (sllurp's hexlified EPC) or {"$hex": "<hex>"} (raw bytes). Each report goes
  through the real LLRP parser (readers.adapters.rfid_llrp.parse_tag_report), which drops bad tags by reason.

A file that is neither, or has no tag column, is refused with ReadsFileInvalid naming what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from readers.adapters.rfid_llrp import parse_tag_report
from readers.drops import DropCounter
from readers.reads import TagRead, Tech
from tracking.assets.audit_exceptions import ReadsFileInvalid

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ERRORS_LISTED = 20
TAG_COLUMNS = ("epc", "tag_id", "tag")
TIME_COLUMNS = ("seen_at", "time", "timestamp")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{4}){1,31}|[0-9A-Fa-f]{2,64}")


@dataclass
class ParsedReads:
    reads: list[TagRead] = field(default_factory=list)
    dropped: int = 0
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS_LISTED reasons, "row 7: ..."

    def drop(self, reason: str, *, count: int = 1) -> None:
        self.dropped += count
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append(reason)


def reads_file_parse(data: bytes, *, filename: str, reader_id: str, now: datetime) -> ParsedReads:
    """The reads in an uploaded file (CSV or LLRP-report JSON, told apart by name, else by content)."""
    if len(data) > MAX_FILE_BYTES:
        raise ReadsFileInvalid(f"the file is {len(data) / 1e6:.1f} MB; at most {MAX_FILE_BYTES / 1e6:.0f} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadsFileInvalid(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    looks_json = filename.lower().endswith(".json") or text.lstrip()[:1] in ("{", "[")
    if looks_json:
        return llrp_json_parse(text, reader_id=reader_id, now=now)
    return reads_csv_parse(text, reader_id=reader_id)


def reads_csv_parse(text: str, *, reader_id: str) -> ParsedReads:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        raise ReadsFileInvalid("the file is empty")
    names = [name.strip().lower() for name in header]
    tag_col = _column(names, TAG_COLUMNS)
    time_col = _column(names, TIME_COLUMNS)
    if tag_col is None or time_col is None:
        raise ReadsFileInvalid(f"the header {header!r} needs a tag column ({' / '.join(TAG_COLUMNS)}) and a time "
                               f"column ({' / '.join(TIME_COLUMNS)})")
    antenna_col, rssi_col = _column(names, ("antenna",)), _column(names, ("rssi_dbm", "rssi"))
    out = ParsedReads()
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            out.reads.append(_csv_read(row, reader_id=reader_id, tag_col=tag_col, time_col=time_col,
                                       antenna_col=antenna_col, rssi_col=rssi_col))
        except ValueError as exc:
            out.drop(f"row {number}: {exc}")
    return out


def _column(names: list[str], choices: Iterable[str]) -> int | None:
    for choice in choices:
        if choice in names:
            return names.index(choice)
    return None


def _cell(row: list[str], col: int | None) -> str:
    return row[col].strip() if col is not None and col < len(row) else ""


def _csv_read(row: list[str], *, reader_id: str, tag_col: int, time_col: int, antenna_col: int | None,
              rssi_col: int | None) -> TagRead:
    tag = _cell(row, tag_col)
    if not tag:
        raise ValueError("no tag id")
    if not _HEX.fullmatch(tag):
        raise ValueError(f"tag {tag!r} is not hex")
    antenna, rssi = _cell(row, antenna_col), _cell(row, rssi_col)
    return TagRead(tag_id=tag.upper(), reader_id=reader_id, tech=Tech.RFID, seen_at=_time(_cell(row, time_col)),
                   antenna=int(antenna) if antenna else None, rssi_dbm=float(rssi) if rssi else None)


def _time(value: str) -> datetime:
    if not value:
        raise ValueError("no time")
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not 946_684_800 <= seconds <= 253_402_300_799:  # 2000 .. 9999
            raise ValueError(f"time {value} is not Unix seconds after 2000")
        return datetime.fromtimestamp(seconds, UTC)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {value!r} is neither ISO 8601 nor Unix seconds") from None
    if at.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return at.astimezone(UTC)


def llrp_json_parse(text: str, *, reader_id: str, now: datetime) -> ParsedReads:
    try:
        document = json.loads(text, object_hook=_bytes_hook)
    except (json.JSONDecodeError, ValueError) as exc:
        raise ReadsFileInvalid(f"the file is not valid JSON: {exc}") from exc
    reports = _reports(document)
    out = ParsedReads()
    drops = DropCounter()
    for tags in reports:
        out.reads += parse_tag_report(tags, reader_id=reader_id, drops=drops, now=now)
    for reason, count in sorted(drops.counts(reader_id).items()):
        out.drop(f"{count} tag(s) dropped: {reason.replace('_', ' ')}", count=count)
    return out


def _reports(document: Any) -> list[list[dict[str, Any]]]:
    if isinstance(document, dict):
        if not isinstance(document.get("tags"), list):
            raise ReadsFileInvalid('a JSON object must hold an LLRP tag report under "tags" (a list of tags)')
        return [document["tags"]]
    if isinstance(document, list):
        if all(isinstance(item, dict) and isinstance(item.get("tags"), list) for item in document) and document:
            return [item["tags"] for item in document]
        return [document]
    raise ReadsFileInvalid("the JSON must be an LLRP tag report, a list of them, or a list of tags")


def _bytes_hook(value: dict[str, Any]) -> Any:
    if set(value) == {"$bytes"}:
        return str(value["$bytes"]).encode("latin-1")
    if set(value) == {"$hex"}:
        return bytes.fromhex(str(value["$hex"]))
    return value
