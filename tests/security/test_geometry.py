"""Exit classification and ward containment on the demo's maternity floor (L2, built by floorplans.demo: the
same document `load_demo` imports), and on small made-up doors for the cases the demo does not have. Pure:
no database, no Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import Polygon, box, shape

import security.geometry
from floorplans.demo.layout import demo_floors
from security.geometry import ExitDoor, ExitLevel, FloorExits, FloorGeometry, pair_distances_m

N, APPROACH, AT_EXIT, THROUGH = ExitLevel.NONE, ExitLevel.APPROACH, ExitLevel.AT_EXIT, ExitLevel.THROUGH


def _l2() -> tuple[FloorExits, dict[str, Polygon], list[str]]:
    doc = next(d for d in demo_floors() if d["hospital_iot"]["floor"]["code"] == "L2")
    zones = {f["properties"]["code"]: (f["properties"]["kind"], shape(f["geometry"]))
             for f in doc["features"] if f["properties"]["feature"] == "zone"}
    doors: list[ExitDoor] = []
    for f in doc["features"]:
        props = f["properties"]
        if props["feature"] == "door" and props.get("is_exit"):
            (ax, ay), (bx, by) = f["geometry"]["coordinates"]
            to_kind, outside = zones[props["to_zone"]]
            doors.append(ExitDoor(len(doors) + 1, props["code"], (ax, ay), (bx, by), zones[props["from_zone"]][1],
                                  outside, props.get("lock_controller", ""), to_kind == "elevator_lobby"))
    wards = {code: polygon for code, (kind, polygon) in zones.items() if kind == "ward"}
    return FloorExits(doors), wards, [d.code for d in doors]


EXITS, WARDS, CODES = _l2()


@pytest.mark.parametrize(("xy", "level", "door"), [
    # Stair A: door x = 9, y 10.2..12.0, the west corridor on the east side (x > 9), the stairwell west of it
    ((10.0, 11.0), AT_EXIT, "D-L2-STAIR-A"),  # exactly at_exit_m (1.0 m): at the exit
    ((10.01, 11.0), APPROACH, "D-L2-STAIR-A"),  # just past it
    ((12.0, 11.0), APPROACH, "D-L2-STAIR-A"),  # exactly approach_m (3.0 m)
    ((12.01, 11.0), N, None),  # just past it
    ((9.0, 11.0), AT_EXIT, "D-L2-STAIR-A"),  # on the door line: not through yet
    ((8.99, 11.0), THROUGH, "D-L2-STAIR-A"),  # one centimetre into the stairwell
    ((5.0, 13.5), THROUGH, "D-L2-STAIR-A"),  # deep in the stairwell, off the opening
    ((9.8, 9.9), AT_EXIT, "D-L2-STAIR-A"),  # corridor corner, 0.85 m from the door's end
    ((9.5, 9.0), N, None),  # room 219 behind the corridor wall, 1.3 m away: not in front, not the corridor
    # the lift lobby: door y = 12.4, x 37.4..39.8, the central corridor south of it
    ((38.6, 11.4), AT_EXIT, "D-L2-LIFTS"),
    ((38.6, 13.0), THROUGH, "D-L2-LIFTS"),
    ((36.0, 15.0), THROUGH, "D-L2-LIFTS"),  # a corner of the lobby, not in front of the door
    ((38.6, 9.4), APPROACH, "D-L2-LIFTS"),  # 3.0 m in front, in the room across the corridor
    ((50.0, 11.0), N, None),
    ((68.0, 11.1), AT_EXIT, "D-L2-STAIR-B"),
])
def test_it_classifies_points_against_the_maternity_exits(xy: tuple[float, float], level: ExitLevel,
                                                           door: str | None) -> None:
    got = EXITS.classify([xy[0]], [xy[1]])
    assert ExitLevel(int(got.level[0])) == level
    assert (CODES[got.door[0]] if got.door[0] >= 0 else None) == door


def test_it_names_the_lift_lobby_door_and_only_it() -> None:
    assert [d.code for d in EXITS.doors if d.to_elevator_lobby] == ["D-L2-LIFTS"]
    assert {d.controller for d in EXITS.doors} == {"maglock-2E-west", "maglock-2E-east", "maglock-2E-lifts"}


def test_a_batch_gives_what_each_point_gives_alone() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 78, 400), rng.uniform(2, 20, 400)
    batch = EXITS.classify(x, y)
    alone = [EXITS.classify(x[i:i + 1], y[i:i + 1]) for i in range(len(x))]
    assert batch.level.tolist() == [int(a.level[0]) for a in alone]
    assert batch.door.tolist() == [int(a.door[0]) for a in alone]
    np.testing.assert_allclose(batch.distance_m, [float(a.distance_m[0]) for a in alone])
    assert {int(v) for v in batch.level} == {0, 1, 2, 3}  # the random points do reach every class


def test_it_tells_who_is_inside_the_ward_counting_its_edge() -> None:
    geometry = FloorGeometry(floor_id=2, building_id=1, exits=EXITS, wards={7: WARDS["2E"]})
    inside = geometry.in_ward(7, [20.0, 38.6, 9.0, 8.5, 50.0], [11.0, 13.0, 11.0, 11.0, 17.0])
    assert inside.tolist() == [True, False, True, False, True]  # corridor, lift lobby, door line, stairs, room
    assert geometry.in_ward(8, [20.0], [11.0]).tolist() == [False]  # a ward not on this floor


def _door(code: str, a: tuple[float, float], b: tuple[float, float], inside: Polygon, outside: Polygon) -> ExitDoor:
    return ExitDoor(1, code, a, b, inside, outside, controller=f"lock-{code}")


def test_just_beyond_a_door_line_drawn_short_of_the_outside_zone_is_through() -> None:
    # the door line is the inside face of a 1 m thick wall: the outside zone starts 1 m beyond it
    door = _door("X", (0.0, 0.0), (0.0, 2.0), box(0, -5, 10, 5), box(-6, -5, -1, 5))
    exits = FloorExits([door], through_band_m=2.0)
    got = exits.classify([-0.5, -0.5, -3.0, 0.5, -0.5, -0.5], [1.0, 4.0, 4.0, 1.0, -0.4, -0.6])
    # in the wall; beside the opening; in the outside zone; inside; within ALONG_SLACK_M of its end; past that
    assert got.level.tolist() == [THROUGH, N, THROUGH, AT_EXIT, THROUGH, N]
    narrow = FloorExits([door], through_band_m=0.3).classify([-0.5], [1.0])
    assert narrow.level.tolist() == [N]


def test_the_most_severe_door_wins_then_the_nearest() -> None:
    corridor = box(0, 0, 10, 3)
    west = _door("W", (0.0, 0.5), (0.0, 2.5), corridor, box(-4, 0, 0, 3))
    east = _door("E", (10.0, 0.5), (10.0, 2.5), corridor, box(10, 0, 14, 3))
    exits = FloorExits([west, east], approach_m=6.0, at_exit_m=1.0)
    got = exits.classify([4.5, 5.5, 9.5, -1.0], [1.5, 1.5, 1.5, 1.5])
    assert got.level.tolist() == [APPROACH, APPROACH, AT_EXIT, THROUGH]
    assert got.door.tolist() == [0, 1, 1, 0]
    assert got.distance_m.tolist() == pytest.approx([4.5, 4.5, 0.5, 1.0])


def test_it_finds_the_protected_side_whichever_way_the_line_is_drawn() -> None:
    room, hall = box(0, 0, 4, 4), box(0, 4, 4, 8)
    forward = FloorExits([_door("F", (1.0, 4.0), (3.0, 4.0), room, hall)])
    backward = FloorExits([_door("B", (3.0, 4.0), (1.0, 4.0), room, hall)])
    x, y = [2.0, 2.0, 2.0], [3.5, 4.5, 1.5]
    assert forward.classify(x, y).level.tolist() == backward.classify(x, y).level.tolist() == [AT_EXIT, THROUGH,
                                                                                               APPROACH]


def test_a_floor_without_exits_classifies_everything_as_none() -> None:
    got = FloorExits([]).classify([1.0, 2.0], [1.0, 2.0])
    assert got.level.tolist() == [N, N] and got.door.tolist() == [-1, -1]
    assert np.isinf(got.distance_m).all()


def test_pair_distances_are_mothers_by_infants() -> None:
    d = pair_distances_m([0.0, 3.0], [0.0, 0.0], [0.0, 3.0, 6.0], [4.0, 4.0, 0.0])
    assert d.shape == (2, 3)
    np.testing.assert_allclose(d, [[4.0, 5.0, 6.0], [5.0, 4.0, 3.0]])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: EXITS.classify([1.0, 2.0], [1.0]), "same length"),
    (lambda: EXITS.classify([[1.0]], [[1.0]]), "1-D"),
    (lambda: EXITS.classify([float("nan")], [1.0]), "finite"),
    (lambda: _door("Z", (1.0, 1.0), (1.0, 1.0), box(0, 0, 2, 2), box(2, 0, 4, 2)), "no length"),
    (lambda: FloorExits([], approach_m=1.0, at_exit_m=2.0), "at_exit_m"),
])
def test_it_refuses_bad_input_with_a_clear_error(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


SCRIPT = """
import sys
import security.geometry
print(sorted(n for n in sys.modules if n == "django" or n.startswith("django.")))
"""


def test_it_imports_without_django() -> None:
    root = Path(security.geometry.__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
