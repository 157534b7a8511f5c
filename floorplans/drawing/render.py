"""Render one floor GeoJSON document (docs/floor-geojson.md) as an architectural plan image.

    render_plan(collection) -> PIL.Image.Image   RGB, plan_size_px(width_m, height_m), deterministic

Floor metres become pixels through the transform fitted to the header's control_points, so a point
of the file lands on the pixel the header promises. Drawing order: fills, stairs and lifts, walls,
door openings, beds, ward boundary, labels, devices, then the title and legend bands.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from PIL import Image, ImageDraw
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel, unary_union

from floorplans.drawing.mapping import PLAN_MARGIN_PX, control_points, plan_size_px
from floorplans.drawing.render_base import (
    BACKGROUND,
    INK,
    MUTED,
    WALL,
    WARD_PURPLE,
    Canvas,
    PlanDoor,
    PlanZone,
    font,
    kind_fill,
    plan_transform,
    read_doors,
    read_readers,
    read_zones,
)
from floorplans.drawing.render_frame import draw_legend, draw_north_arrow, draw_scale_bar, draw_title, legend_entries
from floorplans.drawing.render_symbols import draw_bed, draw_door, draw_lift, draw_reader, draw_stairs, swing_areas

EXTERIOR_WALL_PX = 6
WALL_PX = 3
UNWALLED_KINDS = frozenset({"ward", "bed", "corridor", "exit"})
LABEL_SIZES = (13, 12, 11, 10, 9, 8)
LABEL_INSET_M = 0.15
DEVICE_CLEARANCE_M = 0.45


def render_plan(collection: dict[str, Any]) -> Image.Image:
    """The plan image of one floor: zones by kind, walls, doors, beds, labels, readers, legend."""
    header = collection["hospital_iot"]
    floor = header["floor"]
    width_m, height_m = float(floor["width_m"]), float(floor["height_m"])
    image = Image.new("RGB", plan_size_px(width_m, height_m), BACKGROUND)
    points = floor.get("control_points") or control_points(width_m, height_m)
    canvas = Canvas(image, ImageDraw.Draw(image), plan_transform(points))
    zones, doors, readers = read_zones(collection), read_doors(collection), read_readers(collection)
    _draw_spaces(canvas, zones, doors)
    _draw_walls(canvas, zones, doors)
    for bed in (zone for zone in zones.values() if zone.kind == "bed"):
        draw_bed(canvas, bed, zones.get(bed.parent or ""))
    _draw_wards(canvas, zones)
    _draw_labels(canvas, zones, doors, readers)
    for reader in readers:
        draw_reader(canvas, reader)
    _draw_frame(canvas, header, zones, doors, readers)
    return image


def _draw_spaces(canvas: Canvas, zones: dict[str, PlanZone], doors: list[PlanDoor]) -> None:
    for zone in zones.values():
        if zone.kind not in ("ward", "bed"):
            canvas.polygon(zone.polygon, fill=kind_fill(zone.kind))
        if zone.kind == "exit":  # outdoors: paving edge, no wall
            canvas.dashed(canvas.path(zone.polygon.exterior.coords), fill=MUTED, width=1, dash_px=5)
        elif zone.kind == "stairs":
            draw_stairs(canvas, zone, next((d for d in doors if d.to_zone == zone.code), None), zones)
        elif zone.kind == "elevator":
            draw_lift(canvas, zone)
    corridors = [zone for zone in zones.values() if zone.kind == "corridor"]
    for i, a in enumerate(corridors):  # corridor segments meet without a wall
        for b in corridors[i + 1:]:
            seam = a.polygon.boundary.intersection(b.polygon.boundary)
            if isinstance(seam, LineString) and seam.length > 0:
                canvas.dashed(canvas.path(seam.coords), fill=MUTED, width=1, dash_px=4)


def _building(zones: dict[str, PlanZone]) -> BaseGeometry:
    return unary_union([z.polygon for z in zones.values() if z.kind not in ("ward", "bed", "exit")])


def _polygons(geom: BaseGeometry) -> Iterator[Polygon]:
    if isinstance(geom, Polygon) and not geom.is_empty:
        yield geom
    elif isinstance(geom, MultiPolygon):
        yield from (part for part in geom.geoms if not part.is_empty)


def _draw_walls(canvas: Canvas, zones: dict[str, PlanZone], doors: list[PlanDoor]) -> None:
    """Partitions, then the thicker outer wall, then door openings cut through both."""
    for zone in zones.values():
        if zone.kind not in UNWALLED_KINDS:
            canvas.polygon(zone.polygon, outline=WALL, width=WALL_PX)
    building = _building(zones)
    for part in _polygons(building):
        canvas.polygon(part, outline=WALL, width=EXTERIOR_WALL_PX)
    for door in doors:
        on_facade = building.exterior.distance(door.line) < 0.05 if isinstance(building, Polygon) else False
        draw_door(canvas, door, zones, gap_px=(EXTERIOR_WALL_PX if on_facade else WALL_PX) + 3)


def _label_text(zone: PlanZone) -> str:
    if zone.kind == "room" and zone.name.startswith("Room "):
        return zone.name.removeprefix("Room ")
    if zone.kind == "toilet" and zone.name.endswith("en-suite"):
        return "WC"
    return zone.name


def _wrappings(text: str) -> list[str]:
    """The text on one line, then on two (most balanced first), then on three."""
    words = text.split()
    two = sorted((" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words)))
    two.sort(key=lambda lines: max(len(line) for line in lines))
    three = [(" ".join(words[:i]), " ".join(words[i:j]), " ".join(words[j:]))
             for i in range(1, len(words)) for j in range(i + 1, len(words))]
    three.sort(key=lambda lines: max(len(line) for line in lines))
    return [text] + ["\n".join(lines) for lines in two] + ["\n".join(lines) for lines in three[:2]]


def _device_obstacles(readers: list[dict[str, Any]]) -> BaseGeometry:
    points = [(r["x_m"], r["y_m"]) for r in readers]
    points += [(a["x_m"], a["y_m"]) for r in readers for a in r.get("antennas") or []]
    return unary_union([Point(float(x), float(y)).buffer(DEVICE_CLEARANCE_M) for x, y in points])


def _draw_labels(
    canvas: Canvas, zones: dict[str, PlanZone], doors: list[PlanDoor], readers: list[dict[str, Any]],
) -> None:
    devices = _device_obstacles(readers)
    for zone in zones.values():
        if zone.kind in ("ward", "bed"):
            continue
        beds = [z for z in zones.values() if z.kind == "bed" and z.parent == zone.code]
        blocked = [devices] + [bed.polygon.buffer(0.1) for bed in beds]
        blocked += [area for d in doors if zone.code in (d.from_zone, d.to_zone) for area in swing_areas(d, zones)]
        bold = zone.kind in ("room", "bay", "nursery", "nurse_station")
        _place_label(canvas, zone, _label_text(zone), unary_union(blocked), bold=bold)


def _place_label(canvas: Canvas, zone: PlanZone, text: str, blocked: BaseGeometry, *, bold: bool) -> None:
    """The largest font and wrapping whose box fits in the zone's free floor, centred on its pole of inaccessibility."""
    free = zone.polygon.buffer(-LABEL_INSET_M, join_style="mitre").difference(blocked)
    pieces = sorted(_polygons(free), key=lambda p: -p.area)[:3]
    anchors = [polylabel(piece, tolerance=0.05) for piece in pieces]
    colour = MUTED if zone.kind in ("corridor", "toilet", "exit") else INK
    for size in LABEL_SIZES:
        label_font = font(size, bold=bold)
        for block in _wrappings(text):
            left, top, right, bottom = canvas.draw.multiline_textbbox((0, 0), block, font=label_font, spacing=1)
            half_w_m, half_h_m = (right - left) / 2 / canvas.px_per_m, (bottom - top) / 2 / canvas.px_per_m
            for piece, anchor in zip(pieces, anchors, strict=True):
                area = box(anchor.x - half_w_m, anchor.y - half_h_m, anchor.x + half_w_m, anchor.y + half_h_m)
                if piece.covers(area):
                    _text(canvas, zone, block, (float(anchor.x), float(anchor.y)), size, bold, colour)
                    return
    anchor = anchors[0] if anchors else zone.polygon.representative_point()
    _text(canvas, zone, text, (float(anchor.x), float(anchor.y)), LABEL_SIZES[-1], bold, colour)


