"""Where infants are relative to a floor's exits and their ward: pure numpy + shapely, no Django.

A floor's exit doors are segments a -> b (floor metres) between a protected zone (the door's from_zone,
inside) and the outside (its to_zone: stairs, lift lobby, another department). For a batch of points and
every exit door at once (points x doors arrays) each point is classified, the most severe door winning:

    THROUGH   inside the door's to_zone polygon, or beyond the door line within `through_band_m` of it,
              in front of the opening and not back in the from_zone (crossed, even before the outside
              zone's polygon starts);
    AT_EXIT   on the protected side, within `at_exit_m` of the door segment;
    APPROACH  on the protected side, within `approach_m` of the door segment;
    NONE      otherwise.

"On the protected side" means the signed distance s to the door line is >= 0 (the from_zone's side) and the
point is in the from_zone or directly in front of the opening (its projection falls on the segment): a mother
in the room on the far side of the stairwell wall is not "approaching" the stair door. Thresholds are
inclusive (a point exactly at_exit_m from the door is at the exit).

    s = sign * ((b - a) x (p - a)) / |b - a|        (sign chosen so the from_zone side is positive)
    distance to the segment = |p - (a + t (b - a))|, t = clip(((p - a) . (b - a)) / |b - a|^2, 0, 1)

Ward containment counts the boundary as inside (shapely.intersects_xy): the door line is on the ward's edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Point, Polygon

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

APPROACH_M = 3.0
AT_EXIT_M = 1.0
THROUGH_BAND_M = 2.0  # how far beyond the door line, in front of it, still counts as just through
ALONG_SLACK_M = 0.5  # "in front of the opening": the projection may fall this far past either end
SIDE_PROBE_M = 0.1  # how far off the door's middle we look to tell the from_zone's side


class ExitLevel(IntEnum):
    NONE = 0
    APPROACH = 1
    AT_EXIT = 2
    THROUGH = 3


@dataclass(frozen=True, slots=True)
class ExitDoor:
    """One exit: its segment and the two zones' polygons (floor metres)."""

    door_id: int
    code: str
    a_m: tuple[float, float]
    b_m: tuple[float, float]
    inside: Polygon  # the from_zone: the protected side
    outside: Polygon  # the to_zone
    controller: str = ""  # Door.lock_controller ("" when nothing can lock it)
    to_elevator_lobby: bool = False  # the outside is (or leads straight to) a lift lobby
    name: str = ""

    def __post_init__(self) -> None:
        if np.hypot(self.b_m[0] - self.a_m[0], self.b_m[1] - self.a_m[1]) <= 1e-9:
            raise ValueError(f"exit door {self.code}: its line has no length")


@dataclass(frozen=True, slots=True)
class ExitClassification:
    """Per point (n,): level (ExitLevel values), door (index into FloorExits.doors, -1 for NONE) and
    distance_m to the nearest exit door segment (inf on a floor without exits)."""

    level: Int
    door: Int
    distance_m: Float

    def __len__(self) -> int:
        return len(self.level)


def points_check(x_m: Any, y_m: Any) -> tuple[Float, Float]:
    """x_m, y_m as equal-length 1-D float arrays of finite values; ValueError otherwise."""
    x, y = np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x_m {x.shape} / y_m {y.shape}: need two 1-D arrays of the same length")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x_m / y_m: every coordinate must be finite")
    return x, y


def inside(polygon: Polygon, x_m: Float, y_m: Float) -> Bool:
    """(n,) whether each point is in the polygon or on its boundary."""
    return np.asarray(shapely.intersects_xy(polygon, x_m, y_m), dtype=bool)


def _side_sign(door: ExitDoor) -> float:
    """+1 if the from_zone lies to the left of a -> b, else -1 (probing just off the door's middle)."""
    a, b = np.asarray(door.a_m), np.asarray(door.b_m)
    mid, d = (a + b) / 2, b - a
    normal = np.array([-d[1], d[0]]) / np.hypot(*d)  # left of a -> b
    left, right = Point(*(mid + SIDE_PROBE_M * normal)), Point(*(mid - SIDE_PROBE_M * normal))
    if door.inside.intersects(left) and not door.inside.intersects(right):
        return 1.0
    if door.inside.intersects(right) and not door.inside.intersects(left):
        return -1.0
    # a door line drawn a little off the wall: the side nearer the from_zone and farther from the to_zone
    score = (door.inside.distance(right) - door.inside.distance(left)
             + door.outside.distance(left) - door.outside.distance(right))
    if score == 0.0:
        raise ValueError(f"exit door {door.code}: cannot tell which side is {door.code}'s protected zone")
    return 1.0 if score > 0 else -1.0


