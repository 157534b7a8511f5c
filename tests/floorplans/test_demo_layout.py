"""The generated demo hospital (pure, no database): the floor file rules, and what the demo promises."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import LinearRing, Point, Polygon, box, shape
from shapely.ops import unary_union

from floorplans.demo.devices import BLE_CALIBRATION
from floorplans.demo.layout import demo_floors
from floorplans.drawing.mapping import metres_to_px

Doc = dict[str, Any]
Props = dict[str, Any]

ZONE_KINDS = frozenset({
    "ward", "room", "bay", "bed", "corridor", "nurse_station", "storage", "clean_utility", "dirty_utility", "exit",
    "stairs", "elevator_lobby", "elevator", "nursery", "medication_room", "treatment_room", "office", "staff_room",
    "toilet", "waiting", "lobby", "entrance", "loading_dock", "pharmacy", "workshop", "other",
})
READER_KINDS = frozenset({"llrp_reader", "ble_gateway", "uwb_anchor"})
GEOMETRY_OF = {"zone": "Polygon", "door": "LineString", "reader": "Point"}
OVERLAP_M2 = 1e-6
ON_WALL_M = 0.05
FLOOR_CODES = ["L0", "L2", "L4"]
OFF_WARD_KINDS = ("stairs", "elevator_lobby", "elevator", "exit")


@pytest.fixture(scope="module")
def floors() -> dict[str, Doc]:
    return {doc["hospital_iot"]["floor"]["code"]: doc for doc in demo_floors()}


def props_of(doc: Doc, feature: str) -> list[Props]:
    return [f["properties"] for f in doc["features"] if f["properties"]["feature"] == feature]


def zones_of(doc: Doc) -> dict[str, tuple[Props, Polygon]]:
    zones = (f for f in doc["features"] if f["properties"]["feature"] == "zone")
    return {f["properties"]["code"]: (f["properties"], Polygon(rings[0], rings[1:]))
            for f in zones for rings in [f["geometry"]["coordinates"]]}


def readers_of(doc: Doc, kind: str) -> list[tuple[Props, Point]]:
    return [(f["properties"], Point(f["geometry"]["coordinates"])) for f in doc["features"]
            if f["properties"]["feature"] == "reader" and f["properties"]["kind"] == kind]


def extent_of(doc: Doc) -> Polygon:
    floor = doc["hospital_iot"]["floor"]
    return box(0.0, 0.0, floor["width_m"], floor["height_m"])


def test_it_builds_three_floors_of_one_building() -> None:
    docs = demo_floors()
    headers = [doc["hospital_iot"] for doc in docs]
    assert [(h["floor"]["code"], h["floor"]["level"]) for h in headers] == [("L0", 0), ("L2", 2), ("L4", 4)]
    assert {(h["site"]["code"], h["site"]["name"], h["building"]["code"], h["building"]["name"]) for h in headers} == {
        ("RGH", "Riverside General Hospital", "MAIN", "Main Building")}
    assert [h["floor"]["name"] for h in headers] == [
        "Ground floor - Entrance, Pharmacy, Biomedical Engineering", "2 East - Maternity", "4 West - Medical/Surgical"]
    assert all(doc["type"] == "FeatureCollection" and h["format"] == 1 for doc, h in zip(docs, headers, strict=True))


def test_it_builds_the_same_floors_every_time() -> None:
    assert json.dumps(demo_floors(), sort_keys=True) == json.dumps(demo_floors(), sort_keys=True)


def test_it_imports_without_django() -> None:
    script = ("import sys, floorplans.demo.layout, floorplans.drawing.render; "
              "print(any(m.split('.')[0] == 'django' for m in sys.modules))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_writes_features_of_known_types_and_kinds(floors: dict[str, Doc], code: str) -> None:
    doc = floors[code]
    for f in doc["features"]:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] == GEOMETRY_OF[f["properties"]["feature"]], f["properties"]["code"]
    assert {p["kind"] for p in props_of(doc, "zone")} <= ZONE_KINDS
    assert {p["kind"] for p in props_of(doc, "reader")} <= READER_KINDS
    assert all(p["code"] and p["name"] for kind in GEOMETRY_OF for p in props_of(doc, kind))


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_writes_valid_rounded_counter_clockwise_polygons_on_the_floor(floors: dict[str, Doc], code: str) -> None:
    extent = extent_of(floors[code])
    for f in floors[code]["features"]:
        if f["geometry"]["type"] != "Polygon":
            continue
        ring = f["geometry"]["coordinates"][0]
        polygon = shape(f["geometry"])
        name = f["properties"]["code"]
        assert polygon.is_valid and not polygon.is_empty and polygon.area > 0, name
        assert extent.covers(polygon), name
        assert ring[0] == ring[-1] and LinearRing(ring).is_ccw, name
        assert all(abs(v * 100 - round(v * 100)) < 1e-6 for point in ring for v in point), name


@pytest.mark.parametrize("code", FLOOR_CODES)
@pytest.mark.parametrize("feature", ["zone", "door", "reader"])
def test_it_keeps_codes_unique_per_feature_type(floors: dict[str, Doc], code: str, feature: str) -> None:
    codes = [p["code"] for p in props_of(floors[code], feature)]
    assert codes and len(codes) == len(set(codes))


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_resolves_parents_and_wards(floors: dict[str, Doc], code: str) -> None:
    zones = zones_of(floors[code])
    for zone_code, (props, polygon) in zones.items():
        if "parent" in props:
            assert props["parent"] in zones and props["parent"] != zone_code, zone_code
            assert zones[props["parent"]][1].buffer(0.05).covers(polygon), zone_code
        if "ward" in props:
            assert props["kind"] != "ward" and zones[props["ward"]][0]["kind"] == "ward", zone_code


@pytest.mark.parametrize("code", ["L2", "L4"])
def test_it_puts_ward_spaces_in_the_ward_and_stairs_and_lifts_outside(floors: dict[str, Doc], code: str) -> None:
    zones = zones_of(floors[code])
    wards = [(c, polygon) for c, (props, polygon) in zones.items() if props["kind"] == "ward"]
    assert len(wards) == 1
    ward_code, ward_polygon = wards[0]
    for zone_code, (props, polygon) in zones.items():
        if props["kind"] in OFF_WARD_KINDS:
            assert "ward" not in props and "parent" not in props, zone_code
            assert ward_polygon.intersection(polygon).area < OVERLAP_M2, zone_code
        elif props["kind"] != "ward":
            assert props["ward"] == ward_code, zone_code
            expected_parent = props["parent"] if props["kind"] == "bed" else ward_code
            assert props["parent"] == expected_parent, zone_code


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_never_overlaps_beds_and_keeps_each_in_its_room(floors: dict[str, Doc], code: str) -> None:
    zones = zones_of(floors[code])
    beds = [(c, props, polygon) for c, (props, polygon) in zones.items() if props["kind"] == "bed"]
    for i, (bed_code, props, polygon) in enumerate(beds):
        room_props, room = zones[props["parent"]]
        assert room_props["kind"] in ("room", "bay", "nursery") and room.covers(polygon), bed_code
        for other_code, _, other in beds[i + 1:]:
            assert polygon.intersection(other).area <= OVERLAP_M2, (bed_code, other_code)


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_puts_every_door_on_the_walls_of_both_its_zones(floors: dict[str, Doc], code: str) -> None:
    zones = zones_of(floors[code])
    doors = [f for f in floors[code]["features"] if f["properties"]["feature"] == "door"]
    assert doors
    for f in doors:
        props, ends = f["properties"], [Point(xy) for xy in f["geometry"]["coordinates"]]
        assert props["from_zone"] != props["to_zone"], props["code"]
        for side in (props["from_zone"], props["to_zone"]):
            boundary = zones[side][1].boundary
            assert all(boundary.distance(end) <= ON_WALL_M for end in ends), (props["code"], side)


@pytest.mark.parametrize("code", ["L2", "L4"])
def test_it_gives_every_patient_room_a_corridor_door_and_a_toilet_door(floors: dict[str, Doc], code: str) -> None:
    zones = zones_of(floors[code])
    doors = props_of(floors[code], "door")
    rooms = [c for c, (props, _) in zones.items() if props["kind"] in ("room", "bay")]
    for room in rooms:
        into = [zones[d["from_zone"]][0]["kind"] for d in doors if d["to_zone"] == room]
        out_of = [zones[d["to_zone"]][0]["kind"] for d in doors if d["from_zone"] == room]
        assert into == ["corridor"] and out_of == ["toilet"], room


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_keeps_readers_and_antennas_on_the_floor(floors: dict[str, Doc], code: str) -> None:
    extent = extent_of(floors[code])
    for f in (f for f in floors[code]["features"] if f["properties"]["feature"] == "reader"):
        assert extent.covers(shape(f["geometry"])), f["properties"]["code"]
        for antenna in f["properties"].get("antennas", []):
            assert extent.covers(Point(antenna["x_m"], antenna["y_m"])), (f["properties"]["code"], antenna["port"])


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_points_antennas_at_real_doors_from_the_side_they_name(floors: dict[str, Doc], code: str) -> None:
    zones = zones_of(floors[code])
    doors = {d["code"]: d for d in props_of(floors[code], "door")}
    antennas = [a for props, _ in readers_of(floors[code], "llrp_reader") for a in props["antennas"]]
    assert antennas
    for antenna in antennas:
        door = doors[antenna["door"]]
        assert antenna["zone"] == (door["from_zone"] if antenna["side"] == "inside" else door["to_zone"])
        assert zones[antenna["zone"]][1].covers(Point(antenna["x_m"], antenna["y_m"])), antenna


@pytest.mark.parametrize(("code", "min_rooms", "min_beds", "beds_per_room"), [
    ("L4", 14, 18, {1, 2}),
    ("L2", 10, 10, {1}),
])
def test_it_has_the_patient_rooms_and_beds_the_demo_promises(
    floors: dict[str, Doc], code: str, min_rooms: int, min_beds: int, beds_per_room: set[int],
) -> None:
    zones = zones_of(floors[code])
    rooms = [c for c, (props, _) in zones.items() if props["kind"] == "room"]
    beds_in = {room: sum(1 for props, _ in zones.values() if props.get("parent") == room) for room in rooms}
    beds = [p for p, _ in zones.values() if p["kind"] == "bed" and zones[p["parent"]][0]["kind"] != "nursery"]
    assert len(rooms) >= min_rooms
    assert len(beds) >= min_beds
    assert set(beds_in.values()) == beds_per_room
    assert all(re.fullmatch(rf"{code[1]}[EW]-{code[1]}\d\d", room) for room in rooms)


def test_it_has_double_rooms_and_a_four_bed_bay_on_4_west(floors: dict[str, Doc]) -> None:
    zones = zones_of(floors["L4"])
    beds = [p for p, _ in zones.values() if p["kind"] == "bed"]
    rooms = [c for c, (p, _) in zones.items() if p["kind"] in ("room", "bay")]
    per_parent = {room: sum(1 for bed in beds if bed["parent"] == room) for room in rooms}
    assert sum(1 for c, n in per_parent.items() if n == 2 and zones[c][0]["kind"] == "room") >= 2
    assert [n for c, n in per_parent.items() if zones[c][0]["kind"] == "bay"] == [4]
    assert {"4W-401-A": "Bed 401A", "4W-405-B": "Bed 405B"}.items() <= {b["code"]: b["name"] for b in beds}.items()


@pytest.mark.parametrize(("code", "required"), [
    ("L0", {"entrance": 1, "lobby": 1, "waiting": 1, "loading_dock": 1, "pharmacy": 1, "workshop": 1, "storage": 1,
            "clean_utility": 1, "dirty_utility": 1, "corridor": 1, "elevator_lobby": 1, "stairs": 2}),
    ("L2", {"ward": 1, "nursery": 1, "nurse_station": 1, "medication_room": 1, "clean_utility": 1,
            "dirty_utility": 1, "staff_room": 1, "corridor": 1, "elevator_lobby": 1, "stairs": 2}),
    ("L4", {"ward": 1, "bay": 1, "nurse_station": 1, "medication_room": 1, "treatment_room": 1, "clean_utility": 1,
            "dirty_utility": 1, "storage": 1, "staff_room": 1, "corridor": 1, "elevator_lobby": 1, "stairs": 2}),
])
def test_it_has_the_spaces_of_the_floor(floors: dict[str, Doc], code: str, required: dict[str, int]) -> None:
    counts = Counter(p["kind"] for p in props_of(floors[code], "zone"))
    assert {kind: counts[kind] for kind, n in required.items() if counts[kind] < n} == {}


@pytest.mark.parametrize(("code", "exits", "locked"), [("L0", 2, False), ("L2", 3, True), ("L4", 3, False)])
def test_it_watches_every_exit_door_with_an_inside_and_an_outside_antenna(
    floors: dict[str, Doc], code: str, exits: int, locked: bool,
) -> None:
    zones = zones_of(floors[code])
    exit_doors = [d for d in props_of(floors[code], "door") if d["is_exit"]]
    antennas = [a for props, _ in readers_of(floors[code], "llrp_reader") for a in props["antennas"]]
    assert len(exit_doors) == exits
    for door in exit_doors:
        assert sorted(a["side"] for a in antennas if a["door"] == door["code"]) == ["inside", "outside"]
        assert "ward" not in zones[door["to_zone"]][0]
        if locked:
            assert door["lock_controller"].startswith("maglock-2E-"), door["code"]
    if locked:
        assert {zones[d["to_zone"]][0]["kind"] for d in exit_doors} == {"stairs", "elevator_lobby"}


@pytest.mark.parametrize(("code", "store_doors"), [
    ("L0", {"D-L0-STORE", "D-L0-DOCK"}),
    ("L4", {"D-4W-CU", "D-4W-DU", "D-4W-EQUIP"}),
])
def test_it_watches_the_store_doors_with_one_reader(floors: dict[str, Doc], code: str, store_doors: set[str]) -> None:
    exit_doors = {d["code"] for d in props_of(floors[code], "door") if d["is_exit"]}
    store_readers = [props for props, _ in readers_of(floors[code], "llrp_reader")
                     if not {a["door"] for a in props["antennas"]} & exit_doors]
    assert len(store_readers) == 1
    antennas = store_readers[0]["antennas"]
    assert {a["door"] for a in antennas} == store_doors and {a["side"] for a in antennas} == {"inside"}
    assert sorted(a["port"] for a in antennas) == list(range(1, len(store_doors) + 1))


def test_it_gives_llrp_readers_distinct_local_ports_from_15084(floors: dict[str, Doc]) -> None:
    readers = [props for doc in floors.values() for props, _ in readers_of(doc, "llrp_reader")]
    ports = sorted(int(props["address"].removeprefix("127.0.0.1:")) for props in readers)
    assert ports == list(range(15084, 15084 + len(readers)))
    assert {props["protocol"] for props in readers} == {"rfid_llrp"}


@pytest.mark.parametrize("code", ["L2", "L4"])
def test_it_hangs_one_ble_gateway_in_each_patient_room_and_support_room(floors: dict[str, Doc], code: str) -> None:
    zones = zones_of(floors[code])
    gateways = [point for _, point in readers_of(floors[code], "ble_gateway")]
    watched = ("room", "bay", "nursery", "nurse_station", "clean_utility", "dirty_utility", "storage")
    for zone_code, (props, polygon) in zones.items():
        if props["kind"] in watched:
            assert sum(1 for point in gateways if polygon.contains(point)) == 1, zone_code


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_spaces_corridor_gateways_at_most_ten_metres_apart(floors: dict[str, Doc], code: str) -> None:
    corridor = [polygon for props, polygon in zones_of(floors[code]).values() if props["kind"] == "corridor"]
    gateways = [point for _, point in readers_of(floors[code], "ble_gateway")]
    xs = sorted(point.x for point in gateways if any(c.contains(point) for c in corridor))
    min_x, _, max_x, _ = unary_union(corridor).bounds
    gaps = np.diff([min_x, *xs, max_x])
    assert len(xs) >= 6 and gaps.max() <= 10.0, gaps


def test_it_uses_both_ble_gateway_formats_with_their_topics(floors: dict[str, Doc]) -> None:
    gateways = [props for doc in floors.values() for props, _ in readers_of(doc, "ble_gateway")]
    by_protocol = {p["protocol"] for p in gateways}
    assert by_protocol == {"ble_espresense", "ble_minew"}
    for props in gateways:
        room = props["code"].removeprefix("BLE-").lower()
        espresense = props["protocol"] == "ble_espresense"
        assert props["topic"] == ("espresense/devices/#" if espresense else "gw/minew"), props["code"]
        # the identifier the gateway's payloads carry: its room (ESPresense) or its MAC (Minew)
        mac = re.fullmatch(r"AC233FC0[0-9A-F]{4}", props["hardware_id"])
        assert props["hardware_id"] == room if espresense else mac
        # what a survey of the emulated building finds, walls included (tests/readers/test_demo_ble_survey.py)
        assert props["calibration"] == BLE_CALIBRATION
        assert props["height_m"] == 2.7


def test_it_sees_every_maternity_corridor_and_nursery_point_from_three_uwb_anchors(floors: dict[str, Doc]) -> None:
    anchors = readers_of(floors["L2"], "uwb_anchor")
    xy = np.array([[point.x, point.y] for _, point in anchors])
    areas = [polygon for props, polygon in zones_of(floors["L2"]).values() if props["kind"] in ("corridor", "nursery")]
    blind, sampled = [], 0
    for polygon in areas:
        min_x, min_y, max_x, max_y = polygon.bounds
        for x in np.arange(min_x, max_x + 1e-9, 1.0):
            for y in np.arange(min_y, max_y + 1e-9, 1.0):
                if polygon.covers(Point(x, y)):
                    sampled += 1
                    if (np.hypot(xy[:, 0] - x, xy[:, 1] - y) <= 12.0).sum() < 3:
                        blind.append((x, y))
    assert len(areas) == 4 and sampled > 150 and blind == []
    assert all(p["protocol"] == "uwb_mqtt" and p["topic"] == "uwb/+/ranges" and p["height_m"] == 2.4
               and p["calibration"] == {"range_bias_m": 0.0} for p, _ in anchors)


def test_it_spaces_uwb_anchors_at_most_ten_metres_from_a_neighbour(floors: dict[str, Doc]) -> None:
    xy = np.array([[point.x, point.y] for _, point in readers_of(floors["L2"], "uwb_anchor")])
    distances = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(distances, np.inf)
    assert distances.min(axis=1).max() <= 10.0
    assert readers_of(floors["L4"], "uwb_anchor") == [] and readers_of(floors["L0"], "uwb_anchor") == []


def test_it_lines_up_stairs_and_lifts_on_every_floor(floors: dict[str, Doc]) -> None:
    def core(doc: Doc) -> list[str]:
        return sorted(polygon.wkt for props, polygon in zones_of(doc).values()
                      if props["kind"] in ("stairs", "elevator", "elevator_lobby"))

    assert len(core(floors["L0"])) == 5
    assert core(floors["L0"]) == core(floors["L2"]) == core(floors["L4"])


@pytest.mark.parametrize("code", FLOOR_CODES)
def test_it_writes_control_points_of_the_plan_mapping(floors: dict[str, Doc], code: str) -> None:
    floor = floors[code]["hospital_iot"]["floor"]
    points = floor["control_points"]
    assert len(points) >= 3
    assert floor["geo_reference"] == {"origin_lat": 51.5073, "origin_lon": -0.1657, "rotation_deg": 0.0}
    for point in points:
        assert (point["px"], point["py"]) == metres_to_px(point["x_m"], point["y_m"], height_m=floor["height_m"])
    assert {(p["x_m"], p["y_m"]) for p in points} >= {(0.0, 0.0), (floor["width_m"], floor["height_m"])}
