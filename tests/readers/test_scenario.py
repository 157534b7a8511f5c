"""The movement scenario and radio model the emulators share (pure, seeded)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from shapely.geometry import Point, Polygon, shape

from floorplans.demo.layout import demo_floors
from readers.emulators.floorgraph import FloorGraph, walls_crossed
from readers.emulators.radio import RadioWorld, Receiver, receivers_of
from readers.emulators.scenario import STEP_S, Scenario, ScenarioTag, TagPosition


@cache
def graphs() -> dict[str, FloorGraph]:
    return {doc["hospital_iot"]["floor"]["code"]: FloorGraph(doc) for doc in demo_floors()}


@cache
def receivers() -> list[Receiver]:
    return [rx for doc in demo_floors() for rx in receivers_of(doc)]


def _tags() -> list[ScenarioTag]:
    staff = [ScenarioTag(f"AC233F{i:06X}", "ble", "staff", "L4") for i in range(12)]
    pumps = [ScenarioTag(f"AC233FA{i:05X}", "ble", "asset", "L4", "4W-EQUIP") for i in range(6)]
    infants = [ScenarioTag(f"{i:04X}", "uwb", "infant", "L2", "2E-NURSERY") for i in range(6)]
    return staff + pumps + infants


@pytest.mark.parametrize("floor", ["L0", "L2", "L4"])
def test_it_can_route_between_any_two_walkable_zones(floor: str) -> None:
    graph = graphs()[floor]
    codes = sorted(graph.zones)
    for goal in codes:
        path = graph.route(codes[0], goal)
        assert (path == []) == (goal == codes[0])


def test_people_walk_through_doorways_never_through_walls() -> None:
    scenario = Scenario(graphs(), _tags(), seed=3, start_s=0.0)
    previous = {p.tag_id: p for p in scenario.positions(0.0)}
    moved_m = 0.0
    for step in range(1, 3000):  # 10 minutes
        now = {p.tag_id: p for p in scenario.positions(step * STEP_S)}
        for tag_id, p in now.items():
            a, b = previous[tag_id], p
            if (a.x_m, a.y_m) != (b.x_m, b.y_m):
                moved_m += float(np.hypot(b.x_m - a.x_m, b.y_m - a.y_m))
                crossed = walls_crossed(graphs()[p.floor_code], np.array([[a.x_m, a.y_m]]), np.array([[b.x_m, b.y_m]]))
                assert crossed[0] == 0, f"{tag_id} went through a wall near ({b.x_m:.1f}, {b.y_m:.1f})"
        previous = now
    assert moved_m > 500  # people did walk (12 staff, 10 minutes)
    walking = {w.tag.tag_id for w in scenario.walkers if w.waypoints}
    for p in previous.values():
        zones = graphs()[p.floor_code].zones
        assert any(zone.buffer(0.05).covers(Point(p.x_m, p.y_m)) for zone in zones.values())
        if p.tag_id not in walking:  # arrived: standing in the zone it says
            assert zones[p.zone].covers(Point(p.x_m, p.y_m))


def test_the_same_seed_gives_the_same_day() -> None:
    first = Scenario(graphs(), _tags(), seed=9, start_s=0.0).positions(300.0)
    second = Scenario(graphs(), _tags(), seed=9, start_s=0.0).positions(300.0)
    other = Scenario(graphs(), _tags(), seed=10, start_s=0.0).positions(300.0)
    assert first == second and first != other


def _at(tag_id: str, tech: str, floor: str, x_m: float, y_m: float) -> TagPosition:
    return TagPosition(tag_id, tech, floor, x_m, y_m, "")


def test_ble_signal_falls_with_distance_and_walls_and_stays_on_its_floor() -> None:
    world = RadioWorld(graphs(), receivers(), seed=1)
    gateway = next(r for r in receivers() if r.kind == "ble_gateway" and r.floor_code == "L4")
    near = [_at("AC233F000001", "ble", "L4", gateway.xyz_m[0] + 0.5, gateway.xyz_m[1])]
    rssi_near = [s.rssi_dbm for t in range(50) for s in world.ble(near, float(t)) if s.gateway_code == gateway.code]
    assert len(rssi_near) == 50 and -70 < float(np.mean(rssi_near)) < -55
    far = [_at("AC233F000001", "ble", "L4", gateway.xyz_m[0] + 18.0, gateway.xyz_m[1])]
    rssi_far = [s.rssi_dbm for t in range(50) for s in world.ble(far, float(t)) if s.gateway_code == gateway.code]
    assert not rssi_far or float(np.mean(rssi_far)) < float(np.mean(rssi_near)) - 20
    heard_by = {s.gateway_code for s in world.ble(near, 0.0)}
    assert all(code.startswith("BLE-4W") or code.startswith("BLE-L4") for code in heard_by), heard_by


def test_uwb_ranges_are_the_distance_in_line_of_sight() -> None:
    world = RadioWorld(graphs(), receivers(), seed=1)
    anchor = next(r for r in receivers() if r.kind == "uwb_anchor")
    tag = [_at("1A2B", "uwb", anchor.floor_code, anchor.xyz_m[0] + 2.0, anchor.xyz_m[1])]
    true_m = float(np.sqrt(2.0**2 + (anchor.xyz_m[2] - 1.2) ** 2))
    ranges = [r.range_m for t in range(40) for r in world.uwb(tag, float(t)) if r.anchor_code == anchor.code]
    assert len(ranges) == 40 and abs(float(np.mean(ranges)) - true_m) < 0.05 and np.std(ranges) < 0.1


def test_an_rfid_antenna_reads_what_is_under_it_and_nothing_far_away() -> None:
    world = RadioWorld(graphs(), receivers(), seed=1)
    antenna = next(r for r in receivers() if r.kind == "llrp_reader")
    under = [_at("3008" + "0" * 20, "rfid", antenna.floor_code, antenna.xyz_m[0], antenna.xyz_m[1])]
    reads = [s for t in range(20) for s in world.rfid(antenna.code, under, float(t)) if s.antenna == antenna.antenna]
    assert len(reads) >= 15 and all(-60 < s.rssi_dbm < -30 and 0 <= (s.phase_rad or 0) < 2 * np.pi for s in reads)
    away = [_at("3008" + "0" * 20, "rfid", antenna.floor_code, antenna.xyz_m[0] + 10, antenna.xyz_m[1])]
    assert not [s for t in range(20) for s in world.rfid(antenna.code, away, float(t)) if s.antenna == antenna.antenna]


def _bed(floor: str, code: str) -> Polygon:
    doc = next(d for d in demo_floors() if d["hospital_iot"]["floor"]["code"] == floor)
    return shape(next(f["geometry"] for f in doc["features"] if f["properties"].get("code") == code))


def test_it_keeps_a_bag_at_its_bed_while_everyone_else_walks() -> None:
    bed = _bed("L4", "4W-412-A")
    spot = (bed.centroid.x, bed.centroid.y)
    bag = ScenarioTag("AC233FD00001", "ble", "bag", "L4", "4W-412-A", spot)
    scenario = Scenario(graphs(), [*_tags(), bag], seed=3, start_s=0.0)
    for step in range(0, 3000, 50):  # 10 minutes
        where = next(p for p in scenario.positions(step * STEP_S) if p.tag_id == bag.tag_id)
        assert (where.x_m, where.y_m, where.zone) == (*spot, "4W-412-A")
        assert bed.contains(Point(where.x_m, where.y_m))


def test_a_bag_without_a_spot_stays_in_its_beds_room() -> None:
    bag = ScenarioTag("AC233FD00002", "ble", "bag", "L4", "4W-414-B")
    scenario = Scenario(graphs(), [bag], seed=3, start_s=0.0)
    first = scenario.positions(0.0)[0]
    assert graphs()["L4"].zones["4W-414"].contains(Point(first.x_m, first.y_m)) and first.zone == "4W-414-B"
    assert scenario.positions(600.0)[0] == first


def test_adding_bags_leaves_everyone_elses_walk_unchanged() -> None:
    bags = [ScenarioTag(f"AC233FD{i:05X}", "ble", "bag", "L4", "4W-405-B") for i in range(3)]
    alone = Scenario(graphs(), _tags(), seed=9, start_s=0.0).positions(300.0)
    mixed = Scenario(graphs(), [bags[0], *_tags()[:5], bags[1], *_tags()[5:], bags[2]], seed=9, start_s=0.0)
    assert [p for p in mixed.positions(300.0) if not p.tag_id.startswith("AC233FD")] == alone