def _text(canvas: Canvas, zone: PlanZone, block: str, at_m: tuple[float, float], size: int, bold: bool,
          colour: tuple[int, int, int]) -> None:
    xy = canvas.px(*at_m)
    label_font = font(size, bold=bold)
    if zone.kind == "stairs":  # keep the name readable over the treads
        left, top, right, bottom = canvas.draw.multiline_textbbox(xy, block, font=label_font, anchor="mm", spacing=1)
        canvas.draw.rectangle([left - 3, top - 2, right + 3, bottom + 2], fill=kind_fill(zone.kind))
    canvas.draw.multiline_text(xy, block, fill=colour, font=label_font, anchor="mm", align="center", spacing=1)


def _draw_wards(canvas: Canvas, zones: dict[str, PlanZone]) -> None:
    """A dashed boundary just outside each ward, named at its north-west corner."""
    for ward in (zone for zone in zones.values() if zone.kind == "ward"):
        outline = ward.polygon.buffer(0.5, join_style="mitre")
        canvas.dashed(canvas.path(outline.exterior.coords), fill=WARD_PURPLE, width=2, dash_px=10)
        min_x, _, _, max_y = (float(v) for v in outline.bounds)
        canvas.draw.text(canvas.px(min_x, max_y + 0.3), f"Ward {ward.code}  ·  {ward.name}", fill=WARD_PURPLE,
                         font=font(13, bold=True), anchor="ld")


