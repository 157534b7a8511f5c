"""Plan symbols: door swings, padlocks, stairs, lifts, beds and the reader / gateway / anchor marks.

Symbol functions that take (cx, cy) work in pixels, so the legend can draw them too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import ImageDraw
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from floorplans.drawing.render_base import (
    ANTENNA_ORANGE,
    BACKGROUND,
    BED_FILL,
    BLE_BLUE,
    EXIT_RED,
    INK,
    LLRP_NAVY,
    LOCK_AMBER,
    MUTED,
    PILLOW_FILL,
    UWB_MAGENTA,
    WALL,
    Canvas,
    PlanDoor,
    PlanZone,
    font,
)

Float = npt.NDArray[np.float64]
DOUBLE_LEAF_FROM_M = 1.3  # wider openings get two leaves
OPENING_FROM_M = 2.8  # wider still: an open archway or a roller shutter, no leaves
TREAD_M = 0.28
LANDING_M = 1.4


def door_vectors(door: PlanDoor, zones: dict[str, PlanZone]) -> tuple[Float, Float, Float]:
    """(start, end, unit normal pointing into to_zone), floor metres."""
    start = np.array(door.line.coords[0], dtype=float)
    end = np.array(door.line.coords[-1], dtype=float)
    along = (end - start) / float(np.linalg.norm(end - start))
    normal = np.array([-along[1], along[0]])
    probe = (start + end) / 2 + 0.3 * normal
    if not zones[door.to_zone].polygon.contains(Point(float(probe[0]), float(probe[1]))):
        normal = -normal
    return start, end, normal


def _image_deg(vector: Float) -> float:
    """Pillow arc angle of a metre vector: clockwise from +x on screen (y flips)."""
    return math.degrees(math.atan2(-float(vector[1]), float(vector[0])))


def _leaves(start: Float, end: Float) -> list[tuple[Float, Float]]:
    """(hinge, closed tip) of each leaf: one leaf, or two meeting in the middle of a wide opening."""
    if float(np.linalg.norm(end - start)) <= DOUBLE_LEAF_FROM_M:
        return [(start, end)]
    mid = (start + end) / 2
    return [(start, mid), (end, mid)]


def swing_areas(door: PlanDoor, zones: dict[str, PlanZone]) -> list[Polygon]:
    """The quarter discs the leaves sweep (floor metres), to keep labels off them."""
    start, end, into = door_vectors(door, zones)
    if zones[door.to_zone].kind == "elevator" or door.line.length >= OPENING_FROM_M:
        return [door.line.buffer(0.2)]
    areas = []
    for hinge, tip in _leaves(start, end):
        arm = tip - hinge
        sweep = [hinge + math.cos(t) * arm + math.sin(t) * float(np.linalg.norm(arm)) * into
                 for t in np.linspace(0.0, math.pi / 2, 7)]
        areas.append(Polygon([tuple(hinge), *(tuple(p) for p in sweep)]))
    return areas


def draw_door(canvas: Canvas, door: PlanDoor, zones: dict[str, PlanZone], *, gap_px: int) -> None:
    """Cut the opening out of the wall, then draw the leaf (or leaves) and its swing into to_zone."""
    start, end, into = door_vectors(door, zones)
    colour = EXIT_RED if door.is_exit else WALL
    ends = [canvas.px(float(start[0]), float(start[1])), canvas.px(float(end[0]), float(end[1]))]
    canvas.draw.line(ends, fill=BACKGROUND, width=gap_px)
    if zones[door.to_zone].kind == "elevator":  # sliding lift doors: two panels in the opening
        canvas.draw.line(ends, fill=MUTED, width=3)
        return
    if door.line.length >= OPENING_FROM_M:  # archway or roller shutter: a dashed line across
        canvas.dashed(ends, fill=colour, width=4 if door.is_exit else 1, dash_px=5)
        return
    for hinge, tip in _leaves(start, end):
        radius_m = float(np.linalg.norm(tip - hinge))
        opened = hinge + radius_m * into
        cx, cy = canvas.px(float(hinge[0]), float(hinge[1]))
        canvas.draw.line([(cx, cy), canvas.px(float(opened[0]), float(opened[1]))], fill=colour, width=2)
        a0, a1 = _image_deg(tip - hinge), _image_deg(into)
        start_deg, end_deg = (a0, a1) if (a1 - a0) % 360 < 180 else (a1, a0)
        r_px = radius_m * canvas.px_per_m
        canvas.draw.arc([cx - r_px, cy - r_px, cx + r_px, cy + r_px], start_deg, end_deg, fill=colour, width=1)
    if door.is_exit:
        canvas.draw.line(ends, fill=EXIT_RED, width=4)
    if door.lock_controller:  # on the opening itself: this door can be locked
        padlock_symbol(canvas.draw, (ends[0][0] + ends[1][0]) / 2, (ends[0][1] + ends[1][1]) / 2 + 2)


def padlock_symbol(draw: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    draw.arc([cx - 4, cy - 8, cx + 4, cy + 1], 180, 360, fill=LOCK_AMBER, width=2)
    draw.rectangle([cx - 5, cy - 3, cx + 5, cy + 5], fill=LOCK_AMBER, outline=INK)


def exit_symbol(draw: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    draw.line([(cx - 9, cy + 5), (cx + 9, cy + 5)], fill=EXIT_RED, width=4)
    draw.arc([cx - 9 - 18, cy + 5 - 18, cx - 9 + 18, cy + 5 + 18], 270, 360, fill=EXIT_RED, width=1)
    draw.line([(cx - 9, cy + 5), (cx - 9, cy - 9)], fill=EXIT_RED, width=2)


def draw_stairs(canvas: Canvas, zone: PlanZone, door: PlanDoor | None, zones: dict[str, PlanZone]) -> None:
    """Two flights of treads beyond a landing at the door, split by a centre wall."""
    if door is None:
        return
    start, end, into = door_vectors(door, zones)
    mid, along = (start + end) / 2, (end - start) / float(np.linalg.norm(end - start))
    depth_m = max(float(np.dot(np.array(p) - mid, into)) for p in zone.polygon.exterior.coords)
    inner = zone.polygon.buffer(-0.15, join_style="mitre")
    spine = LineString([tuple(mid + LANDING_M * into), tuple(mid + (depth_m - 0.15) * into)])
    for d_m in np.arange(LANDING_M + 0.1, depth_m - 0.3, TREAD_M):
        centre = mid + d_m * into
        tread = LineString([tuple(centre - 20 * along), tuple(centre + 20 * along)]).intersection(inner)
        pieces = tread.difference(spine.buffer(0.12))
        lines = pieces.geoms if isinstance(pieces, MultiLineString) else [pieces]
        for line in lines:
            if not line.is_empty:
                canvas.draw.line(canvas.path(line.coords), fill=MUTED, width=1)
    canvas.draw.line(canvas.path(spine.coords), fill=WALL, width=3)


def draw_lift(canvas: Canvas, zone: PlanZone) -> None:
    """The plan convention for a lift car: a cross."""
    min_x, min_y, max_x, max_y = (float(v) for v in zone.polygon.buffer(-0.3).bounds)
    canvas.draw.line([canvas.px(min_x, min_y), canvas.px(max_x, max_y)], fill=MUTED, width=1)
    canvas.draw.line([canvas.px(min_x, max_y), canvas.px(max_x, min_y)], fill=MUTED, width=1)


def draw_bed(canvas: Canvas, bed: PlanZone, room: PlanZone | None) -> None:
    """Bed outline, a pillow at the head (the end nearest the room's wall), and its letter."""
    canvas.polygon(bed.polygon, fill=BED_FILL, outline=INK, width=2)
    min_x, min_y, max_x, max_y = (float(v) for v in bed.polygon.bounds)
    suffix = bed.code.rsplit("-", 1)[-1]
    is_cot = room is not None and room.kind == "nursery"
    label = suffix.removeprefix("C") if is_cot else suffix
    long_y = (max_y - min_y) >= (max_x - min_x)
    if room is not None and not is_cot:
        ends = [(min_x, min_y), (max_x, min_y)] if long_y else [(min_x, min_y), (min_x, max_y)]
        far = [(min_x, max_y), (max_x, max_y)] if long_y else [(max_x, min_y), (max_x, max_y)]
        head_low = LineString(ends).distance(room.polygon.exterior) < LineString(far).distance(room.polygon.exterior)
        if long_y:
            y0, y1 = (min_y + 0.1, min_y + 0.45) if head_low else (max_y - 0.45, max_y - 0.1)
            x0, x1 = min_x + 0.15, max_x - 0.15
        else:
            x0, x1 = (min_x + 0.1, min_x + 0.45) if head_low else (max_x - 0.45, max_x - 0.1)
            y0, y1 = min_y + 0.15, max_y - 0.15
        (ax, ay), (bx, by) = canvas.px(x0, y1), canvas.px(x1, y0)
        canvas.draw.rounded_rectangle([ax, ay, bx, by], radius=3, fill=PILLOW_FILL, outline=MUTED)
    cx, cy = canvas.px((min_x + max_x) / 2, (min_y + max_y) / 2)
    canvas.draw.text((cx, cy), label, fill=INK, font=font(9 if is_cot else 11, bold=True), anchor="mm")


def llrp_symbol(draw: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    draw.rectangle([cx - 6, cy - 6, cx + 6, cy + 6], fill=LLRP_NAVY, outline=BACKGROUND)
    draw.rectangle([cx - 2, cy - 2, cx + 2, cy + 2], fill=BACKGROUND)


def antenna_symbol(draw: ImageDraw.ImageDraw, cx: float, cy: float, facing_deg: float) -> None:
    """A triangle pointing where the antenna looks (facing_deg counter-clockwise from +x, floor frame)."""
    a = math.radians(facing_deg)
    dx, dy = math.cos(a), -math.sin(a)  # screen y runs down
    tip = (cx + 8 * dx, cy + 8 * dy)
    left = (cx - 4 * dx - 5 * dy, cy - 4 * dy + 5 * dx)
    right = (cx - 4 * dx + 5 * dy, cy - 4 * dy - 5 * dx)
    draw.polygon([tip, left, right], fill=ANTENNA_ORANGE, outline=INK)


def ble_symbol(draw: ImageDraw.ImageDraw, cx: float, cy: float, *, minew: bool) -> None:
    """ESPresense node: filled blue disc; Minew gateway: blue ring with a dot."""
    if minew:
        draw.ellipse([cx - 6, cy - 6, cx + 6, cy + 6], fill=BACKGROUND, outline=BLE_BLUE, width=3)
        draw.ellipse([cx - 2, cy - 2, cx + 2, cy + 2], fill=BLE_BLUE)
    else:
        draw.ellipse([cx - 6, cy - 6, cx + 6, cy + 6], fill=BLE_BLUE, outline=BACKGROUND)


def uwb_symbol(draw: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    draw.polygon([(cx, cy - 7), (cx + 7, cy), (cx, cy + 7), (cx - 7, cy)], fill=UWB_MAGENTA, outline=BACKGROUND)


def draw_reader(canvas: Canvas, reader: dict[str, Any]) -> None:
    """One reader feature (properties plus x_m / y_m) with its antennas and their cables."""
    x_m, y_m = float(reader["x_m"]), float(reader["y_m"])
    cx, cy = canvas.px(x_m, y_m)
    kind, protocol = reader["kind"], reader["protocol"]
    if kind == "llrp_reader":
        antennas = reader.get("antennas")
        for antenna in antennas if isinstance(antennas, list) else []:
            ax, ay = canvas.px(float(antenna["x_m"]), float(antenna["y_m"]))
            canvas.dashed([(cx, cy), (ax, ay)], fill=LLRP_NAVY, width=1, dash_px=4)
            antenna_symbol(canvas.draw, ax, ay, float(antenna.get("facing_deg") or 0.0))
        llrp_symbol(canvas.draw, cx, cy)
    elif kind == "ble_gateway":
        ble_symbol(canvas.draw, cx, cy, minew=protocol == "ble_minew")
    elif kind == "uwb_anchor":
        uwb_symbol(canvas.draw, cx, cy)
