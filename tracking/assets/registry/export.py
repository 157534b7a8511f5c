"""The registry as CSV: every import column (so an export edited and imported again round-trips), then
where each asset is now (floor, zone, position, last seen) on the floors the reader may watch.

Rows are read in chunks from one query (values, no model instances) and written as they come, so a
large registry streams to the browser without being held in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import F, QuerySet

from tracking.access import floor_ids_visible
from tracking.assets.registry.columns import EXPORT_NAMES
from tracking.assets.registry.zonecodes import ZoneIndex
from tracking.models import Asset
from tracking.selectors.locations import StX, StY, iso_utc

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from tracking.access import AnyUser

CHUNK = 2000
_LOCATION = "tracked_object__tag__location__"


def _rows(assets: QuerySet[Asset]) -> QuerySet[Asset, Any]:
    rows: QuerySet[Asset, Any] = assets.order_by("asset_number").values(
        "asset_number", "category", "make", "model", "serial_number", "department_id", "home_zone_id", "status",
        "pm_due_on", "pm_interval_days", "purchased_on", "purchase_value",
        tag_id=F("tracked_object__tag__tag_id"), tag_tech=F("tracked_object__tag__tech"),
        floor_id=F(f"{_LOCATION}floor_id"), floor=F(f"{_LOCATION}floor__code"), zone_id=F(f"{_LOCATION}zone_id"),
        zone_name=F(f"{_LOCATION}zone__name"), x=StX(f"{_LOCATION}position"), y=StY(f"{_LOCATION}position"),
        last_seen_at=F(f"{_LOCATION}seen_at"),
    )
    return rows


def _cell(value: Any) -> str:
    """A date as YYYY-MM-DD, an amount as 3200.00, nothing as an empty cell."""
    return "" if value is None else str(value)


def export_records(*, assets: QuerySet[Asset], user: AnyUser | None) -> Iterator[list[str]]:
    """The header, then one list of cells per asset (by asset number). `user` None: every floor's places."""
    zones = ZoneIndex.load()
    visible = None if user is None else floor_ids_visible(user=user)
    yield list(EXPORT_NAMES)
    for row in _rows(assets).iterator(chunk_size=CHUNK):
        located = row["floor_id"] is not None and (visible is None or row["floor_id"] in visible)
        place = [row["floor"], zones.label(row["zone_id"]), row["zone_name"] or "", f"{row['x']:.2f}",
                 f"{row['y']:.2f}", iso_utc(row["last_seen_at"])] if located else [""] * 6
        yield [
            row["asset_number"], row["category"], row["make"], row["model"], row["serial_number"],
            row["tag_id"] or "", row["tag_tech"] or "", zones.label(row["department_id"]),
            zones.label(row["home_zone_id"]), row["status"], _cell(row["pm_due_on"]), _cell(row["pm_interval_days"]),
            _cell(row["purchased_on"]), _cell(row["purchase_value"]), *place,
        ]


def export_lines(*, assets: QuerySet[Asset], user: AnyUser | None) -> Iterator[str]:
    """The CSV text line by line (for a streaming response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for record in export_records(assets=assets, user=user):
        writer.writerow(record)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def assets_export(*, assets: QuerySet[Asset], out: SupportsWrite[str], user: AnyUser | None = None,
                  progress: Callable[[int], None] | None = None) -> int:
    """Write the CSV to `out`; returns the number of assets. `progress(n)` is called every CHUNK rows."""
    count = -1  # the header is no asset
    for count, line in enumerate(export_lines(assets=assets, user=user)):
        out.write(line)
        if progress is not None and count and count % CHUNK == 0:
            progress(CHUNK)
    if progress is not None and count > 0 and count % CHUNK:
        progress(count % CHUNK)
    return max(count, 0)
