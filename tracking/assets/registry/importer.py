"""Import registry rows: check them all against the database, then write them all, or nothing.

`assets_import_csv` reads a file (columns.py) and hands its rows to `assets_import_rows`, which the REST
API calls too for one asset. Inside one transaction it

1. plans: looks up every zone, asset, tag and serial number the rows name (a handful of queries, not one
   per row) and decides each row: create, update (which fields) or unchanged, or a `RowError`;
2. stops there when any row has an error, or for a dry run: nothing is written;
3. writes in bulk: new tags, tags moved between assets (freed first, so a swap in one file works), new
   tracked objects and assets, changed assets; then each status change through
   `tracking.assets.status.asset_status_set` (the one write path for status).

A row is keyed by asset_number: a known number updates that asset. Columns the file lacks are left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tracking.assets.registry.columns import (
    IMPORT_NAMES,
    AssetRow,
    CsvTable,
    RowError,
    csv_decode,
    csv_read,
    row_check,
)
from tracking.assets.registry.plan import Plan, RowPlan, plan_rows
from tracking.models import Asset, AssetStatusChange, Tag, TrackedObject

logger = logging.getLogger(__name__)

# progress(stage, done, total): stage "check" then "write"; done counts rows
Progress = Callable[[str, int, int], None]
CHUNK = 500


@dataclass(frozen=True, slots=True)
class RowChange:
    row: int
    asset_number: str
    action: str  # created | updated | unchanged
    fields: tuple[str, ...] = ()  # what changes (updated), what is set (created)


@dataclass
class ImportReport:
    dry_run: bool
    columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    tags_created: int = 0
    status_changes: int = 0
    errors: list[RowError] = field(default_factory=list)
    changes: list[RowChange] = field(default_factory=list)
    asset_ids: dict[str, int] = field(default_factory=dict)  # asset_number -> pk (written rows only)
    imported: bool = False
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        """The report in words, as the command prints it."""
        verb = "would be" if self.dry_run or not self.imported else "were"
        head = (f"{_n(self.rows, 'row')}: {self.created} {verb} created, {self.updated} updated, "
                f"{self.unchanged} unchanged; {_n(self.tags_created, 'new tag')}, "
                f"{_n(self.status_changes, 'status change')}")
        lines = [head]
        if self.ignored_columns:
            lines.append(f"ignored columns (not registry columns): {', '.join(self.ignored_columns)}")
        if self.errors:
            rows = len({e.row for e in self.errors})
            lines.append(f"{_n(len(self.errors), 'error')} in {_n(rows, 'row')}; nothing was imported:")
            lines.extend(f"  {error}" for error in self.errors)
        elif self.dry_run:
            lines.append("dry run: nothing was written")
        return lines


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def assets_import_csv(
    *, data: bytes | str, dry_run: bool, user: Any = None, now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a registry CSV (docs/assets.md): all rows or none. Raises ImportFileError (columns.py) when
    the file as a whole is unusable; row problems come back in the report's `errors`."""
    started = time.perf_counter()
    table = csv_read(csv_decode(data) if isinstance(data, bytes) else data)
    rows, errors = _check(table, progress)
    report = assets_import_rows(rows=rows, columns=table.columns, dry_run=dry_run, user=user, now=now,
                                progress=progress, errors=errors, source=AssetStatusChange.Source.IMPORT)
    report.ignored_columns = table.ignored
    report.rows = len(table.rows) + len(table.errors)
    report.elapsed_s = time.perf_counter() - started
    return report


def _check(table: CsvTable, progress: Progress | None) -> tuple[list[AssetRow], list[RowError]]:
    rows: list[AssetRow] = []
    errors = list(table.errors)
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, start=1):
        row, row_errors = row_check(number, cells)
        if row is not None:
            rows.append(row)
        errors.extend(row_errors)
        if progress is not None and (done % CHUNK == 0 or done == total):
            progress("check", done, total)
    return rows, errors


def assets_import_rows(
    *, rows: Sequence[AssetRow], columns: Sequence[str], dry_run: bool, user: Any = None,
    now: datetime | None = None, progress: Progress | None = None, errors: Sequence[RowError] = (),
    source: str = AssetStatusChange.Source.IMPORT,
) -> ImportReport:
    """Plan and (unless `dry_run` or any error) write checked rows in one transaction. `errors` are
    problems found before (cells); any error means nothing is written. `source` is what the status
    changes record (import for a file, manual for the API)."""
    started = time.perf_counter()
    numbered = {r.row for r in rows} | {e.row for e in errors}
    report = ImportReport(dry_run=dry_run, columns=tuple(columns), rows=len(numbered))
    with transaction.atomic():
        plan = plan_rows(rows, columns=frozenset(columns), lock=not dry_run)
        bad_cells = {(e.row, e.column) for e in errors}  # said already: not again as "required" and the like
        later = [e for e in plan.errors if (e.row, e.column) not in bad_cells]
        report.errors = sorted([*errors, *later], key=lambda e: (e.row, _order(e.column)))
        bad_rows = {e.row for e in report.errors}
        plan.rows = [p for p in plan.rows if p.row.row not in bad_rows]  # counted as errors, not as changes
        report.changes = [RowChange(p.row.row, p.row.asset_number, p.action, p.fields) for p in plan.rows]
        for action in ("created", "updated", "unchanged"):
            setattr(report, action, sum(1 for p in plan.rows if p.action == action))
        report.tags_created = len(plan.new_tags)
        report.status_changes = sum(1 for p in plan.rows if p.status_to is not None)
        if report.errors or dry_run:
            report.elapsed_s = time.perf_counter() - started
            return report
        report.asset_ids = _write(plan, user=user, now=now or timezone.now(), source=source, progress=progress)
        report.imported = True
    report.elapsed_s = time.perf_counter() - started
    logger.info("asset import by %s: %d created, %d updated, %d unchanged, %d status changes",
                getattr(user, "username", None) or "-", report.created, report.updated, report.unchanged,
                report.status_changes)
    return report