@dataclass
class FloorExits:
    """A floor's exit doors, ready to classify batches of points (see the module docstring)."""

    doors: Sequence[ExitDoor]
    approach_m: float = APPROACH_M
    at_exit_m: float = AT_EXIT_M
    through_band_m: float = THROUGH_BAND_M
    _a: Float = field(init=False, repr=False)
    _d: Float = field(init=False, repr=False)
    _length_m: Float = field(init=False, repr=False)
    _sign: Float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.at_exit_m <= self.approach_m:
            raise ValueError(f"need 0 < at_exit_m ({self.at_exit_m}) <= approach_m ({self.approach_m})")
        self._a = np.array([door.a_m for door in self.doors], dtype=np.float64).reshape(-1, 2)
        self._d = np.array([door.b_m for door in self.doors], dtype=np.float64).reshape(-1, 2) - self._a
        self._length_m = np.hypot(self._d[:, 0], self._d[:, 1])
        self._sign = np.array([_side_sign(door) for door in self.doors], dtype=np.float64)

    def classify(self, x_m: Any, y_m: Any) -> ExitClassification:
        """Classify n points against every exit door; (n,) arrays out."""
        x, y = points_check(x_m, y_m)
        n, m = len(x), len(self.doors)
        if m == 0:
            return ExitClassification(np.zeros(n, np.int64), np.full(n, -1, np.int64), np.full(n, np.inf))
        px, py = x[:, None] - self._a[:, 0], y[:, None] - self._a[:, 1]  # (n, m): p - a
        dx, dy = self._d[:, 0], self._d[:, 1]
        along_m = (px * dx + py * dy) / self._length_m  # projection onto a -> b, metres from a
        s_m = self._sign * (dx * py - dy * px) / self._length_m  # signed distance, protected side > 0
        t = np.clip(along_m / self._length_m, 0.0, 1.0)
        distance_m = np.hypot(px - t * dx, py - t * dy)
        in_front = (along_m >= -ALONG_SLACK_M) & (along_m <= self._length_m + ALONG_SLACK_M)
        in_from = np.column_stack([inside(door.inside, x, y) for door in self.doors])
        in_to = np.column_stack([np.asarray(shapely.contains_xy(door.outside, x, y), dtype=bool)
                                 for door in self.doors])
        through = in_to | ((s_m < 0) & (-s_m <= self.through_band_m) & in_front & ~in_from)
        protected = ~through & (s_m >= 0) & (in_from | ((along_m >= 0) & (along_m <= self._length_m)))
        level = np.where(through, ExitLevel.THROUGH,
                         np.where(protected & (distance_m <= self.at_exit_m), ExitLevel.AT_EXIT,
                                  np.where(protected & (distance_m <= self.approach_m), ExitLevel.APPROACH,
                                           ExitLevel.NONE))).astype(np.int64)
        # the most severe door, the nearest among equals
        score = level * 1e6 - np.minimum(distance_m, 1e5)
        best = np.argmax(score, axis=1)
        rows = np.arange(n)
        best_level = level[rows, best]
        return ExitClassification(best_level, np.where(best_level > 0, best, -1).astype(np.int64),
                                  distance_m.min(axis=1))


@dataclass
class FloorGeometry:
    """What the infant rules need of one floor: its exits and its wards' outlines (by ward zone pk)."""

    floor_id: int
    building_id: int
    exits: FloorExits
    wards: Mapping[int, Polygon] = field(default_factory=dict)

    def in_ward(self, ward_id: int, x_m: Any, y_m: Any) -> Bool:
        """(n,) whether each point is inside the ward (False for every point if the ward is not on this floor)."""
        x, y = points_check(x_m, y_m)
        polygon = self.wards.get(ward_id)
        return np.zeros(len(x), dtype=bool) if polygon is None else inside(polygon, x, y)


def pair_distances_m(ax_m: Any, ay_m: Any, bx_m: Any, by_m: Any) -> Float:
    """(n, m) distances between n points a and m points b (e.g. mothers x infants)."""
    ax, ay = points_check(ax_m, ay_m)
    bx, by = points_check(bx_m, by_m)
    return np.asarray(np.hypot(ax[:, None] - bx[None, :], ay[:, None] - by[None, :]), dtype=np.float64)
