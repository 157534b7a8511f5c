"""manage.py import_assets FILE: import an equipment inventory CSV into the asset registry (docs/assets.md).

All rows or none: any row with an error and nothing is written (the errors are listed, row, column and
reason, and the command exits with status 1). --dry-run checks everything and writes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from tracking.assets.registry import ImportFileError, ImportReport, assets_import_csv

PROGRESS_FROM_ROWS = 200  # smaller files are done before a bar would be seen
_STAGES = {"check": "checking", "write": "writing"}


class ProgressBars:
    """One tqdm bar per stage of the import (checking rows, writing them), on stderr."""

    def __init__(self, *, show: bool) -> None:
        self.show = show
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.show or total < PROGRESS_FROM_ROWS:
            return
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=_STAGES.get(stage, stage), unit="row", file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Command(BaseCommand):
    help = "Import an equipment inventory CSV into the asset registry; all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV (UTF-8; comma, semicolon or tab separated)")
        parser.add_argument("--dry-run", action="store_true", help="check and report the changes, write nothing")
        parser.add_argument("--user", help="the username status changes are recorded for")
        parser.add_argument("--max-errors", type=int, default=50, help="list at most this many errors (default 50)")
        parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        user = self._user(options["user"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        bars = ProgressBars(show=not options["no_progress"])
        try:
            report = assets_import_csv(data=data, dry_run=options["dry_run"], user=user, progress=bars)
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}\nNothing was imported.") from exc
        finally:
            bars.close()
        self._print(report, max_errors=options["max_errors"])
        if report.errors:
            raise CommandError(f"{path}: {len(report.errors)} errors; nothing was imported.")

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        return user

    def _print(self, report: ImportReport, *, max_errors: int) -> None:
        lines = report.lines()
        shown = [line for line in lines if not line.startswith("  ")]
        errors = [line for line in lines if line.startswith("  ")]
        for line in shown:
            self.stdout.write(line)
        for line in errors[:max_errors]:
            self.stdout.write(line)
        if len(errors) > max_errors:
            self.stdout.write(f"  ... and {len(errors) - max_errors} more (--max-errors)")
        rate = report.rows / report.elapsed_s if report.elapsed_s > 0 else 0.0
        self.stdout.write(f"{report.rows} rows in {report.elapsed_s:.2f} s ({rate:,.0f} rows/s)")