def _order(column: str) -> int:
    return IMPORT_NAMES.index(column) if column in IMPORT_NAMES else -1


def _write(plan: Plan, *, user: Any, now: datetime, source: str, progress: Progress | None) -> dict[str, int]:
    total, done = len(plan.rows), 0
    tag_pks = _tags_write(plan)
    moving = [p for p in plan.rows if p.asset is not None and p.tag_id is not None]
    # free every tag that moves first, so two assets may swap tags within one file
    TrackedObject.objects.filter(pk__in=[p.asset.tracked_object_id for p in moving if p.asset]).update(tag=None)
    objects: list[TrackedObject] = []
    for p in moving:
        assert p.asset is not None
        objects.append(TrackedObject(pk=p.asset.tracked_object_id, tag_id=tag_pks[p.tag_id] if p.tag_id else None))
    TrackedObject.objects.bulk_update(objects, ["tag"], batch_size=CHUNK)
    ids: dict[str, int] = {}
    for start in range(0, total, CHUNK):
        chunk = plan.rows[start:start + CHUNK]
        ids |= _assets_create([p for p in chunk if p.action == "created"], tag_pks)
        ids |= _assets_update([p for p in chunk if p.action != "created"])
        done += len(chunk)
        if progress is not None:
            progress("write", done, total)
    _statuses_set(plan, ids, user=user, now=now, source=source)
    return ids


def _tags_write(plan: Plan) -> dict[str, int]:
    """Create the new tags and correct the technology of known ones; tag_id -> pk of every tag the rows name."""
    created = Tag.objects.bulk_create([Tag(tag_id=tag_id, tech=tech) for tag_id, tech in plan.new_tags.items()],
                                      batch_size=CHUNK)
    for tag_id, tech in plan.tech_changes.items():
        Tag.objects.filter(tag_id=tag_id).update(tech=tech)
    return {**plan.tag_pks, **{tag.tag_id: tag.pk for tag in created}}


def _assets_create(rows: list[RowPlan], tag_pks: dict[str, int]) -> dict[str, int]:
    if not rows:
        return {}
    objects = TrackedObject.objects.bulk_create([
        TrackedObject(kind=TrackedObject.Kind.ASSET, name=_object_name(p.values["category"], p.row.asset_number),
                      tag_id=tag_pks[p.tag_id] if p.tag_id else None, home_zone_id=p.values.get("home_zone_id"))
        for p in rows
    ])
    assets = Asset.objects.bulk_create([
        Asset(tracked_object=obj, asset_number=p.row.asset_number, **p.values) for p, obj in zip(rows, objects,
                                                                                                  strict=True)
    ])
    return {asset.asset_number: asset.pk for asset in assets}


def _assets_update(rows: list[RowPlan]) -> dict[str, int]:
    changed = [p for p in rows if p.action == "updated" and p.values]
    assets: list[Asset] = []
    objects: list[TrackedObject] = []
    names: set[str] = set()
    for p in changed:
        assert p.asset is not None
        for name, value in p.values.items():
            setattr(p.asset, name, value)
            names.add(name)
        assets.append(p.asset)
        objects.append(TrackedObject(pk=p.asset.tracked_object_id, home_zone_id=p.asset.home_zone_id,
                                     name=_object_name(p.asset.category, p.asset.asset_number)))
    if assets:
        Asset.objects.bulk_update(assets, sorted(names))
    if objects and names & {"category", "home_zone_id"}:
        TrackedObject.objects.bulk_update(objects, ["home_zone", "name"])
    return {p.row.asset_number: p.asset.pk for p in rows if p.asset is not None}


def _statuses_set(plan: Plan, ids: dict[str, int], *, user: Any, now: datetime, source: str) -> None:
    from tracking.assets.status import asset_status_set  # lazy: status.py triggers the PAR rules

    for p in plan.rows:
        if p.status_to is not None:
            asset_status_set(asset_id=ids[p.row.asset_number], status=p.status_to, source=source, user=user, at=now)


def _object_name(category: str, asset_number: str) -> str:
    """The tracked object's name, as tracking.services.asset_register gives it ("infusion pump BME-00001")."""
    return f"{Asset.Category(category).label} {asset_number}"
