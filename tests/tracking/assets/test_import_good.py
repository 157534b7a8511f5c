"""CSV import of good files: creates assets with their tags, updates by asset number, leaves columns the
file lacks alone, sets status through the status service, moves and swaps tags, reads spreadsheet dialects."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from floorplans.demo.layout import demo_floors
from floorplans.models import Floor
from floorplans.services import floor_file_check, floor_import
from tests.tracking.assets.registry_data import csv_text, pump
from tests.tracking.whereabouts import zone
from tracking.assets.registry import assets_import_csv
from tracking.models import Asset, AssetStatusChange, Tag, TrackedObject
from tracking.services import asset_register, tracked_object_tag

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def tag_of(asset: Asset) -> Tag:
    tag = asset.tracked_object.tag
    assert tag is not None, asset
    return tag


def test_it_creates_assets_with_their_tags_and_tracked_objects(floor: Floor, biomed: User) -> None:
    report = assets_import_csv(data=csv_text([pump(1), pump(2, category="Syringe Pump", tag_tech="UHF RFID")]),
                               dry_run=False, user=biomed, now=AT)
    assert (report.ok, report.imported, report.rows, report.created, report.tags_created) == (True, True, 2, 2, 2)
    first = Asset.objects.select_related("tracked_object__tag").get(asset_number="BME-00001")
    assert (first.category, first.make, first.model, first.serial_number) == ("infusion_pump", "BD", "Alaris 8100",
                                                                              "BD00000001")
    assert (first.department, first.home_zone) == (zone(floor, "3N"), zone(floor, "3N-ST"))
    assert (first.pm_due_on, first.pm_interval_days, first.purchased_on, first.purchase_value) == (
        date(2026, 6, 30), 180, date(2021, 4, 1), Decimal("3200.00"))
    assert (first.status, first.status_changed_at) == ("available", None)  # new and available: no change to record
    obj = first.tracked_object
    assert (obj.kind, obj.name, obj.home_zone, tag_of(first).tag_id, tag_of(first).tech) == (
        "asset", "infusion pump BME-00001", zone(floor, "3N-ST"), "AC233F000001", "ble")
    second = Asset.objects.get(asset_number="BME-00002")
    assert (second.category, tag_of(second).tech) == ("syringe_pump", "rfid")
    assert report.asset_ids == {"BME-00001": first.pk, "BME-00002": second.pk}


def test_it_writes_nothing_on_a_dry_run_but_reports_what_it_would_do(floor: Floor) -> None:
    asset_register(asset_number="BME-00001", category="infusion_pump", tag_id="AC233F000001", tech="ble")
    report = assets_import_csv(data=csv_text([pump(1, make="Baxter"), pump(2)]), dry_run=True)
    assert (report.ok, report.imported, report.created, report.updated, report.tags_created) == (True, False, 1, 1, 1)
    assert [(c.asset_number, c.action) for c in report.changes] == [("BME-00001", "updated"), ("BME-00002", "created")]
    assert "dry run: nothing was written" in report.lines()
    assert Asset.objects.count() == 1 and Asset.objects.get().make == ""
    assert not Tag.objects.filter(tag_id="AC233F000002").exists()


def test_it_updates_by_asset_number_and_leaves_the_columns_the_file_lacks_alone(floor: Floor) -> None:
    assets_import_csv(data=csv_text([pump(1), pump(2)]), dry_run=False, now=AT)
    text = csv_text([{"asset_number": "BME-00001", "home_zone": "3N-DU", "pm_due_on": ""},
                     {"asset_number": "BME-00002", "home_zone": "3N-ST", "pm_due_on": "2026-06-30"}],
                    columns=("asset_number", "home_zone", "pm_due_on"))
    report = assets_import_csv(data=text, dry_run=False, now=AT)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert report.changes[0].fields == ("home_zone", "pm_due_on")
    first = Asset.objects.get(asset_number="BME-00001")
    assert (first.home_zone, first.pm_due_on) == (zone(floor, "3N-DU"), None)  # a blank cell clears
    assert (first.make, first.purchase_value, tag_of(first).tag_id) == ("BD", Decimal("3200.00"),
                                                                                 "AC233F000001")
    assert first.tracked_object.home_zone == zone(floor, "3N-DU")  # the map's object follows the asset


def test_it_sets_status_through_the_status_service_recording_the_import(floor: Floor, biomed: User) -> None:
    assets_import_csv(data=csv_text([pump(1), pump(2, status="out for repair")]), dry_run=False, user=biomed, now=AT)
    report = assets_import_csv(data=csv_text([pump(1, status="needs_cleaning"), pump(2, status="")]),
                               dry_run=False, user=biomed, now=AT)
    assert (report.status_changes, report.updated, report.unchanged) == (1, 1, 1)  # blank status: keep
    changes = list(AssetStatusChange.objects.order_by("pk").values_list(
        "asset__asset_number", "from_status", "to_status", "source", "user__username", "at"))
    assert changes == [
        ("BME-00002", "available", "out_for_repair", "import", "biomed", AT),  # new, not available: from the default
        ("BME-00001", "available", "needs_cleaning", "import", "biomed", AT),
    ]
    assert Asset.objects.get(asset_number="BME-00001").status_changed_at == AT


def test_it_puts_a_new_tag_on_an_asset_and_swaps_tags_within_one_file(floor: Floor) -> None:
    assets_import_csv(data=csv_text([pump(1), pump(2), pump(3)]), dry_run=False)
    swap = csv_text([{"asset_number": "BME-00001", "tag_id": "AC233F000002"},
                     {"asset_number": "BME-00002", "tag_id": "AC233F000001"},
                     {"asset_number": "BME-00003", "tag_id": "3008AABB", "tag_tech": "rfid"}],
                    columns=("asset_number", "tag_id", "tag_tech"))
    report = assets_import_csv(data=swap, dry_run=False)
    assert (report.ok, report.updated, report.tags_created) == (True, 3, 1), report.lines()
    tags = dict(Asset.objects.values_list("asset_number", "tracked_object__tag__tag_id"))
    assert tags == {"BME-00001": "AC233F000002", "BME-00002": "AC233F000001", "BME-00003": "3008AABB"}
    assert Tag.objects.filter(tag_id="AC233F000003", tracked_object__isnull=True).exists()  # kept, free to reuse
    assert TrackedObject.objects.count() == 3


def test_it_takes_a_free_known_tag_and_corrects_a_tags_technology(floor: Floor) -> None:
    Tag.objects.create(tag_id="SPARE-1", tech="ble")
    assets_import_csv(data=csv_text([pump(1, tag_id="SPARE-1", tag_tech="")]), dry_run=False)
    assert tag_of(Asset.objects.get()).tag_id == "SPARE-1"
    fix = csv_text([{"asset_number": "BME-00001", "tag_tech": "uwb"}], columns=("asset_number", "tag_tech"))
    report = assets_import_csv(data=fix, dry_run=False)
    assert (report.updated, report.changes[0].fields) == (1, ())
    assert Tag.objects.get(tag_id="SPARE-1").tech == "uwb"


def test_it_reads_semicolons_a_byte_order_mark_labels_and_header_aliases(floor: Floor) -> None:
    text = "Asset No;Type;Manufacturer;Serial;Tag;Tech;Ward;Home;PM due;Value\r\n" \
           "bme-9;Patient Monitor;Philips;PH1;AC233F0000FF;BLE;3n;3n-st;2026-12-01;9500\r\n" \
           ";;;;;;;;;\r\n"
    report = assets_import_csv(data=("\ufeff" + text).encode("utf-8"), dry_run=False)
    assert (report.ok, report.created, report.rows) == (True, 1, 1), report.lines()
    asset = Asset.objects.get(asset_number="bme-9")
    assert (asset.category, asset.make, asset.serial_number, asset.department, asset.purchase_value) == (
        "monitor", "Philips", "PH1", zone(floor, "3N"), Decimal("9500"))


def test_it_ignores_the_place_columns_of_an_export_and_names_unknown_ones(floor: Floor) -> None:
    columns = ("asset_number", "category", "floor", "zone", "last_seen_at", "colour")
    text = csv_text([{"asset_number": "A1", "category": "bed", "floor": "L3", "colour": "blue"}], columns=columns)
    report = assets_import_csv(data=text, dry_run=False)
    assert (report.ok, report.created, report.ignored_columns) == (True, 1, ("colour",))
    assert Asset.objects.get().tracked_object.tag is None  # no tag yet: registered, not trackable


def test_it_names_a_zone_by_floor_and_code_where_codes_repeat(floor: Floor) -> None:
    upstairs = Floor.objects.create(building=floor.building, code="L4", level=4, name="4", width_m=30, height_m=20)
    store = zone(floor, "3N-ST")
    store.pk, store.floor = None, upstairs
    store.save()  # a "3N-ST" on level 4 too
    report = assets_import_csv(data=csv_text([pump(1, home_zone="L4/3N-ST")]), dry_run=False)
    assert report.ok, report.lines()
    assert Asset.objects.get().home_zone == store


def test_it_leaves_a_staff_badge_alone_and_counts_a_reimport_as_unchanged(floor: Floor) -> None:
    tracked_object_tag(kind="staff", name="Badge 1", tag_id="B-1", tech="ble")
    text = csv_text([pump(1), pump(2)])
    assets_import_csv(data=text, dry_run=False)
    again = assets_import_csv(data=text, dry_run=False)
    assert (again.created, again.updated, again.unchanged, again.tags_created) == (0, 0, 2, 0)
    assert TrackedObject.objects.get(tag__tag_id="B-1").kind == "staff"


def test_it_imports_the_sample_file_into_the_demo_hospital(db: None) -> None:
    for document in demo_floors():
        floor_import(floor_file=floor_file_check(document))
    sample = Path(__file__).resolve().parents[3] / "floorplans" / "demo" / "assets_sample.csv"
    report = assets_import_csv(data=sample.read_bytes(), dry_run=False)
    assert (report.ok, report.created, report.tags_created, report.status_changes) == (True, 12, 11, 4), report.lines()
    assert Asset.objects.filter(asset_number="BME-10008", home_zone__code="L0-BME").exists()
