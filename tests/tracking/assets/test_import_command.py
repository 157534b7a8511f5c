"""manage.py import_assets and export_assets: the report, the exit status on errors, the progress bars,
and an export that imports back unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from floorplans.models import Floor
from tests.tracking.assets.registry_data import csv_text, inventory, pump
from tracking.assets.registry.columns import ALIASES, COLUMNS, EXPORT_NAMES
from tracking.models import Asset, AssetStatusChange
from tracking.services import tracked_object_tag


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_checks_on_a_dry_run_then_imports_and_says_what_it_did(floor: Floor, tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text(csv_text([pump(1), pump(2, status="in_use")]), encoding="utf-8")
    dry = _run("import_assets", str(path), "--dry-run")
    assert "2 rows: 2 would be created, 0 updated, 0 unchanged; 2 new tags, 1 status change" in dry
    assert "dry run: nothing was written" in dry and not Asset.objects.exists()
    done = _run("import_assets", str(path))
    assert "2 rows: 2 were created, 0 updated, 0 unchanged; 2 new tags, 1 status change" in done
    assert "rows/s" in done and Asset.objects.count() == 2
    assert AssetStatusChange.objects.get().source == "import"


@pytest.mark.django_db
def test_it_lists_the_errors_and_fails_with_nothing_imported(floor: Floor, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(csv_text([pump(1), pump(2, category="toaster"), pump(3, pm_due_on="soon")]), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 errors; nothing was imported"):
        call_command("import_assets", str(path), "--max-errors", "1", stdout=out)
    assert "row 3, category: 'toaster' not a category" in out.getvalue()
    assert "row 4, pm_due_on" not in out.getvalue() and "... and 1 more (--max-errors)" in out.getvalue()
    assert not Asset.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "message"), [
    (("missing.csv",), "missing.csv: No such file or directory"),
    (("{empty}",), "the file is empty\nNothing was imported."),
    (("{good}", "--user", "nobody"), "no user 'nobody'"),
])
def test_it_refuses_a_missing_file_an_unusable_one_and_an_unknown_user(floor: Floor, tmp_path: Path,
                                                                       args: tuple[str, ...], message: str) -> None:
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "good.csv").write_text(csv_text([pump(1)]), encoding="utf-8")
    paths = {"empty": str(tmp_path / "empty.csv"), "good": str(tmp_path / "good.csv")}
    with pytest.raises(CommandError, match=message):
        _run("import_assets", *(arg.format(**paths) for arg in args))


@pytest.mark.django_db
def test_it_shows_progress_bars_for_a_long_file(floor: Floor, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text(csv_text(inventory(600)), encoding="utf-8")
    call_command("import_assets", str(path), stdout=io.StringIO())
    bars = capsys.readouterr().err
    assert "checking: 100%" in bars and "writing: 100%" in bars and "600/600" in bars
    call_command("import_assets", str(path), "--no-progress", stdout=io.StringIO())
    assert "100%" not in capsys.readouterr().err


@pytest.mark.django_db
def test_it_exports_a_registry_that_imports_back_unchanged(floor: Floor, tmp_path: Path) -> None:
    tracked_object_tag(kind="staff", name="Badge", tag_id="B-1", tech="ble")
    path = tmp_path / "inventory.csv"
    path.write_text(csv_text([pump(1), pump(2, status="needs_cleaning", purchase_value="")]), encoding="utf-8")
    _run("import_assets", str(path))
    exported = tmp_path / "export.csv"
    _run("export_assets", "-o", str(exported), "--no-progress")
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(EXPORT_NAMES) and len(lines) == 3
    assert lines[2].startswith("BME-00002,infusion_pump,BD,Alaris 8100,BD00000002,AC233F000002,ble,3N,3N-ST,"
                               "needs_cleaning,2026-06-30,180,2021-04-01,,")
    again = _run("import_assets", str(exported))
    assert "2 rows: 0 were created, 0 updated, 2 unchanged" in again
    only = _run("export_assets", "--status", "needs_cleaning")
    assert [line.split(",")[0] for line in only.splitlines()] == ["asset_number", "BME-00002"]
    with pytest.raises(CommandError, match="no ward with the code 'XX'"):
        _run("export_assets", "--department", "XX")


def test_it_documents_every_column_and_alias() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "assets.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"`{column.name}`" in doc, column.name
    for alias in ALIASES:
        assert f"`{alias}`" in doc, alias
