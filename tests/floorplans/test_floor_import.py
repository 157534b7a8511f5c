"""Importing and exporting floors against the real PostGIS: all or nothing, idempotent, round trip."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from floorplans.floorfile import FloorFileError
from floorplans.models import Building, Door, Floor, Site, Zone
from floorplans.selectors import floor_export
from floorplans.services import floor_file_check, floor_import
from readers.models import Antenna, Reader

pytestmark = pytest.mark.django_db

Doc = dict[str, Any]


def _parse(doc: Doc) -> Any:
    return floor_file_check(doc)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Site, Building, Floor, Zone, Door, Reader, Antenna)}


def _write(tmp_path: Path, doc: Any, name: str = "floor.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_it_imports_a_floor_with_zones_doors_readers_and_calibration(floor_doc: Doc) -> None:
    report = floor_import(floor_file=_parse(floor_doc))
    floor = Floor.objects.get(code="L3")
    assert report.created == {"zones": 10, "doors": 4, "readers": 3}
    assert floor.building.site.code == "TST" and floor.level == 3
    bed = Zone.objects.get(code="3N-102-B")
    assert (bed.parent.code, bed.ward.code, bed.kind) == ("3N-102", "3N", "bed")  # type: ignore[union-attr]
    exit_door = Door.objects.get(code="X-1")
    assert (exit_door.from_zone.code, exit_door.to_zone.code, exit_door.is_exit) == ("3N-C", "ST-1", True)
    assert exit_door.is_lockable
    antennas = Antenna.objects.filter(reader__code="RFID-X1").order_by("port")
    assert [(a.port, a.side, a.zone.code, a.door.code) for a in antennas] == [  # type: ignore[union-attr]
        (1, "inside", "3N-C", "X-1"), (2, "outside", "ST-1", "X-1")]
    assert floor.plan_affine is not None and floor.plan_residual_m == pytest.approx(0.0, abs=1e-9)
    corner_m = floor.affine.pixels_to_metres(np.array([[600.0, 0.0]]))  # type: ignore[union-attr]
    np.testing.assert_allclose(corner_m, [[30.0, 20.0]], atol=1e-9)


def test_it_exports_what_it_imported_and_reimports_it_unchanged(floor_doc: Doc) -> None:
    floor_import(floor_file=_parse(floor_doc))
    exported = floor_export(floor=Floor.objects.get(code="L3"))
    assert _parse(exported) == _parse(floor_doc)
    before = _counts()
    report = floor_import(floor_file=_parse(exported))
    assert report.created == {"zones": 0, "doors": 0, "readers": 0}
    assert report.updated == {"zones": 10, "doors": 4, "readers": 3}
    assert _counts() == before
    assert floor_export(floor=Floor.objects.get(code="L3")) == exported


def test_it_exports_wgs84_for_gis_tools(floor_doc: Doc) -> None:
    floor_import(floor_file=_parse(floor_doc))
    exported = floor_export(floor=Floor.objects.get(code="L3"), wgs84=True)
    corridor = next(f for f in exported["features"] if f["properties"]["code"] == "3N-C")
    lon, lat = corridor["geometry"]["coordinates"][0][0]  # (0 m, 8 m): 8 m north of the origin
    assert lon == pytest.approx(-0.12, abs=1e-9)
    assert lat == pytest.approx(51.5 + 8 / 111_320, abs=2e-7)


def test_it_updates_moves_and_removes_by_code_on_reimport(floor_doc: Doc) -> None:
    floor_import(floor_file=_parse(floor_doc))
    store_pk = Zone.objects.get(code="3N-ST").pk
    changed = copy.deepcopy(floor_doc)
    changed["features"] = [f for f in changed["features"] if f["properties"]["code"] not in {"3N-DU", "UWB-1"}]
    next(f for f in changed["features"] if f["properties"]["code"] == "3N-ST")["properties"]["name"] = "Kit store"
    report = floor_import(floor_file=_parse(changed))
    assert report.deleted == {"zones": ["3N-DU"], "doors": [], "readers": ["UWB-1"]}
    store = Zone.objects.get(code="3N-ST")
    assert (store.pk, store.name) == (store_pk, "Kit store")  # same row, so references to it survive
    assert not Reader.objects.filter(code="UWB-1").exists()


def test_it_writes_nothing_in_a_dry_run(floor_doc: Doc) -> None:
    before = _counts()
    report = floor_import(floor_file=_parse(floor_doc), dry_run=True)
    assert report.dry_run and report.created["zones"] == 10
    assert _counts() == before


def test_it_writes_nothing_when_a_problem_shows_only_while_writing(floor_doc: Doc) -> None:
    floor_import(floor_file=_parse(floor_doc))
    other = copy.deepcopy(floor_doc)
    other["hospital_iot"]["floor"].update(code="L4", level=4, name="4 North")
    next(f for f in other["features"] if f["properties"]["code"] == "BLE-101")["properties"]["code"] = "BLE-401"
    before = _counts()
    with pytest.raises(FloorFileError) as caught:  # RFID-X1 and UWB-1 already belong to L3
        floor_import(floor_file=_parse(other))
    assert [(e.index, e.code) for e in caught.value.errors] == [(14, "RFID-X1"), (16, "UWB-1")]
    assert "already used on floor 'L3'" in str(caught.value)
    assert _counts() == before  # the new floor and its zones, written before the clash, rolled back


def test_it_refuses_a_second_floor_on_the_same_level(floor_doc: Doc) -> None:
    floor_import(floor_file=_parse(floor_doc))
    floor_doc["hospital_iot"]["floor"]["code"] = "L3B"
    with pytest.raises(FloorFileError, match=r"level 3 of Block A is already floor 'L3'"):
        floor_import(floor_file=_parse(floor_doc))


def test_the_command_imports_and_reports(floor_doc: Doc, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("import_floor", str(_write(tmp_path, floor_doc)), stdout=out)
    assert "zones: 10 new, 0 updated, 0 removed" in out.getvalue()
    assert Zone.objects.filter(floor__code="L3").count() == 10


def test_the_command_rejects_a_bad_file_naming_the_feature_and_writes_nothing(floor_doc: Doc, tmp_path: Path) -> None:
    floor_doc["features"][8]["properties"]["kind"] = "helipad"
    floor_doc["features"][6]["geometry"]["coordinates"] = [[[6.5, 12], [7.5, 12], [7.5, 14], [6.5, 14], [6.5, 12]]]
    with pytest.raises(CommandError) as caught:
        call_command("import_floor", str(_write(tmp_path, floor_doc)))
    message = str(caught.value)
    assert "feature 6 (3N-102-B): bed overlaps bed '3N-102-A'" in message
    assert "feature 8 (3N-DU): unknown zone kind 'helipad'" in message
    assert "Nothing was written." in message
    assert Floor.objects.count() == 0 and Zone.objects.count() == 0


def test_the_command_rejects_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "plan.geojson"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not json")
    with pytest.raises(CommandError, match=r"plan\.geojson is not valid JSON"):
        call_command("import_floor", str(path))


def _large_floor(floor_doc: Doc, rooms: int) -> Doc:
    """The test floor widened, with a row of `rooms` 1 m × 1 m store rooms along the bottom."""
    doc = copy.deepcopy(floor_doc)
    doc["hospital_iot"]["floor"]["width_m"] = float(rooms + 30)
    for i in range(rooms):
        x0 = 30.0 + i
        ring = [[x0, 0.0], [x0 + 1, 0.0], [x0 + 1, 1.0], [x0, 1.0], [x0, 0.0]]
        doc["features"].append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                                "properties": {"feature": "zone", "code": f"S-{i}", "name": f"Store {i}",
                                               "kind": "storage"}})
    return doc


def test_the_command_shows_a_progress_bar_for_a_large_file(floor_doc: Doc, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_floor", str(_write(tmp_path, _large_floor(floor_doc, 400))), stdout=io.StringIO())
    progress = capsys.readouterr().err
    assert "checking: 100%" in progress and "417/417" in progress
    assert "writing: 100%" in progress and "410/410" in progress
    assert Zone.objects.filter(kind="storage").count() == 401


def test_the_export_command_writes_a_file_the_import_command_reads(floor_doc: Doc, tmp_path: Path) -> None:
    call_command("import_floor", str(_write(tmp_path, floor_doc)), stdout=io.StringIO())
    target = tmp_path / "out.geojson"
    call_command("export_floor", "TST/A/L3", "-o", str(target), stderr=io.StringIO())
    assert _parse(json.loads(target.read_text())) == _parse(floor_doc)
    with pytest.raises(CommandError, match=r"no floor 'TST/A/L9'; known floors: \d+ = TST/A/L3"):
        call_command("export_floor", "TST/A/L9")


def test_the_command_attaches_a_plan_image_and_refuses_a_file_that_is_not_one(
    floor_doc: Doc, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    fake = tmp_path / "plan.png"
    fake.write_text("not an image")
    with pytest.raises(CommandError, match=r"plan\.png: the plan is not a readable image"):
        call_command("import_floor", str(_write(tmp_path, floor_doc)), "--plan-image", str(fake))
    assert Floor.objects.count() == 0  # checked before anything was written
    real = tmp_path / "real.jpg"
    Image.new("RGB", (600, 400), "white").save(real, format="JPEG")
    call_command("import_floor", str(_write(tmp_path, floor_doc)), "--plan-image", str(real), stdout=io.StringIO())
    floor = Floor.objects.get(code="L3")
    assert (floor.plan_image.name or "").endswith("TST-A-L3.jpg")
    assert (floor.plan_image.width, floor.plan_image.height) == (600, 400)


def test_it_keeps_the_hardware_ids_devices_report_themselves_by(floor_doc: Doc) -> None:
    floor_import(floor_file=_parse(floor_doc))
    assert dict(Reader.objects.exclude(hardware_id="").values_list("code", "hardware_id")) == {
        "UWB-1": "0CA8", "BLE-101": "AC233FC00101"}


def test_the_command_draws_and_calibrates_a_plan_for_a_floor_that_has_none(
    floor_doc: Doc, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    del floor_doc["hospital_iot"]["floor"]["control_points"]
    out = io.StringIO()
    call_command("import_floor", str(_write(tmp_path, floor_doc)), "--render-plan", stdout=out)
    floor = Floor.objects.get(code="L3")
    assert "plan image rendered" in out.getvalue()
    assert floor.plan_image and floor.affine is not None and floor.plan_residual_m == pytest.approx(0, abs=1e-9)
    with Image.open(floor.plan_image.path) as plan:  # the middle of the corridor is drawn where the affine says
        px, py = floor.affine.metres_to_pixels(np.array([[13.0, 9.5]]))[0]
        assert plan.getpixel((round(px), round(py))) != (255, 255, 255)
