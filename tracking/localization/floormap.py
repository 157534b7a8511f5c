"""Map awareness: keep fixes on the floor, name their zone, refuse moves through walls, pick a floor.

Zones are shapely polygons indexed 0..z-1; doors join two zones at a point. Everything is batched
over the tags of a window; the only loops run over zones or doors (a handful), never over tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from ._arrays import Bool, Float, Int, as_float

NO_ZONE = -1


@dataclass(frozen=True)
class Door:
    zone_a: int
    zone_b: int
    xy_m: tuple[float, float]


@dataclass(frozen=True)
class FloorMap:
    """outline: the floor; zones: rooms/corridors (index = zone number); doors between zones."""

    outline: Polygon
    zones: list[Polygon]
    doors: list[Door]
    door_xy_m: Float = field(init=False)
    door_to_door_m: Float = field(init=False)  # shortest walk between doors, inf if none
    zone_tree: shapely.STRtree = field(init=False, repr=False, compare=False)  # zone_at's index of the zones

    def __post_init__(self) -> None:
        for d in self.doors:
            if not (0 <= d.zone_a < len(self.zones) and 0 <= d.zone_b < len(self.zones)):
                raise ValueError(f"door {d} refers to a zone outside 0..{len(self.zones) - 1}")
        xy = np.array([d.xy_m for d in self.doors], dtype=np.float64).reshape(-1, 2)
        object.__setattr__(self, "door_xy_m", xy)
        object.__setattr__(self, "door_to_door_m", self._walks(xy))
        object.__setattr__(self, "zone_tree", shapely.STRtree(self.zones))

    def _walks(self, xy: Float) -> Float:
        """Floyd-Warshall over doors; two doors of one zone are a straight walk apart."""
        zones = np.array([[d.zone_a, d.zone_b] for d in self.doors]).reshape(-1, 2)
        share = (zones[:, None, :, None] == zones[None, :, None, :]).any(axis=(2, 3))
        D = np.where(share, np.linalg.norm(xy[:, None] - xy[None, :], axis=2), np.inf)
        for k in range(len(xy)):  # over doors, not tags
            D = np.minimum(D, D[:, k : k + 1] + D[k : k + 1, :])
        return D

    def zone_at(self, xy_m: Float) -> Int:
        """Zone index of each point, NO_ZONE outside every zone (first zone wins on overlap).   (n,)"""
        xy_m = as_float(xy_m, name="xy_m", ndim=2, cols=2)
        # the tree tests each point against the few zones whose box holds it, not against every zone
        point, zone = self.zone_tree.query(shapely.points(xy_m), predicate="within")
        out = np.full(len(xy_m), len(self.zones), dtype=np.int64)
        np.minimum.at(out, point, zone)  # the first zone that holds the point
        out[out == len(self.zones)] = NO_ZONE
        return out

    def clamp(self, xy_m: Float) -> Float:
        """Move points outside the floor outline to the nearest point on it.   (n, 2)"""
        return _onto(self.outline, as_float(xy_m, name="xy_m", ndim=2, cols=2))

    def walk_m(self, a_xy_m: Float, a_zone: Int, b_xy_m: Float, b_zone: Int) -> Float:
        """Shortest walk from a to b: straight inside one zone, else through doors.   (n,), inf if no path."""
        if len(self.doors) == 0:
            return np.where(a_zone == b_zone, np.linalg.norm(b_xy_m - a_xy_m, axis=1), np.inf)
        da = np.linalg.norm(a_xy_m[:, None] - self.door_xy_m[None], axis=2)  # (n, m)
        db = np.linalg.norm(b_xy_m[:, None] - self.door_xy_m[None], axis=2)
        zones = np.array([[d.zone_a, d.zone_b] for d in self.doors])
        da = np.where((zones[None] == a_zone[:, None, None]).any(axis=2), da, np.inf)
        db = np.where((zones[None] == b_zone[:, None, None]).any(axis=2), db, np.inf)
        via = (da[:, :, None] + self.door_to_door_m[None] + db[:, None, :]).min(axis=(1, 2))
        return np.asarray(np.where(a_zone == b_zone, np.linalg.norm(b_xy_m - a_xy_m, axis=1), via), dtype=np.float64)

    def constrain_move(
        self, prev_xy_m: Float, new_xy_m: Float, dt_s: Float, *, max_speed_mps: float = 2.0, slack_m: float = 2.0
    ) -> tuple[Float, Int, Bool]:
        """Refuse jumps through walls: a fix whose walk from the previous one (via doors) is longer than
        max_speed * dt + slack stays in the previous zone, at the nearest point of it.

        Returns xy (n, 2), zone (n,), blocked (n,).
        """
        new_xy_m = self.clamp(new_xy_m)
        a, b = self.zone_at(prev_xy_m), self.zone_at(new_xy_m)
        known = (a != NO_ZONE) & (b != NO_ZONE) & (a != b)
        walk = self.walk_m(prev_xy_m[known], a[known], new_xy_m[known], b[known])
        blocked = np.zeros(len(a), dtype=bool)
        blocked[known] = walk > max_speed_mps * dt_s[known] + slack_m
        xy = new_xy_m.copy()
        for i in np.unique(a[blocked]):  # over zones
            rows = blocked & (a == i)
            xy[rows] = _onto(self.zones[int(i)], new_xy_m[rows], inside=True)
        return xy, np.where(blocked, a, b), blocked


def _onto(polygon: Polygon, xy_m: Float, *, inside: bool = False) -> Float:
    """Points outside `polygon` moved to its nearest point (nudged 1 cm inwards when `inside`)."""
    out = xy_m.copy()
    outside = ~shapely.contains_xy(polygon, xy_m[:, 0], xy_m[:, 1])
    if outside.any():
        target = polygon.buffer(-0.01) if inside else polygon
        lines = shapely.shortest_line(shapely.points(xy_m[outside]), target)
        out[outside] = shapely.get_coordinates(shapely.get_point(lines, 1))
    return out


def choose_floor(rssi_dbm: Float, valid: Bool, receiver_floor: Int, current: Int, *, margin_db: float = 6.0) -> Int:
    """Floor of each tag heard on several floors: the floor of its strongest receiver, but a tag only
    leaves its current floor (-1 = none) when another floor's best reading beats it by margin_db.

    rssi_dbm, valid (n, k); receiver_floor (k,); current (n,)  returns (n,)
    """
    floors = np.unique(receiver_floor)
    best = np.stack([np.where(valid & (receiver_floor == f), rssi_dbm, -np.inf).max(axis=1) for f in floors], axis=1)
    top = floors[np.argmax(best, axis=1)]
    has_current = np.isin(current, floors)
    cur = np.where(has_current[:, None], floors[None, :] == current[:, None], False)
    current_best = np.where(cur, best, -np.inf).max(axis=1)
    switch = ~has_current | (best.max(axis=1) > current_best + margin_db)
    return np.where(switch, top, current).astype(np.int64)
