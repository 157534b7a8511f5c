import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from tracking.localization.floormap import NO_ZONE, Door, FloorMap, choose_floor
from tracking.localization.zones import ZoneHysteresis

# Two rooms side by side (wall at x = 5) joined only through a corridor below them (y < 2).
ROOM_A, ROOM_B, CORRIDOR = box(0, 2, 5, 8), box(5, 2, 10, 8), box(0, 0, 10, 2)
FLOOR = FloorMap(outline=box(0, 0, 10, 8), zones=[ROOM_A, ROOM_B, CORRIDOR],
                 doors=[Door(0, 2, (1.0, 2.0)), Door(1, 2, (9.0, 2.0))])


@pytest.mark.parametrize(("xy", "zone"), [((2, 5), 0), ((7, 5), 1), ((5, 1), 2), ((12, 5), NO_ZONE)])
def test_it_names_the_zone_of_a_point(xy: tuple[float, float], zone: int) -> None:
    assert FLOOR.zone_at(np.array([xy], dtype=float)).tolist() == [zone]


def test_the_first_zone_holding_a_point_wins_as_a_loop_over_the_zones_would_find() -> None:
    bed, ward = box(1, 3, 3, 5), box(0, 0, 10, 8)  # zones smallest first: a bed inside the ward
    floor = FloorMap(outline=box(0, 0, 12, 8), zones=[bed, ROOM_A, ward], doors=[])
    xy = np.random.default_rng(22).uniform([-1, -1], [12, 9], (400, 2))
    xy[:3] = [[2.0, 4.0], [1.0, 4.0], [5.0, 5.0]]  # inside the bed; on its edge (inside the room); on an edge
    loop = np.full(len(xy), NO_ZONE)
    for i, zone in enumerate(floor.zones):
        hit = (loop == NO_ZONE) & shapely.contains_xy(zone, xy[:, 0], xy[:, 1])
        loop[hit] = i
    np.testing.assert_array_equal(floor.zone_at(xy), loop)
    assert floor.zone_at(xy[:3]).tolist() == [0, 1, 2]
    assert floor.zone_at(np.zeros((0, 2))).tolist() == []


def test_fixes_off_the_floor_are_pulled_back_onto_it() -> None:
    np.testing.assert_allclose(FLOOR.clamp(np.array([[12.0, 5.0], [3.0, 3.0]])), [[10.0, 5.0], [3.0, 3.0]])


@pytest.mark.parametrize(("dt_s", "blocked"), [
    (1.0, True),  # 0.6 m through the wall, but the walk via doors is ~14 m: impossible in 1 s
    (10.0, False),  # enough time to walk round through the corridor
])
def test_wall_jump_is_blocked_but_the_door_path_is_allowed(dt_s: float, blocked: bool) -> None:
    prev, new = np.array([[4.7, 5.0]]), np.array([[5.3, 5.0]])
    xy, zone, was_blocked = FLOOR.constrain_move(prev, new, np.array([dt_s]), max_speed_mps=2.0, slack_m=1.0)
    assert bool(was_blocked[0]) is blocked
    assert zone[0] == (0 if blocked else 1)
    assert bool(xy[0, 0] < 5.0) is blocked


def test_moving_through_an_open_door_is_allowed() -> None:
    _, zone, blocked = FLOOR.constrain_move(np.array([[1.0, 2.5]]), np.array([[1.0, 1.5]]), np.array([1.0]))
    assert not blocked[0] and zone[0] == 2


def test_zone_hysteresis_does_not_flicker_on_a_boundary() -> None:
    rng = np.random.default_rng(21)
    zones = ZoneHysteresis(FLOOR, margin_m=0.5, dwell_s=3.0)
    seen = []
    for t in range(30):  # a tag standing on the wall line x = 5, fixes jittering by 0.2 m
        xy = np.array([[5.0 + rng.normal(0, 0.2), 5.0]])
        seen.append(int(zones.update(np.array(["t1"]), xy, np.array([float(t)])).zone[0]))
    assert len(set(seen)) == 1


def test_zone_change_needs_dwell() -> None:
    zones = ZoneHysteresis(FLOOR, margin_m=0.5, dwell_s=3.0)
    path = [(2.0, 5.0)] * 2 + [(7.0, 5.0)] * 5
    got = [int(zones.update(np.array(["t"]), np.array([p]), np.array([float(t)])).zone[0]) for t, p in enumerate(path)]
    assert got == [0, 0, 0, 0, 0, 1, 1]


def test_floor_choice_prefers_the_strongest_floor_with_hysteresis() -> None:
    rssi = np.array([[-60.0, -70.0, -65.0], [-60.0, -70.0, -64.0], [-75.0, -70.0, -60.0]])
    valid = np.ones_like(rssi, dtype=bool)
    receiver_floor = np.array([1, 1, 2])
    got = choose_floor(rssi, valid, receiver_floor, np.array([-1, 2, 1]), margin_db=6.0)
    assert got.tolist() == [1, 2, 2]  # new tag: strongest; 4 dB better is not enough; 15 dB is


def test_bad_door_is_rejected() -> None:
    with pytest.raises(ValueError, match="door"):
        FloorMap(outline=box(0, 0, 1, 1), zones=[Polygon([(0, 0), (1, 0), (1, 1)])], doors=[Door(0, 3, (0.5, 0.5))])


def reference_zones(floor: FloorMap, steps: list[tuple[np.ndarray, np.ndarray, float]], *, margin_m: float,
                    dwell_s: float) -> list[list[int]]:
    """ZoneHysteresis as first written: every fix against every zone, one tag at a time."""
    padded = [z.buffer(margin_m) for z in floor.zones]
    zone: dict[str, int] = {}
    candidate: dict[str, tuple[int, float]] = {}
    out = []
    for tags, xy, t in steps:
        got = []
        for tag, p in zip(tags.tolist(), xy, strict=True):
            current = zone.get(tag, NO_ZONE)
            near = current != NO_ZONE and shapely.contains_xy(padded[current], p[0], p[1])
            seen = current if near else int(floor.zone_at(p[None])[0])
            if seen == current:
                candidate.pop(tag, None)
            else:
                z, since = candidate.get(tag, (seen, t))
                z, since = (z, since) if z == seen else (seen, t)
                candidate[tag] = (z, since)
                if current == NO_ZONE or t - since >= dwell_s:
                    zone[tag], current = z, z
                    candidate.pop(tag)
            got.append(current)
        out.append(got)
    return out


def test_zone_hysteresis_matches_the_reference_on_random_walks() -> None:
    rng = np.random.default_rng(23)
    tags = np.array([f"t{i}" for i in range(60)])
    xy = rng.uniform([0, 0], [10, 8], (60, 2))
    steps = []
    for t in range(40):
        xy = xy + rng.normal(0, 0.6, xy.shape)  # wanders across walls and off the floor
        heard = rng.random(60) < 0.7
        steps.append((tags[heard], xy[heard], float(t)))
    zones = ZoneHysteresis(FLOOR, margin_m=0.5, dwell_s=3.0)
    got = [zones.update(tag, p, np.full(len(tag), t)).zone.tolist() for tag, p, t in steps]
    want = reference_zones(FLOOR, steps, margin_m=0.5, dwell_s=3.0)
    assert got == want
    assert sum(len(set(z)) for z in got) > 40  # tags did change zones
