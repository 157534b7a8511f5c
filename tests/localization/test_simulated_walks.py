"""Simulated walks through the floor map, zones and RFID portals: seeded noise, whole paths."""

import numpy as np
from shapely.geometry import box

from tracking.localization.floormap import Door, FloorMap
from tracking.localization.rfid import PortalDetector
from tracking.localization.zones import ZoneHysteresis

# Two rooms side by side (wall at x = 5) joined only through a corridor below them (y < 2).
ROOM_A, ROOM_B, CORRIDOR = box(0, 2, 5, 8), box(5, 2, 10, 8), box(0, 0, 10, 2)
FLOOR = FloorMap(outline=box(0, 0, 10, 8), zones=[ROOM_A, ROOM_B, CORRIDOR],
                 doors=[Door(0, 2, (1.0, 2.0)), Door(1, 2, (9.0, 2.0))])
INSIDE, OUTSIDE = 1, 2


def test_it_changes_zone_once_for_a_tag_walking_along_a_boundary() -> None:
    rng = np.random.default_rng(31)
    zones = ZoneHysteresis(FLOOR, margin_m=0.5, dwell_s=3.0)
    # 1 fix a second: 5 s in room A, 40 s along the wall x = 5 with 0.25 m noise, then 10 s in room B
    x = np.concatenate([np.full(5, 3.0), 5.0 + rng.normal(0, 0.25, 40), np.full(10, 7.0)])
    y = np.linspace(2.5, 7.5, len(x))
    changes = [zones.update(np.array(["pump-1"]), np.array([[xi, yi]]), np.array([float(t)]))
               for t, (xi, yi) in enumerate(zip(x, y, strict=True))]
    moves = [(int(c.previous[0]), int(c.zone[0])) for c in changes if c.changed[0]]
    assert moves == [(-1, 0), (0, 1)]  # first sighting, then A -> B once


def test_it_blocks_noisy_fixes_that_teleport_through_a_wall() -> None:
    rng = np.random.default_rng(32)
    xy, zone_seen = np.array([[4.0, 5.0]]), []
    for step in range(60):  # a tag standing 0.6 m from the wall; one fix in four lands across it
        fix = np.array([[4.4 + (1.2 if step % 4 == 0 else 0.0), 5.0]]) + rng.normal(0, 0.05, (1, 2))
        xy, zone, _ = FLOOR.constrain_move(xy, fix, np.array([1.0]), max_speed_mps=1.5, slack_m=1.0)
        zone_seen.append(int(zone[0]))
        assert xy[0, 0] < 5.0
    assert set(zone_seen) == {0}


def test_it_lets_the_same_tag_walk_round_through_the_doors() -> None:
    path = [(4.0, 5.0), (1.0, 3.0), (1.0, 1.0), (5.0, 1.0), (9.0, 1.0), (9.0, 3.0), (6.0, 5.0)]
    xy, zones = np.array([path[0]]), []
    for p in path[1:]:  # 3.6 m or less a step, in 2 s, at up to 2 m/s
        xy, zone, blocked = FLOOR.constrain_move(xy, np.array([p]), np.array([2.0]), max_speed_mps=2.0, slack_m=1.0)
        assert not blocked[0]
        zones.append(int(zone[0]))
    assert zones == [0, 2, 2, 2, 1, 1]


def simulated_crossing(rng: np.random.Generator, *, outward: bool, t0_s: float) -> tuple[list[int], list[float]]:
    """Reads of one tag walking through a portal in ~3 s: the near antenna first, both at the door, the far one
    last; 30 % of reads are missed."""
    first, last = (INSIDE, OUTSIDE) if outward else (OUTSIDE, INSIDE)
    t = t0_s + np.sort(rng.uniform(0, 3, 24))
    antenna = np.where(t - t0_s < 1.2, first, np.where(t - t0_s > 1.8, last, rng.choice([first, last], 24)))
    antenna = np.where(t - t0_s < 0.3, first, antenna)  # reads in the middle may come from either antenna
    kept = rng.uniform(size=24) > 0.3
    kept[0] = kept[-1] = True
    return antenna[kept].tolist(), t[kept].tolist()


def test_it_gives_the_direction_of_simulated_portal_crossings() -> None:
    rng = np.random.default_rng(33)
    portal = PortalDetector(inside_antenna=INSIDE, outside_antenna=OUTSIDE, max_gap_s=5.0)
    tags, antennas, times = [], [], []
    for i, outward in enumerate([True, False, True, True, False, False]):
        a, t = simulated_crossing(rng, outward=outward, t0_s=10.0 * i)
        tags += [f"infant-{i}"] * len(a)
        antennas += a
        times += t
    order = rng.permutation(len(tags))  # reads arrive in any order within the window
    crossings = portal.update(np.array(tags)[order], np.array(antennas)[order], np.array(times)[order])
    final = {c.tag_id: c.direction for c in crossings}  # jitter at the door may add a back-and-forth pair
    assert final == {"infant-0": "out", "infant-1": "in", "infant-2": "out", "infant-3": "out",
                     "infant-4": "in", "infant-5": "in"}
    assert all(len([c for c in crossings if c.tag_id == t]) % 2 == 1 for t in final)
