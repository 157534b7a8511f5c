"""Drawing basics for the plan renderer: the canvas (metres -> pixels), fonts, colours by zone kind."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont
from shapely.geometry import LineString, Polygon, shape

Float = npt.NDArray[np.float64]
GeometryT = TypeVar("GeometryT", Polygon, LineString)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Rgb = tuple[int, int, int]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
BACKGROUND: Rgb = (255, 255, 255)
INK: Rgb = (34, 34, 34)
MUTED: Rgb = (105, 105, 105)
WALL: Rgb = (38, 38, 38)
EXIT_RED: Rgb = (211, 32, 39)
LOCK_AMBER: Rgb = (196, 112, 0)
WARD_PURPLE: Rgb = (123, 63, 160)
LLRP_NAVY: Rgb = (27, 42, 107)
ANTENNA_ORANGE: Rgb = (236, 120, 0)
BLE_BLUE: Rgb = (21, 101, 192)
UWB_MAGENTA: Rgb = (194, 24, 91)
BED_FILL: Rgb = (255, 255, 255)
PILLOW_FILL: Rgb = (214, 222, 235)

# Fill colour and legend text of every zone kind of docs/floor-geojson.md.
KIND_STYLE: dict[str, tuple[Rgb, str]] = {
    "room": ((214, 234, 248), "Patient room"),
    "bay": ((190, 222, 245), "Patient bay"),
    "nursery": ((252, 215, 227), "Nursery"),
    "corridor": ((242, 240, 234), "Corridor"),
    "nurse_station": ((255, 226, 158), "Nurse station"),
    "medication_room": ((255, 196, 160), "Medication room"),
    "treatment_room": ((206, 236, 212), "Treatment / exam"),
    "clean_utility": ((200, 235, 230), "Clean utility"),
    "dirty_utility": ((222, 207, 190), "Dirty utility"),
    "storage": ((224, 219, 240), "Storage"),
    "staff_room": ((236, 230, 200), "Staff room"),
    "office": ((229, 229, 229), "Office"),
    "toilet": ((232, 244, 250), "Toilet / en-suite"),
    "stairs": ((208, 208, 208), "Stairs"),
    "elevator_lobby": ((226, 226, 214), "Lift lobby"),
    "elevator": ((180, 180, 180), "Lift"),
    "lobby": ((250, 238, 214), "Lobby"),
    "waiting": ((248, 232, 200), "Waiting area"),
    "entrance": ((255, 214, 206), "Entrance"),
    "exit": ((228, 236, 224), "Outside"),
    "pharmacy": ((210, 240, 196), "Pharmacy"),
    "workshop": ((210, 220, 232), "Workshop"),
    "loading_dock": ((226, 214, 200), "Loading dock"),
    "ward": ((255, 255, 255), "Ward"),
    "bed": (BED_FILL, "Bed"),
    "other": ((238, 238, 238), "Other"),
}


def kind_fill(kind: str) -> Rgb:
    return KIND_STYLE.get(kind, KIND_STYLE["other"])[0]


@functools.cache
def font(size: int, *, bold: bool = False) -> Font:
    """DejaVu Sans when installed (fonts-dejavu-core), else Pillow's built-in font at that size."""
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size=size)


@dataclass(frozen=True, slots=True)
class PlanZone:
    code: str
    name: str
    kind: str
    polygon: Polygon
    parent: str | None


@dataclass(frozen=True, slots=True)
class PlanDoor:
    code: str
    line: LineString
    from_zone: str
    to_zone: str
    is_exit: bool
    lock_controller: str | None


def _shape(geometry: dict[str, Any], expected: type[GeometryT]) -> GeometryT:
    geom = shape(geometry)
    if not isinstance(geom, expected):
        raise ValueError(f"expected a {expected.__name__}, got {geom.geom_type}")
    return geom


def read_zones(collection: dict[str, Any]) -> dict[str, PlanZone]:
    return {
        f["properties"]["code"]: PlanZone(
            f["properties"]["code"], f["properties"]["name"], f["properties"]["kind"], _shape(f["geometry"], Polygon),
            f["properties"].get("parent") or None,
        )
        for f in collection["features"] if f["properties"]["feature"] == "zone"
    }


