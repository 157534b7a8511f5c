"""FloorEngine on a synthetic floor with seeded reads: positions, zones, portals, silence, seeding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from shapely.ops import unary_union

from readers.reads import TagRead
from tracking.localization.floormap import FloorMap
from tracking.pipeline.engine import ZONE_METHOD, EngineConfig, FloorEngine, FloorStep
from tracking.pipeline.windows import BLE, RFID, UWB, ReadArrays, route

from .synthetic import (
    CORRIDOR,
    DOOR,
    FLOOR,
    ROOM_A,
    ROOM_B,
    T0_S,
    ble_reads,
    config,
    layout,
    rfid_read,
    uwb_reads,
)


def step(engine: FloorEngine, reads: list[TagRead]) -> FloorStep:
    directory = config(engine.layout, tags={read.tag_id: read.tech.value for read in reads})
    routed, drops = route(ReadArrays.from_reads(reads), directory)
    assert not drops
    return engine.step(routed[FLOOR])


def walk(engine: FloorEngine, tag: str, path: list[tuple[float, float]], rng: np.random.Generator,
         *, reads_of: Callable[..., list[TagRead]] = ble_reads, dt_s: float = 1.0) -> list[FloorStep]:
    return [step(engine, reads_of(tag, xy, T0_S + i * dt_s, rng)) for i, xy in enumerate(path)]


def moves(steps: list[FloorStep]) -> list[tuple[str, int, bool]]:
    return [(t, z, e) for s in steps for t, z, e in zip(s.moves.tag_id.tolist(), s.moves.zone_pk.tolist(),
                                                        s.moves.entered.tolist(), strict=True)]


def test_it_locates_a_standing_ble_tag_and_puts_it_in_its_room() -> None:
    rng = np.random.default_rng(1)
    steps = walk(FloorEngine(layout()), "ble-1", [(4.0, 5.0)] * 15, rng)
    last = steps[-1].fixes
    assert last.tag_id.tolist() == ["ble-1"]
    assert np.hypot(last.x_m[0] - 4.0, last.y_m[0] - 5.0) < 2.0
    assert last.zone_pk.tolist() == [ROOM_A]
    assert moves(steps) == [("ble-1", ROOM_A, True)]  # entered once, no flicker


def test_it_moves_a_walking_uwb_tag_from_room_a_to_the_corridor_once() -> None:
    rng = np.random.default_rng(2)
    path = [(5.0, 5.0)] * 10 + [(5.0, 5.0 + 0.5 * i) for i in range(1, 21)] + [(5.0, 15.0)] * 10
    steps = walk(FloorEngine(layout()), "uwb-1", path, rng, reads_of=uwb_reads, dt_s=0.5)
    last = steps[-1].fixes
    assert np.hypot(last.x_m[0] - 5.0, last.y_m[0] - 15.0) < 0.5
    assert last.accuracy_m[0] < 0.5
    assert moves(steps) == [("uwb-1", ROOM_A, True), ("uwb-1", ROOM_A, False), ("uwb-1", CORRIDOR, True)]


def test_it_gives_rfid_tags_the_zone_of_the_strongest_antenna_and_detects_the_portal() -> None:
    engine = FloorEngine(layout())
    first = step(engine, [rfid_read("rfid-1", 1, T0_S, -45.0), rfid_read("rfid-1", 3, T0_S, -75.0)])
    assert first.fixes.zone_pk.tolist() == [ROOM_A]
    assert first.fixes.method.tolist() == [ZONE_METHOD]
    assert (first.fixes.x_m[0], first.fixes.y_m[0]) == (9.0, 5.0)
    second = step(engine, [rfid_read("rfid-1", 2, T0_S + 1.0, -40.0)])
    assert second.crossings.door_pk.tolist() == [DOOR]
    assert second.crossings.inward.tolist() == [True]  # inside (from_zone side) -> outside (to_zone side)
    assert moves([first, second]) == [("rfid-1", ROOM_A, True), ("rfid-1", ROOM_A, False), ("rfid-1", ROOM_B, True)]


def test_it_lets_silent_tags_leave_the_floor_with_a_zone_exit_at_their_last_sighting() -> None:
    rng = np.random.default_rng(3)
    engine = FloorEngine(layout(), EngineConfig(silence_s={BLE: 60.0, UWB: 30.0, RFID: None}))
    walk(engine, "ble-1", [(4.0, 5.0)] * 5, rng)
    step(engine, [rfid_read("rfid-1", 3, T0_S)])
    assert not engine.age_out(T0_S + 30.0)
    gone = engine.age_out(T0_S + 70.0)
    assert gone.left.tolist() == ["ble-1"] and gone.silent.tolist() == [True]
    assert gone.left_at_s.tolist() == [pytest.approx(T0_S + 4.0, abs=0.01)]
    assert moves([gone]) == [("ble-1", ROOM_A, False)]
    assert not engine.age_out(T0_S + 10_000.0)  # RFID tags never go silent: their zone stands
    assert len(engine.trackers[BLE].tag_id) == 0


def test_it_continues_from_the_committed_zone_and_skips_replayed_reads() -> None:
    engine = FloorEngine(layout())
    engine.seed(tag_id=["rfid-1"], tech=[RFID], zone_pk=[ROOM_A], seen_at_s=[T0_S + 5.0])
    replayed = step(engine, [rfid_read("rfid-1", 2, T0_S + 4.0)])  # older than what is committed
    assert not replayed and engine.replayed == 1
    later = step(engine, [rfid_read("rfid-1", 3, T0_S + 6.0)])
    assert moves([later]) == [("rfid-1", ROOM_A, False), ("rfid-1", CORRIDOR, True)]


def test_it_forgets_a_tag_that_departed_to_another_floor() -> None:
    rng = np.random.default_rng(4)
    engine = FloorEngine(layout())
    walk(engine, "ble-1", [(15.0, 5.0)] * 5, rng)
    gone = engine.depart(["ble-1", "never-seen"])
    assert gone.left.tolist() == ["ble-1"] and gone.silent.tolist() == [False]
    assert moves([gone]) == [("ble-1", ROOM_B, False)]
    assert len(engine.trackers[BLE].tag_id) == 0 and "ble-1" not in engine.last_seen_s


def test_it_tracks_many_tags_in_one_batch() -> None:
    rng = np.random.default_rng(5)
    engine = FloorEngine(layout())
    truth = {f"ble-{i}": (float(x), float(y)) for i, (x, y) in enumerate(rng.uniform([2, 2], [28, 18], (40, 2)))}
    for i in range(10):
        last = step(engine, [r for tag, xy in truth.items() for r in ble_reads(tag, xy, T0_S + i, rng)])
    assert sorted(last.fixes.tag_id.tolist()) == sorted(truth)
    error = [np.hypot(x - truth[t][0], y - truth[t][1])
             for t, x, y in zip(last.fixes.tag_id.tolist(), last.fixes.x_m, last.fixes.y_m, strict=True)]
    assert np.median(error) < 2.5


def test_it_keeps_fixes_inside_the_floor_outline() -> None:
    plan = layout()
    footprint = FloorMap(outline=unary_union(plan.floor_map.zones), zones=plan.floor_map.zones,
                         doors=plan.floor_map.doors)  # no zone covers x 20-30, y 0-10
    steps = walk(FloorEngine(replace(plan, floor_map=footprint)), "uwb-1", [(23.0, 3.0)] * 5,
                 np.random.default_rng(6), reads_of=uwb_reads)
    fix = steps[-1].fixes
    assert fix.x_m[0] == pytest.approx(19.95, abs=0.02) and fix.y_m[0] == pytest.approx(3.0, abs=0.3)
    assert fix.zone_pk.tolist() == [ROOM_B]
