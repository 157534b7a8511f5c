"""CSV import of bad files: each bad cell is named by row, column and reason; one bad row means nothing is
imported; conflicts with the database (tags carried by others, serial numbers, zones) are caught before
any write; a failure while writing rolls everything back."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.auth.models import User

from floorplans.models import Floor
from tests.tracking.assets.registry_data import csv_text, pump
from tests.tracking.whereabouts import zone
from tracking.assets import status
from tracking.assets.registry import ImportFileError, RowError, assets_import_csv
from tracking.models import Asset, AssetStatusChange, Tag, TrackedObject
from tracking.services import asset_register, tracked_object_tag

pytestmark = pytest.mark.django_db

# (cells changed in an otherwise good row, the column named, words of the reason)
BAD_CELLS: list[tuple[dict[str, str], str, str]] = [
    ({"asset_number": ""}, "asset_number", "required"),
    ({"asset_number": "X" * 65}, "asset_number", "longer than 64"),
    ({"category": "toaster"}, "category", "not a category"),
    ({"category": ""}, "category", "required for a new asset"),
    ({"status": "lost"}, "status", "not a status"),
    ({"tag_tech": "nfc"}, "tag_tech", "not a tag technology"),
    ({"tag_tech": ""}, "tag_tech", "required for a tag new"),
    ({"pm_due_on": "30/06/2026"}, "pm_due_on", "YYYY-MM-DD"),
    ({"purchased_on": "2026-02-30"}, "purchased_on", "not a date"),
    ({"pm_interval_days": "0"}, "pm_interval_days", "from 1 to 3650"),
    ({"pm_interval_days": "six months"}, "pm_interval_days", "whole number"),
    ({"purchase_value": "3,200.00"}, "purchase_value", "not an amount"),
    ({"purchase_value": "12.345"}, "purchase_value", "at most 2 decimals"),
    ({"purchase_value": "-5"}, "purchase_value", "not an amount"),
    ({"department": "4W"}, "department", "no zone has this code"),
    ({"department": "3N-ST"}, "department", "is a storage zone; a department is a ward"),
    ({"home_zone": "nowhere"}, "home_zone", "no zone has this code"),
]


@pytest.mark.parametrize(("cells", "column", "reason"), BAD_CELLS)
def test_it_names_the_row_column_and_reason_of_a_bad_cell(floor: Floor, cells: dict[str, str], column: str,
                                                          reason: str) -> None:
    report = assets_import_csv(data=csv_text([pump(1), pump(2, **cells)]), dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(3, column)], report.lines()
    assert reason in report.errors[0].reason


def test_it_lists_every_bad_cell_of_every_row_and_imports_nothing(floor: Floor) -> None:
    rows = [pump(1), pump(2, category="toaster", pm_due_on="soon", department="4W"), pump(3),
            pump(4, home_zone="nowhere"), pump(5)]
    report = assets_import_csv(data=csv_text(rows), dry_run=False)
    assert report.errors == [
        RowError(3, "category", "toaster", report.errors[0].reason),
        RowError(3, "department", "4W", "no zone has this code"),  # checked against the zones all the same
        RowError(3, "pm_due_on", "soon", "not a date: write YYYY-MM-DD"),
        RowError(5, "home_zone", "nowhere", "no zone has this code"),
    ]
    assert (report.ok, report.imported, report.rows, report.created) == (False, False, 5, 3)
    assert "4 errors in 2 rows; nothing was imported:" in report.lines()
    assert "  row 3, pm_due_on: 'soon' not a date: write YYYY-MM-DD" in report.lines()
    assert not Asset.objects.exists() and not Tag.objects.exists() and not TrackedObject.objects.exists()


def test_it_refuses_rows_that_clash_with_each_other(floor: Floor) -> None:
    rows = [pump(1), pump(1, make="Baxter"), pump(2, tag_id="AC233F000001"), pump(3, serial_number="BD00000001")]
    report = assets_import_csv(data=csv_text(rows), dry_run=True)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (3, "asset_number", "also in row 2"),
        (4, "tag_id", "row 2 has this tag too"),
        (5, "serial_number", "row 2 has this serial number (same make and model)"),
    ]


def test_it_refuses_tags_carried_by_others_and_serials_registered_to_others(floor: Floor) -> None:
    tracked_object_tag(kind="staff", name="Badge 7", tag_id="BADGE-7", tech="ble")
    asset_register(asset_number="OLD-1", category="monitor", tag_id="OLD-TAG", tech="ble", make="BD",
                   model="Alaris 8100", serial_number="SER-1")
    rows = [pump(1, tag_id="BADGE-7"), pump(2, tag_id="OLD-TAG"), pump(3, serial_number="SER-1")]
    errors = assets_import_csv(data=csv_text(rows), dry_run=True).errors
    assert [(e.row, e.column, e.reason) for e in errors] == [
        (2, "tag_id", "is carried by 'Badge 7' (staff), not by an asset"),
        (3, "tag_id", "is carried by asset OLD-1: give that asset another tag first (in the registry or in this file)"),
        (4, "serial_number", "asset OLD-1 has this serial number (same make and model)"),
    ]


def test_it_refuses_a_technology_for_an_asset_without_a_tag(floor: Floor) -> None:
    text = csv_text([{"asset_number": "A1", "category": "bed", "tag_tech": "rfid"}],
                    columns=("asset_number", "category", "tag_tech"))
    assert [str(e) for e in assets_import_csv(data=text, dry_run=True).errors] == [
        "row 2, tag_tech: 'rfid' the asset has no tag: give its tag_id"]


def test_it_asks_for_floor_and_code_when_a_zone_code_is_ambiguous(floor: Floor) -> None:
    upstairs = Floor.objects.create(building=floor.building, code="L4", level=4, name="4", width_m=30, height_m=20)
    store = zone(floor, "3N-ST")
    store.pk, store.floor = None, upstairs
    store.save()
    [error] = assets_import_csv(data=csv_text([pump(1)]), dry_run=True).errors
    assert (error.column, error.reason) == ("home_zone", "this code is used on floors L3, L4: write FLOOR/CODE")


def test_it_flags_a_row_with_more_cells_than_the_header(floor: Floor) -> None:
    text = csv_text([pump(1)]) + "BME-00002,bed,,,,,,,,,,,,,extra\n"
    assert [str(e) for e in assets_import_csv(data=text, dry_run=True).errors] == [
        "row 3: 15 cells but the header has 14 columns"]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    (b"\n \n", "the file is empty"),
    (b"category,make\nbed,x\n", "no asset_number column in the header (found: category, make)"),
    (b"asset_number,make,Make\nA,x,y\n", "column given twice: make"),
    ("asset_number,make\nA,Dräger\n".encode("latin-1"), "the file is not UTF-8 text (byte 22)"),
])
def test_it_refuses_an_unusable_file_as_a_whole(floor: Floor, data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=re.escape(message)):
        assets_import_csv(data=data, dry_run=False)


def test_it_rolls_everything_back_when_a_write_fails_half_way(floor: Floor, biomed: User) -> None:
    """The third status change fails: the assets, tags and the first status changes are all undone."""
    rows = [pump(i, status="in_use") for i in range(1, 6)]
    real = status.asset_status_set
    calls = 0

    def flaky(**kwargs: object) -> AssetStatusChange | None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("database went away")
        return real(**kwargs)  # type: ignore[arg-type]

    with mock.patch.object(status, "asset_status_set", autospec=True, side_effect=flaky), \
            pytest.raises(RuntimeError, match="database went away"):
        assets_import_csv(data=csv_text(rows), dry_run=False, user=biomed)
    assert calls == 3
    assert (Asset.objects.count(), Tag.objects.count(), AssetStatusChange.objects.count()) == (0, 0, 0)
