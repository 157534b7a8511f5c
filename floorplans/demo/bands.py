"""The building every demo floor shares, and the engine that lays rooms along its corridor.

Floor metres, y up. Stairs and lifts sit at the same place on every floor, so they line up:

    y 18.2         +------------------------+ lifts  +-------------------------+
                   |  north band            | lobby  |                         |
    y 14.1  +------+  (rooms 5.8 m deep)    +--------+                         +------+
    y 12.4  |stair +----- west corridor ----+central +----- east corridor ------+ stair|
    y  9.8  |  A   |  south band (5.8 m)                                       |  B   |
    y  8.1  +------+                                                           +------+
    y  4.0         +-----------------------------------------------------------+
           x 4     9                      35.4     41.8                        69     74

A band is a west-to-east table of Spaces whose widths add up to the band length. Rooms with an
en-suite get the toilet in the corridor-side corner, mirrored room by room so toilets pair up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from floorplans.demo.builder import Door, FloorPlan, Zone

BAND_X0_M = 9.0
BAND_X1_M = 69.0
SOUTH_Y0_M = 4.0
CORRIDOR_Y0_M = 9.8
CORRIDOR_Y1_M = 12.4
NORTH_Y1_M = 18.2
ROOM_DEPTH_M = 5.8
STAIR_Y0_M, STAIR_Y1_M = 8.1, 14.1
CORE_X0_M, CORE_X1_M = 35.4, 41.8
LOBBY_Y1_M = 15.2
TOILET_W_M, TOILET_D_M = 1.8, 2.2
TOILET_DOOR_M = 0.9
BED_W_M, BED_L_M, BED_WALL_GAP_M = 1.0, 2.2, 0.25
COT_W_M, COT_L_M, COT_ROW_M = 0.6, 0.9, 1.6
EPS_M = 1e-6

CORRIDOR_SEGMENTS = (("W", "west", BAND_X0_M, CORE_X0_M), ("C", "central", CORE_X0_M, CORE_X1_M),
                     ("E", "east", CORE_X1_M, BAND_X1_M))


@dataclass(frozen=True, slots=True)
class Space:
    """One room-like space of a band, `width_m` along the corridor."""

    key: str
    name: str
    kind: str
    width_m: float
    beds: int = 0
    cots: int = 0
    toilet: bool = False
    door_m: float = 1.2
    lock_controller: str | None = None


CORE = Space("CORE", "Lift core", "elevator_lobby", CORE_X1_M - CORE_X0_M)  # a north-band placeholder


@dataclass(frozen=True, slots=True)
class Side:
    """A band of rooms from the corridor wall (corridor_y_m) to the window wall (window_y_m)."""

    corridor_y_m: float
    window_y_m: float

    def y_at(self, depth_m: float) -> float:
        inward = 1.0 if self.window_y_m > self.corridor_y_m else -1.0
        return round(self.corridor_y_m + inward * depth_m, 2)

    def rect(self, x0_m: float, x1_m: float, depth0_m: float, depth1_m: float) -> Polygon:
        ya, yb = self.y_at(depth0_m), self.y_at(depth1_m)
        return box(round(x0_m, 2), min(ya, yb), round(x1_m, 2), max(ya, yb))


SOUTH = Side(CORRIDOR_Y0_M, SOUTH_Y0_M)
NORTH = Side(CORRIDOR_Y1_M, NORTH_Y1_M)


@dataclass(frozen=True, slots=True)
class Wing:
    """How one floor names things: floor code, zone-code prefix, and its ward (None off-ward)."""

    floor: str
    prefix: str
    ward: str | None

    def code(self, key: str) -> str:
        return f"{self.prefix}-{key}"


def as_polygon(geom: BaseGeometry) -> Polygon:
    if not isinstance(geom, Polygon) or geom.is_empty:
        raise ValueError(f"expected one polygon, got {geom.geom_type}")
    return geom


def horizontal(x0_m: float, x1_m: float, y_m: float) -> LineString:
    return LineString([(round(x0_m, 2), round(y_m, 2)), (round(x1_m, 2), round(y_m, 2))])


def corridor_at(wing: Wing, x0_m: float, x1_m: float) -> str:
    """The corridor segment whose wall holds the opening x0_m..x1_m."""
    for key, _, start_m, end_m in CORRIDOR_SEGMENTS:
        if start_m - EPS_M <= min(x0_m, x1_m) and max(x0_m, x1_m) <= end_m + EPS_M:
            return wing.code(f"CORR-{key}")
    raise ValueError(f"opening at x {x0_m}..{x1_m} straddles two corridor segments")


def add_corridors(plan: FloorPlan, wing: Wing) -> None:
    for key, label, start_m, end_m in CORRIDOR_SEGMENTS:
        name = f"{label.capitalize()} corridor"
        polygon = box(start_m, CORRIDOR_Y0_M, end_m, CORRIDOR_Y1_M)
        plan.add_zone(Zone(wing.code(f"CORR-{key}"), name, "corridor", polygon, wing.ward, wing.ward))


def add_band(plan: FloorPlan, wing: Wing, side: Side, spaces: Sequence[Space]) -> None:
    """Lay `spaces` west to east; they must fill the band exactly (CORE only on the north band)."""
    x_m = BAND_X0_M
    toilet_right = True
    for space in spaces:
        if space is CORE:
            if side is not NORTH or not math.isclose(x_m, CORE_X0_M):
                raise ValueError(f"the lift core must start the north band at x {CORE_X0_M}, not {x_m}")
        else:
            _add_space(plan, wing, side, space, x_m, toilet_right=toilet_right)
            toilet_right = toilet_right != space.toilet  # mirror the next en-suite room
        x_m = round(x_m + space.width_m, 2)
    if not math.isclose(x_m, BAND_X1_M):
        raise ValueError(f"band spaces end at x {x_m}, not at {BAND_X1_M}")


def _add_space(plan: FloorPlan, wing: Wing, side: Side, space: Space, x0_m: float, *, toilet_right: bool) -> None:
    code = wing.code(space.key)
    x1_m = x0_m + space.width_m
    polygon = side.rect(x0_m, x1_m, 0.0, ROOM_DEPTH_M)
    free0_m, free1_m = x0_m, x1_m  # the part of the corridor wall the toilet leaves free
    toilet_x0_m = x1_m - TOILET_W_M if toilet_right else x0_m
    if space.toilet:
        polygon = as_polygon(polygon.difference(side.rect(toilet_x0_m, toilet_x0_m + TOILET_W_M, 0.0, TOILET_D_M)))
        free0_m, free1_m = (x0_m, toilet_x0_m) if toilet_right else (toilet_x0_m + TOILET_W_M, x1_m)
    plan.add_zone(Zone(code, space.name, space.kind, polygon, wing.ward, wing.ward))
    mid_m = (free0_m + free1_m) / 2
    x_a, x_b = mid_m - space.door_m / 2, mid_m + space.door_m / 2
    plan.add_door(Door(
        f"D-{code}", f"{space.name} door", horizontal(x_a, x_b, side.corridor_y_m),
        corridor_at(wing, x_a, x_b), code, lock_controller=space.lock_controller,
    ))
    if space.toilet:
        _add_toilet(plan, wing, side, space, toilet_x0_m)
    _add_beds(plan, wing, side, space, x0_m)
    _add_cots(plan, wing, side, space, x0_m)


def _add_toilet(plan: FloorPlan, wing: Wing, side: Side, space: Space, x0_m: float) -> None:
    room = wing.code(space.key)
    code = f"{room}-WC"
    polygon = side.rect(x0_m, x0_m + TOILET_W_M, 0.0, TOILET_D_M)
    # the loader wants a child inside its parent; the toilet is cut out of the room, so its parent is the ward
    plan.add_zone(Zone(code, f"{space.name} en-suite", "toilet", polygon, wing.ward, wing.ward))
    mid_m = x0_m + TOILET_W_M / 2
    line = horizontal(mid_m - TOILET_DOOR_M / 2, mid_m + TOILET_DOOR_M / 2, side.y_at(TOILET_D_M))
    plan.add_door(Door(f"D-{code}", f"{space.name} en-suite door", line, room, code))


def _add_beds(plan: FloorPlan, wing: Wing, side: Side, space: Space, x0_m: float) -> None:
    """Beds side by side, heads BED_WALL_GAP_M off the window wall."""
    room = wing.code(space.key)
    foot_m = ROOM_DEPTH_M - BED_WALL_GAP_M - BED_L_M
    for i in range(space.beds):
        centre_m = x0_m + space.width_m * (i + 0.5) / space.beds
        letter = "ABCDEFGH"[i]
        polygon = side.rect(centre_m - BED_W_M / 2, centre_m + BED_W_M / 2, foot_m, foot_m + BED_L_M)
        plan.add_zone(Zone(f"{room}-{letter}", f"Bed {space.key}{letter}", "bed", polygon, room, wing.ward))


def _add_cots(plan: FloorPlan, wing: Wing, side: Side, space: Space, x0_m: float) -> None:
    """Bassinets in two rows along the window wall (they are zones of kind bed)."""
    room = wing.code(space.key)
    per_row = math.ceil(space.cots / 2)
    for i in range(space.cots):
        row, col = divmod(i, per_row)
        centre_m = x0_m + space.width_m * (col + 0.5) / per_row
        head_m = ROOM_DEPTH_M - 0.4 - row * COT_ROW_M
        polygon = side.rect(centre_m - COT_W_M / 2, centre_m + COT_W_M / 2, head_m - COT_L_M, head_m)
        plan.add_zone(Zone(f"{room}-C{i + 1}", f"Cot {i + 1}", "bed", polygon, room, wing.ward))


def add_core(plan: FloorPlan, wing: Wing, *, exits: bool, locks: Mapping[str, str] | None = None) -> None:
    """Stairs A (west) and B (east), the lift lobby and two lifts; their corridor doors are the exits."""
    locks = locks or {}
    stairs = (("STAIR-A", "Stair A (west)", 4.0, BAND_X0_M, BAND_X0_M, "W"),
              ("STAIR-B", "Stair B (east)", BAND_X1_M, BAND_X1_M + 5.0, BAND_X1_M, "E"))
    mid_y_m = (CORRIDOR_Y0_M + CORRIDOR_Y1_M) / 2
    for key, name, x0_m, x1_m, wall_x_m, corridor in stairs:
        code = f"{wing.floor}-{key}"
        plan.add_zone(Zone(code, name, "stairs", box(x0_m, STAIR_Y0_M, x1_m, STAIR_Y1_M)))
        line = LineString([(wall_x_m, mid_y_m - 0.9), (wall_x_m, mid_y_m + 0.9)])
        _core_door(plan, wing, code, name, line, wing.code(f"CORR-{corridor}"), exits, locks.get(key))
    lobby = f"{wing.floor}-LIFTS"
    plan.add_zone(Zone(lobby, "Lift lobby", "elevator_lobby", box(CORE_X0_M, CORRIDOR_Y1_M, CORE_X1_M, LOBBY_Y1_M)))
    mid_x_m = (CORE_X0_M + CORE_X1_M) / 2
    line = horizontal(mid_x_m - 1.2, mid_x_m + 1.2, CORRIDOR_Y1_M)
    _core_door(plan, wing, lobby, "Lift lobby", line, wing.code("CORR-C"), exits, locks.get("LIFTS"))
    for number, (x0_m, x1_m) in enumerate(((CORE_X0_M, mid_x_m), (mid_x_m, CORE_X1_M)), start=1):
        code = f"{wing.floor}-LIFT-{number}"
        plan.add_zone(Zone(code, f"Lift {number}", "elevator", box(x0_m, LOBBY_Y1_M, x1_m, NORTH_Y1_M)))
        centre_m = (x0_m + x1_m) / 2
        plan.add_door(Door(f"D-{code}", f"Lift {number} doors", horizontal(centre_m - 0.7, centre_m + 0.7, LOBBY_Y1_M),
                           lobby, code))


def _core_door(
    plan: FloorPlan, wing: Wing, code: str, name: str, line: LineString, corridor: str, exit_: bool, lock: str | None,
) -> None:
    label = f"Exit to {name}" if exit_ else f"Door to {name}"
    plan.add_door(Door(f"D-{code}", label, line, corridor, code, is_exit=exit_, lock_controller=lock))


def add_ward(plan: FloorPlan, wing: Wing, name: str) -> None:
    """The ward zone: the union of every zone that names the ward (beds lie inside rooms anyway)."""
    if wing.ward is None:
        raise ValueError(f"{wing.floor} has no ward")
    members = [zone.polygon for zone in plan.zones.values() if zone.ward == wing.ward and zone.kind != "bed"]
    outline = as_polygon(unary_union(members).simplify(0.0))
    if list(outline.interiors):
        raise ValueError(f"ward {wing.ward} has holes: its zones do not tile")
    plan.add_zone(Zone(wing.ward, name, "ward", outline))
