"""Scenario.carry and the control commands that drive the emulators (pure: no broker, no database)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
from shapely.geometry import Point

from floorplans.demo.layout import demo_floors
from readers.emulators.band import BandBook
from readers.emulators.control import ControlError, Place, apply_command, places_of
from readers.emulators.floorgraph import FloorGraph, walls_crossed
from readers.emulators.scenario import STEP_S, Scenario, ScenarioTag

INFANT = ScenarioTag("B001", "uwb", "infant", "L2", "2E-205")
NURSE = ScenarioTag("AC233F000001", "ble", "staff", "L2", "2E-NS")


@cache
def graphs() -> dict[str, FloorGraph]:
    return {doc["hospital_iot"]["floor"]["code"]: FloorGraph(doc) for doc in demo_floors()}


@cache
def places() -> dict[str, Place]:
    return places_of(demo_floors(), graphs())


def _where(scenario: Scenario, tag_id: str, t_s: float) -> Any:
    return next(p for p in scenario.positions(t_s) if p.tag_id == tag_id)


def test_it_carries_a_tag_along_the_points_at_its_speed_and_leaves_it_at_the_last() -> None:
    scenario = Scenario(graphs(), [INFANT, NURSE], seed=4, start_s=0.0)
    start = _where(scenario, "B001", 0.0)
    points = [(start.x_m, start.y_m + 1.0), (start.x_m + 1.5, start.y_m + 1.0)]  # 1 m north, then 1.5 m east
    scenario.carry("B001", "L2", points, 0.5)
    half = _where(scenario, "B001", 2.1)  # 1 m walked (ten 0.2 s steps): at the first point
    assert (half.x_m, half.y_m) == pytest.approx(points[0], abs=1e-6)
    on_leg = _where(scenario, "B001", 3.1)  # 0.5 m along the second leg
    assert (on_leg.x_m, on_leg.y_m) == pytest.approx((points[0][0] + 0.5, points[0][1]), abs=1e-6)
    for t_s in (5.1, 60.0, 3600.0):  # arrived at 5 s; stays there, in the room, for good
        here = _where(scenario, "B001", t_s)
        assert (here.x_m, here.y_m) == pytest.approx(points[1], abs=1e-6) and here.zone == "2E-205"


def test_a_carried_tag_leaves_everyone_elses_walk_unchanged() -> None:
    alone = Scenario(graphs(), [INFANT, NURSE], seed=4, start_s=0.0)
    carried = Scenario(graphs(), [INFANT, NURSE], seed=4, start_s=0.0)
    start = _where(carried, "B001", 0.0)
    carried.carry("B001", "L2", [(start.x_m, start.y_m + 0.5)], 0.7)
    assert _where(carried, NURSE.tag_id, 900.0) == _where(alone, NURSE.tag_id, 900.0)


def test_a_tag_carried_to_another_floor_starts_at_the_first_point() -> None:
    scenario = Scenario(graphs(), [INFANT], seed=4, start_s=0.0)
    corridor = graphs()["L4"].zones["4W-CORR-C"].representative_point()
    scenario.carry("B001", "L4", [(corridor.x, corridor.y)], 1.0)
    here = _where(scenario, "B001", STEP_S)
    assert (here.floor_code, here.x_m, here.y_m, here.zone) == ("L4", corridor.x, corridor.y, "4W-CORR-C")


@pytest.mark.parametrize(("tag", "floor", "points", "speed", "message"), [
    ("B999", "L2", [(1.0, 1.0)], 1.0, "no tag 'B999'"),
    ("B001", "L9", [(1.0, 1.0)], 1.0, "no floor 'L9'"),
    ("B001", "L2", [], 1.0, "at least one point"),
    ("B001", "L2", [(1.0, 1.0)], 0.0, "speed > 0"),
])
def test_it_refuses_a_carry_it_cannot_do(tag: str, floor: str, points: list[tuple[float, float]], speed: float,
                                         message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scenario(graphs(), [INFANT], seed=4, start_s=0.0).carry(tag, floor, points, speed)


def test_the_carry_command_walks_the_corridor_to_just_past_the_exit_door_never_through_a_wall() -> None:
    scenario = Scenario(graphs(), [INFANT], seed=4, start_s=0.0)
    said = apply_command({"cmd": "carry", "tag": "B001", "to": "D-L2-STAIR-A", "speed_m_s": 1.2}, bands=None,
                         scenario=scenario, places=places(), now_s=0.0)
    assert said.startswith("B001: carried from 2E-205 to D-L2-STAIR-A")
    graph, previous = graphs()["L2"], _where(scenario, "B001", 0.0)
    zones = []
    for step in range(1, 400):
        here = _where(scenario, "B001", step * STEP_S)
        a, b = np.array([[previous.x_m, previous.y_m]]), np.array([[here.x_m, here.y_m]])
        assert walls_crossed(graph, a, b)[0] == 0, f"through a wall near ({here.x_m:.1f}, {here.y_m:.1f})"
        zones.append(next((c for c, z in graph.zones.items() if z.covers(Point(here.x_m, here.y_m))), None))
        previous = here
    assert "2E-CORR-W" in zones and zones[-1] == "L2-STAIR-A" and here.zone == "L2-STAIR-A"
    door = places()["D-L2-STAIR-A"]
    assert (here.x_m, here.y_m) == pytest.approx(door.xy_m) and door.zone == "L2-STAIR-A"


def test_carrying_to_a_door_the_tag_is_already_beyond_brings_it_back_through() -> None:
    scenario = Scenario(graphs(), [INFANT], seed=4, start_s=0.0)
    apply_command({"cmd": "carry", "tag": "B001", "to": "D-L2-STAIR-A"}, bands=None, scenario=scenario,
                  places=places(), now_s=0.0)
    apply_command({"cmd": "carry", "tag": "B001", "to": "D-L2-STAIR-A"}, bands=None, scenario=scenario,
                  places=places(), now_s=120.0)
    assert _where(scenario, "B001", 240.0).zone == "2E-CORR-W"


def test_band_commands_reach_the_book() -> None:
    book = BandBook(["B001", "M001"], seed=1)
    scenario = Scenario(graphs(), [INFANT], seed=4, start_s=0.0)

    def run(command: dict[str, Any]) -> str:
        return apply_command(command, bands=book, scenario=scenario, places=places(), now_s=0.0)

    assert run({"cmd": "strap", "tag": "B001", "state": "cut"}) == "B001: strap cut"
    assert run({"cmd": "battery", "tag": "B001", "pct": 8}) == "B001: battery at 8 %"
    assert run({"cmd": "press", "tag": "M001"}) == "M001: button pressed"
    assert run({"cmd": "shield", "tag": "M001", "on": True}) == "M001: shielded (silent)"
    status = book.status("B001", 0.0)
    assert status is not None and status.tamper and status.battery_pct == 8 and book.shielded("M001")


@pytest.mark.parametrize(("command", "message"), [
    ({"cmd": "strap", "tag": "X1", "state": "cut"}, "'X1' is not a band tag"),
    ({"cmd": "strap", "tag": "B001", "state": "open"}, "strap B001: strap state 'open'"),
    ({"cmd": "battery", "tag": "B001", "pct": "low"}, "pct 'low' is not a number"),
    ({"cmd": "shield", "tag": "B001", "on": "yes"}, "on must be true or false"),
    ({"cmd": "carry", "tag": "B001", "to": "D-NOWHERE"}, "no door or zone 'D-NOWHERE'"),
    ({"cmd": "carry", "tag": "B404", "to": "D-L2-STAIR-A"}, "no tag 'B404'"),
    ({"cmd": "carry", "tag": "B001", "to": "D-L4-STAIR-A"}, "it is on floor L2, D-L4-STAIR-A on L4"),
    ({"cmd": "carry", "tag": "B001", "to": "2E-NUR", "speed_m_s": 30}, "speed 30 m/s"),
    ({"cmd": "dance", "tag": "B001"}, "unknown command 'dance'"),
    ({"cmd": "press"}, "press: no tag"),
    (["press", "B001"], "not a command"),
])
def test_it_answers_a_command_it_cannot_carry_out_with_a_sentence(command: Any, message: str) -> None:
    book = BandBook(["B001"], seed=1)
    scenario = Scenario(graphs(), [INFANT], seed=4, start_s=0.0)
    with pytest.raises(ControlError, match=message):
        apply_command(command, bands=book, scenario=scenario, places=places(), now_s=0.0)