def _summary(zones: dict[str, PlanZone], readers: list[dict[str, Any]]) -> str:
    def count(kind: str) -> int:
        return sum(1 for zone in zones.values() if zone.kind == kind)

    in_rooms = [z for z in zones.values() if z.kind == "bed" and zones[z.parent or ""].kind in ("room", "bay")]
    parts = [(count("room"), "rooms"), (count("bay"), "bays"), (len(in_rooms), "beds"),
             (count("bed") - len(in_rooms), "cots")]
    devices = (("llrp_reader", "RFID readers"), ("ble_gateway", "BLE gateways"), ("uwb_anchor", "UWB anchors"))
    parts += [(sum(1 for r in readers if r["kind"] == kind), label) for kind, label in devices]
    return "  ·  ".join(f"{n} {label if n > 1 else label.removesuffix('s')}" for n, label in parts if n)


def _draw_frame(
    canvas: Canvas, header: dict[str, Any], zones: dict[str, PlanZone], doors: list[PlanDoor],
    readers: list[dict[str, Any]],
) -> None:
    draw_title(canvas, header, _summary(zones, readers))
    symbols = {r["kind"] for r in readers} | {r["protocol"] for r in readers}
    symbols |= {"antenna"} if any(r.get("antennas") for r in readers) else set()
    symbols |= {"exit"} if any(d.is_exit for d in doors) else set()
    symbols |= {"lock"} if any(d.lock_controller for d in doors) else set()
    symbols |= {kind for kind in ("bed", "ward") if any(z.kind == kind for z in zones.values())}
    top_px = canvas.px(0.0, 0.0)[1]
    draw_legend(canvas, legend_entries({z.kind for z in zones.values()}, symbols), top_px=top_px)
    right_px = canvas.image.width - PLAN_MARGIN_PX
    draw_scale_bar(canvas, left_px=right_px - 330, top_px=top_px + 50)
    rotation_deg = float((header["floor"].get("geo_reference") or {}).get("rotation_deg") or 0.0)
    draw_north_arrow(canvas, cx=right_px - 40, cy=top_px + 75, rotation_deg=rotation_deg)