def read_doors(collection: dict[str, Any]) -> list[PlanDoor]:
    return [
        PlanDoor(
            f["properties"]["code"], _shape(f["geometry"], LineString),
            f["properties"]["from_zone"], f["properties"]["to_zone"],
            bool(f["properties"].get("is_exit", False)), f["properties"].get("lock_controller") or None,
        )
        for f in collection["features"] if f["properties"]["feature"] == "door"
    ]


def read_readers(collection: dict[str, Any]) -> list[dict[str, Any]]:
    """Reader features' properties, with the point added as x_m / y_m."""
    readers = []
    for f in collection["features"]:
        if f["properties"]["feature"] == "reader":
            x_m, y_m = f["geometry"]["coordinates"]
            readers.append({**f["properties"], "x_m": float(x_m), "y_m": float(y_m)})
    return readers


def plan_transform(control_points: list[dict[str, float]]) -> Float:
    """The (2, 3) matrix M with [px, py] = M [x_m, y_m, 1], fitted to the header's control points.

    3+ points: least-squares affine.  2 points: similarity with the y flip of an image,
    px = a x + b y + c,  py = b x - a y + d  (4 unknowns, 4 equations).
    """
    metres = np.array([[p["x_m"], p["y_m"]] for p in control_points], dtype=float)
    pixels = np.array([[p["px"], p["py"]] for p in control_points], dtype=float)
    if len(control_points) >= 3:
        design = np.column_stack([metres, np.ones(len(metres))])
        solution, *_ = np.linalg.lstsq(design, pixels, rcond=None)
        return np.asarray(solution.T, dtype=float)
    if len(control_points) == 2:
        rows = []
        for (x, y), (px, py) in zip(metres, pixels, strict=True):
            rows += [([x, y, 1.0, 0.0], px), ([-y, x, 0.0, 1.0], py)]
        a, b, c, d = np.linalg.solve(np.array([r for r, _ in rows]), np.array([v for _, v in rows]))
        return np.array([[a, b, c], [b, -a, d]])
    raise ValueError(f"need >= 2 control points, got {len(control_points)}")


@dataclass(frozen=True, slots=True)
class Canvas:
    """An image with the floor's control-point transform: metres in, pixels out."""

    image: Image.Image
    draw: ImageDraw.ImageDraw
    transform: Float

    def px(self, x_m: float, y_m: float) -> tuple[float, float]:
        px, py = self.transform @ np.array([x_m, y_m, 1.0])
        return float(px), float(py)

    def path(self, coords: Iterable[Any]) -> list[tuple[float, float]]:
        return [self.px(float(x), float(y)) for x, y in coords]

    @property
    def px_per_m(self) -> float:
        return math.sqrt(abs(float(np.linalg.det(self.transform[:, :2]))))

    def polygon(self, polygon: Polygon, *, fill: Rgb | None = None, outline: Rgb | None = None, width: int = 1) -> None:
        if fill is not None:
            self.draw.polygon(self.path(polygon.exterior.coords), fill=fill)
            for hole in polygon.interiors:
                self.draw.polygon(self.path(hole.coords), fill=BACKGROUND)
        if outline is not None:
            for ring in (polygon.exterior, *polygon.interiors):
                self.draw.line(self.path(ring.coords), fill=outline, width=width, joint="curve")

    def dashed(self, points: list[tuple[float, float]], *, fill: Rgb, width: int, dash_px: float = 8.0) -> None:
        """A dashed polyline in pixels (Pillow has none): dash_px on, dash_px off."""
        on, carry = True, 0.0
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
            at = 0.0
            while at < length:
                step = min(dash_px - carry, length - at)
                if on:
                    a, b = at / length, (at + step) / length
                    self.draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                                   fill=fill, width=width)
                at += step
                carry += step
                if carry >= dash_px - 1e-9:
                    on, carry = not on, 0.0
