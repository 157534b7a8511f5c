"""Checking a floor GeoJSON file (pure): every kind of bad file names the feature and the reason."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from floorplans.floorfile import FloorFileError, parse_floor_file
from floorplans.floorfile.parse import load_floor_document
from floorplans.floorfile.specs import summary

ZONE_KINDS = frozenset({"ward", "room", "bed", "corridor", "storage", "dirty_utility", "stairs"})
READER_KINDS = frozenset({"llrp_reader", "ble_gateway", "uwb_anchor"})

Doc = dict[str, Any]


def parse(doc: Any) -> Any:
    return parse_floor_file(doc, zone_kinds=ZONE_KINDS, reader_kinds=READER_KINDS)


def feature(doc: Doc, code: str) -> Doc:
    return next(f for f in doc["features"] if f["properties"].get("code") == code)


def test_it_parses_a_good_file(floor_doc: Doc) -> None:
    floor = parse(floor_doc)
    assert floor.header.code == "L3" and floor.header.level == 3
    assert [z.code for z in floor.zones if z.kind == "bed"] == ["3N-101-A", "3N-102-A", "3N-102-B"]
    exit_door = next(d for d in floor.doors if d.is_exit)
    assert (exit_door.code, exit_door.lock_controller) == ("X-1", "maglock-3N")
    rfid = next(r for r in floor.readers if r.kind == "llrp_reader")
    assert [(a.port, a.side, a.door) for a in rfid.antennas] == [(1, "inside", "X-1"), (2, "outside", "X-1")]
    assert summary(floor) == {"zones": {"ward": 1, "corridor": 1, "room": 2, "bed": 3, "storage": 1,
                                        "dirty_utility": 1, "stairs": 1},
                              "doors": 4, "exits": 1,
                              "readers": {"llrp_reader": 1, "ble_gateway": 1, "uwb_anchor": 1}}


def _bowtie(doc: Doc) -> None:
    feature(doc, "3N-ST")["geometry"]["coordinates"] = [[[0, 3], [6, 8], [6, 3], [0, 8], [0, 3]]]


def _unknown_kind(doc: Doc) -> None:
    feature(doc, "3N-DU")["properties"]["kind"] = "helipad"


def _overlapping_beds(doc: Doc) -> None:
    feature(doc, "3N-102-B")["geometry"]["coordinates"] = [[[6.5, 12], [7.5, 12], [7.5, 14.2], [6.5, 14.2], [6.5, 12]]]


def _missing_name(doc: Doc) -> None:
    del feature(doc, "3N-102")["properties"]["name"]


def _unknown_parent(doc: Doc) -> None:
    feature(doc, "3N-101-A")["properties"]["parent"] = "3N-999"


def _bed_outside_its_room(doc: Doc) -> None:
    feature(doc, "3N-101-A")["properties"]["parent"] = "3N-102"


def _outside_floor(doc: Doc) -> None:
    feature(doc, "ST-1")["geometry"]["coordinates"] = [[[26, 8], [35, 8], [35, 16], [26, 16], [26, 8]]]


def _duplicate_code(doc: Doc) -> None:
    feature(doc, "3N-102")["properties"]["code"] = "3N-101"


def _door_off_its_wall(doc: Doc) -> None:
    feature(doc, "D-101")["geometry"]["coordinates"] = [[2, 5], [3, 5]]


def _door_to_unknown_zone(doc: Doc) -> None:
    feature(doc, "D-102")["properties"]["to_zone"] = "3N-404"


def _wrong_geometry_type(doc: Doc) -> None:
    feature(doc, "3N-C")["geometry"] = {"type": "Point", "coordinates": [1, 9]}


def _not_a_number(doc: Doc) -> None:
    feature(doc, "BLE-101")["properties"]["height_m"] = "tall"


def _non_finite(doc: Doc) -> None:
    feature(doc, "UWB-1")["geometry"]["coordinates"] = [math.nan, 9.5]


def _garbled_coordinates(doc: Doc) -> None:
    feature(doc, "3N-C")["geometry"]["coordinates"] = [[["a", "b"]]]


def _antenna_to_unknown_door(doc: Doc) -> None:
    feature(doc, "RFID-X1")["properties"]["antennas"][1]["door"] = "X-9"


def _antenna_bad_side(doc: Doc) -> None:
    feature(doc, "RFID-X1")["properties"]["antennas"][0]["side"] = "left"


def _unknown_reader_kind(doc: Doc) -> None:
    feature(doc, "UWB-1")["properties"]["kind"] = "wifi_ap"


def _ward_of_non_ward(doc: Doc) -> None:
    feature(doc, "3N-DU")["properties"]["ward"] = "3N-C"


def _not_a_feature(doc: Doc) -> None:
    doc["features"][2] = ["not", "a", "feature"]


def _unknown_feature_type(doc: Doc) -> None:
    feature(doc, "D-ST")["properties"]["feature"] = "window"


BAD_FEATURES: list[tuple[Callable[[Doc], None], int, str]] = [
    (_bowtie, 7, "invalid geometry: Self-intersection"),
    (_unknown_kind, 8, "unknown zone kind 'helipad'"),
    (_overlapping_beds, 6, "bed overlaps bed '3N-102-A' (feature 5) by 1.10 m²"),
    (_missing_name, 4, "missing field 'name'"),
    (_unknown_parent, 3, "unknown parent zone '3N-999'"),
    (_bed_outside_its_room, 3, "lies outside its parent zone '3N-102'"),
    (_outside_floor, 9, "lies outside the floor extent"),
    (_duplicate_code, 4, "code repeats feature 2"),
    (_door_off_its_wall, 10, "is 3.00 m from zone '3N-C'; a door must lie on its wall"),
    (_door_to_unknown_zone, 11, "unknown zone '3N-404'"),
    (_wrong_geometry_type, 1, "geometry must be a Polygon, got Point"),
    (_not_a_number, 15, "'height_m' must be a finite number, got 'tall'"),
    (_non_finite, 16, "empty or non-finite Point"),
    (_garbled_coordinates, 1, "invalid Polygon coordinates"),
    (_antenna_to_unknown_door, 14, "antenna 2: unknown door 'X-9'"),
    (_antenna_bad_side, 14, "antennas[0].side must be 'inside' or 'outside'"),
    (_unknown_reader_kind, 16, "unknown reader kind 'wifi_ap'"),
    (_ward_of_non_ward, 8, "ward '3N-C' is not a zone of kind ward"),
    (_not_a_feature, 2, "not a GeoJSON Feature"),
    (_unknown_feature_type, 12, "unknown feature type 'window'"),
]


@pytest.mark.parametrize(("break_it", "index", "reason"), BAD_FEATURES, ids=[b[0].__name__[1:] for b in BAD_FEATURES])
def test_it_rejects_a_bad_feature_naming_its_index_and_reason(
    floor_doc: Doc, break_it: Callable[[Doc], None], index: int, reason: str
) -> None:
    break_it(floor_doc)
    with pytest.raises(FloorFileError) as caught:
        parse(floor_doc)
    matching = [e for e in caught.value.errors if e.index == index and reason in e.reason]
    assert matching, f"expected feature {index}: {reason!r}; got {[str(e) for e in caught.value.errors]}"
    assert f"feature {index}" in str(caught.value)


@pytest.mark.parametrize(("break_it", "reason"), [
    (lambda d: d.pop("hospital_iot"), "missing the 'hospital_iot' object"),
    (lambda d: d["hospital_iot"]["floor"].pop("width_m"), "missing field 'floor.width_m'"),
    (lambda d: d["hospital_iot"].update(format=7), "unsupported format 7"),
    (lambda d: d["hospital_iot"]["floor"].update(level="three"), "'floor.level' must be a whole number"),
    (lambda d: d["hospital_iot"]["floor"]["control_points"].pop(), "need at least 2 control points"),
    (lambda d: d["hospital_iot"]["floor"]["geo_reference"].update(origin_lat=123.0), "outside -90..90"),
    (lambda d: d.update(features={}), "'features' must be a list"),
])
def test_it_rejects_a_bad_header(floor_doc: Doc, break_it: Callable[[Doc], Any], reason: str) -> None:
    break_it(floor_doc)
    with pytest.raises(FloorFileError) as caught:
        parse(floor_doc)
    assert any(e.index is None and reason in e.reason for e in caught.value.errors), str(caught.value)


def test_it_reports_every_problem_at_once(floor_doc: Doc) -> None:
    _unknown_kind(floor_doc)
    _door_to_unknown_zone(floor_doc)
    _not_a_number(floor_doc)
    with pytest.raises(FloorFileError) as caught:
        parse(floor_doc)
    assert [e.index for e in caught.value.errors] == [8, 11, 15]


@pytest.mark.parametrize("document", [[], "text", {"type": "Feature"}, None])
def test_it_rejects_what_is_not_a_feature_collection(document: Any) -> None:
    with pytest.raises(FloorFileError, match="not a GeoJSON FeatureCollection"):
        parse(document)


def test_it_names_the_position_of_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [}')
    with pytest.raises(FloorFileError, match=r"broken.geojson is not valid JSON: .*line 2"):
        load_floor_document(path)


def test_it_says_when_the_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(FloorFileError, match=r"cannot read missing\.geojson"):
        load_floor_document(tmp_path / "missing.geojson")
