"""A 5,000-row inventory: imported whole, then imported again (all unchanged), through the command with its
progress bars. The times are a report figure, printed, not asserted."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from floorplans.models import Floor
from tests.tracking.assets.registry_data import csv_text, inventory
from tracking.models import Asset, AssetStatusChange, Tag

pytestmark = pytest.mark.django_db

ROWS = 5_000


def _timed_import(path: Path) -> tuple[float, str]:
    out = io.StringIO()
    started = time.perf_counter()
    call_command("import_assets", str(path), stdout=out)
    return time.perf_counter() - started, out.getvalue()


def test_it_imports_five_thousand_rows_and_reports_the_time(floor: Floor, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    rows = inventory(ROWS)
    path = tmp_path / "inventory.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    first_s, first = _timed_import(path)
    not_available = sum(1 for row in rows if row["status"] != "available")
    assert f"{ROWS} rows: {ROWS} were created, 0 updated, 0 unchanged; {ROWS} new tags" in first
    assert (Asset.objects.count(), Tag.objects.count()) == (ROWS, ROWS)
    assert AssetStatusChange.objects.count() == not_available
    again_s, again = _timed_import(path)
    assert f"{ROWS} rows: 0 were created, 0 updated, {ROWS} unchanged" in again
    assert "writing: 100%" in capsys.readouterr().err
    started = time.perf_counter()
    call_command("export_assets", "-o", str(tmp_path / "export.csv"), "--no-progress")
    export_s = time.perf_counter() - started
    assert len((tmp_path / "export.csv").read_text(encoding="utf-8").splitlines()) == ROWS + 1
    with capsys.disabled():
        print(f"\n[figure] import of {ROWS:,} rows ({not_available} status changes): {first_s:.2f} s "
              f"({ROWS / first_s:,.0f} rows/s); again, all unchanged: {again_s:.2f} s ({ROWS / again_s:,.0f} rows/s); "
              f"export: {export_s:.2f} s")
