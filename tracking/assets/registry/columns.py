"""The registry CSV: its columns, reading a file, and checking one row's cells. No database here.

A file is read whole (`csv_read`): UTF-8 (a BOM is fine), comma, semicolon or tab separated, a header row
naming the columns. Each data row is then checked on its own (`row_check`) into an `AssetRow` of typed
values, or a list of `RowError`s naming the row, the column and the reason. What a value means for the
database (does that zone exist, is that tag taken) is the importer's business (importer.py).

Row numbers are the spreadsheet's: the header is row 1, the first data row row 2.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from tracking.models import Asset, Tag

MAX_ROWS: Final = 100_000
MAX_PM_INTERVAL_DAYS: Final = 3650
MAX_VALUE_CHARS: Final = 60  # a bad cell is quoted back at most this long


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not text, no header, a column twice...); nothing was imported."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    help: str
    required: str = ""  # "always", "new" (for a new asset) or "" (optional)


# the import and export columns, in the export's order (docs/assets.md shows this table)
COLUMNS: Final[tuple[Column, ...]] = (
    Column("asset_number", "the asset's unique number (the key: a known number updates that asset)", "always"),
    Column("category", "infusion_pump, syringe_pump, monitor, ... or its label (\"infusion pump\")", "new"),
    Column("make", "manufacturer"),
    Column("model", "model name"),
    Column("serial_number", "unique per make and model"),
    Column("tag_id", "the tag it carries (EPC hex, BLE MAC, UWB id); blank: keep the current tag"),
    Column("tag_tech", "rfid, ble or uwb; needed when the tag is new to the system"),
    Column("department", "owning ward: its zone code (\"4W\"), or FLOOR/CODE where codes repeat"),
    Column("home_zone", "where it belongs: a zone code (\"4W-EQUIP\") or FLOOR/CODE"),
    Column("status", "available, in_use, needs_cleaning, out_for_repair, retired; blank: keep (new: available)"),
    Column("pm_due_on", "next preventive maintenance, YYYY-MM-DD"),
    Column("pm_interval_days", "days between preventive maintenances, 1 to 3650"),
    Column("purchased_on", "YYYY-MM-DD"),
    Column("purchase_value", "a number with at most 2 decimals (3200.00), no currency sign or separators"),
)
IMPORT_NAMES: Final = tuple(c.name for c in COLUMNS)
# written by the export (where the asset is now), read back and ignored by the import
PLACE_COLUMNS: Final = ("floor", "zone", "zone_name", "x_m", "y_m", "last_seen_at")
EXPORT_NAMES: Final = IMPORT_NAMES + PLACE_COLUMNS
# header spellings people use, after normalizing ("Serial No" -> "serial_no")
ALIASES: Final = {
    "asset": "asset_number", "asset_no": "asset_number", "asset_id": "asset_number", "type": "category",
    "manufacturer": "make", "serial": "serial_number", "serial_no": "serial_number", "tag": "tag_id",
    "tech": "tag_tech", "technology": "tag_tech", "ward": "department", "home": "home_zone",
    "pm_due": "pm_due_on", "pm_interval": "pm_interval_days", "purchase_date": "purchased_on",
    "value": "purchase_value",
}
_TEXT_MAX = {"asset_number": 64, "make": 100, "model": 100, "serial_number": 100, "tag_id": 128,
             "department": 150, "home_zone": 150}
_DECIMAL = re.compile(r"^\d{1,10}(\.\d{1,2})?$")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str  # "" for the row as a whole
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        shown = f" {self.value!r}" if self.value else ""
        return f"{where}:{shown} {self.reason}"


@dataclass(frozen=True, slots=True)
class AssetRow:
    """One checked row. `values` holds only the columns the file has: a blank optional cell is "" for
    text and None for dates, numbers and zones (clear it); a blank category, tag_id, tag_tech or status
    is left out (keep what the asset has)."""

    row: int
    asset_number: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CsvTable:
    columns: tuple[str, ...]  # the import columns the file has, in its order
    ignored: tuple[str, ...]  # header cells that are no import column (export place columns not counted)
    rows: list[tuple[int, dict[str, str]]]  # (row number, column -> raw cell) for non-blank rows
    errors: list[RowError]  # rows with more cells than the header


def header_name(cell: str) -> str:
    """ "Serial No." -> "serial_no": lower case, words joined by "_", punctuation dropped, aliases applied."""
    name = re.sub(r"[^a-z0-9]+", "_", cell.strip().lower()).strip("_")
    return ALIASES.get(name, name)


def csv_decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"the file is not UTF-8 text (byte {exc.start}): save it as \"CSV UTF-8\" from the spreadsheet"
        ) from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def csv_read(text: str) -> CsvTable:
    """The header and the non-blank rows of a registry CSV; ImportFileError when the file is unusable."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ImportFileError("the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]))
    try:
        header = [header_name(cell) for cell in next(reader)]
        records = list(reader)
    except csv.Error as exc:
        raise ImportFileError(f"the file is not valid CSV: {exc}") from None
    if "asset_number" not in header:
        raise ImportFileError(f"no asset_number column in the header (found: {', '.join(h for h in header if h)})")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise ImportFileError(f"column{'s' if len(repeated) > 1 else ''} given twice: {', '.join(repeated)}")
    if len(records) > MAX_ROWS:
        raise ImportFileError(f"{len(records)} rows: at most {MAX_ROWS} per file; split it")
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for number, cells in enumerate(records, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
            errors.append(RowError(number, "", "", f"{len(cells)} cells but the header has {len(header)} columns"))
            continue
        rows.append((number, {name: cells[i] if i < len(cells) else "" for i, name in enumerate(header)
                              if name in IMPORT_NAMES}))
    columns = tuple(h for h in header if h in IMPORT_NAMES)
    ignored = tuple(h or "(blank)" for h in header if h not in IMPORT_NAMES and h not in PLACE_COLUMNS)
    return CsvTable(columns=columns, ignored=ignored, rows=rows, errors=errors)


# ---- one cell: raw text -> value, or ValueError with the reason ----

def _choice(choices: list[tuple[str, Any]], what: str) -> Callable[[str], str]:
    by_text = {str(value).lower(): str(value) for value, _ in choices}
    by_text |= {str(label).lower(): str(value) for value, label in choices}

    def convert(raw: str) -> str:
        value = by_text.get(raw.lower()) or by_text.get(raw.lower().replace(" ", "_"))
        if value is None:
            raise ValueError(f"not a {what}: use one of {', '.join(str(v) for v, _ in choices)}")
        return value

    return convert


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError("not a date: write YYYY-MM-DD") from None


def _interval(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PM_INTERVAL_DAYS:
        raise ValueError(f"not a whole number of days from 1 to {MAX_PM_INTERVAL_DAYS}")
    return int(raw)


def _money(raw: str) -> Decimal:
    if not _DECIMAL.match(raw):
        raise ValueError("not an amount: digits with at most 2 decimals after a point (3200.00)")
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError("not an amount") from None


_CONVERT: dict[str, Callable[[str], Any]] = {
    "category": _choice(Asset.Category.choices, "category"),
    "status": _choice(Asset.Status.choices, "status"),
    "tag_tech": _choice(Tag.Tech.choices, "tag technology"),
    "pm_due_on": _date,
    "purchased_on": _date,
    "pm_interval_days": _interval,
    "purchase_value": _money,
}
_KEEP_WHEN_BLANK = frozenset({"category", "tag_id", "tag_tech", "status"})
_NONE_WHEN_BLANK = frozenset({"department", "home_zone", "pm_due_on", "pm_interval_days", "purchased_on",
                              "purchase_value"})


def cell_check(column: str, raw: str) -> Any:
    """One cell's value (blank: "" or None as AssetRow says); ValueError naming what is wrong."""
    raw = raw.strip()
    if not raw:
        return None if column in _NONE_WHEN_BLANK else ""
    limit = _TEXT_MAX.get(column)
    if limit is not None and len(raw) > limit:
        raise ValueError(f"longer than {limit} characters")
    convert = _CONVERT.get(column)
    return convert(raw) if convert else raw


def row_check(number: int, cells: dict[str, str]) -> tuple[AssetRow | None, list[RowError]]:
    """Check every cell of one row: the row (its good cells) and the errors of its bad cells, every one of
    them. The row is None when it has no usable asset number."""
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    for column, raw in cells.items():
        try:
            value = cell_check(column, raw)
        except ValueError as exc:
            errors.append(RowError(number, column, raw.strip()[:MAX_VALUE_CHARS], str(exc)))
            continue
        if column in _KEEP_WHEN_BLANK and value == "":
            continue
        values[column] = value
    number_value = values.pop("asset_number", "")
    if not number_value:
        if not any(e.column == "asset_number" for e in errors):
            errors.append(RowError(number, "asset_number", "", "required"))
        return None, errors
    return AssetRow(row=number, asset_number=number_value, values=values), errors
