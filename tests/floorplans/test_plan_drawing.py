"""The demo plan renderer (pure, no database): size, placement by control points, determinism."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import shape

from floorplans.demo.layout import demo_floors
from floorplans.drawing.mapping import plan_size_px
from floorplans.drawing.render import render_plan
from floorplans.drawing.render_base import BACKGROUND, EXIT_RED, kind_fill

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def floors() -> dict[str, Doc]:
    return {doc["hospital_iot"]["floor"]["code"]: doc for doc in demo_floors()}


@pytest.fixture(scope="module")
def plans(floors: dict[str, Doc]) -> dict[str, Image.Image]:
    return {code: render_plan(doc) for code, doc in floors.items()}


def to_px(doc: Doc, x_m: float, y_m: float) -> tuple[int, int]:
    """Metres -> pixel through an affine fitted to the header's control points (independent of the renderer)."""
    points = doc["hospital_iot"]["floor"]["control_points"]
    design = np.array([[p["x_m"], p["y_m"], 1.0] for p in points])
    pixels = np.array([[p["px"], p["py"]] for p in points])
    transform, *_ = np.linalg.lstsq(design, pixels, rcond=None)
    px, py = np.array([x_m, y_m, 1.0]) @ transform
    return round(float(px)), round(float(py))


def zone_polygon(doc: Doc, code: str) -> Any:
    return next(shape(f["geometry"]) for f in doc["features"] if f["properties"]["code"] == code)


@pytest.mark.parametrize("code", ["L0", "L2", "L4"])
def test_it_renders_an_rgb_image_the_size_of_the_floor_extent(plans: dict[str, Image.Image], floors: dict[str, Doc],
                                                              code: str) -> None:
    floor = floors[code]["hospital_iot"]["floor"]
    assert plans[code].mode == "RGB"
    assert plans[code].size == plan_size_px(floor["width_m"], floor["height_m"])


@pytest.mark.parametrize(("code", "zone", "kind"), [
    ("L4", "4W-NS", "nurse_station"),
    ("L2", "2E-MED", "medication_room"),
    ("L0", "L0-PHARM", "pharmacy"),
])
def test_it_fills_a_zone_where_the_control_points_put_it(
    plans: dict[str, Image.Image], floors: dict[str, Doc], code: str, zone: str, kind: str,
) -> None:
    min_x, min_y, _, _ = zone_polygon(floors[code], zone).bounds
    inside = to_px(floors[code], min_x + 0.6, min_y + 0.6)  # clear of walls, labels and devices
    assert plans[code].getpixel(inside) == kind_fill(kind) != BACKGROUND
    assert plans[code].getpixel(to_px(floors[code], 1.0, 1.0)) == BACKGROUND  # off the building


def test_it_follows_the_control_points_of_the_file(floors: dict[str, Doc]) -> None:
    moved = copy.deepcopy(floors["L4"])
    for point in moved["hospital_iot"]["floor"]["control_points"]:
        point["px"] += 40  # the whole plan 40 px to the right
    _, min_y, max_x, _ = zone_polygon(moved, "4W-NS").bounds
    px, py = to_px(moved, max_x - 0.6, min_y + 0.6)  # by its east wall: next door without the shift
    assert render_plan(moved).getpixel((px, py)) == kind_fill("nurse_station")
    assert render_plan(floors["L4"]).getpixel((px, py)) != kind_fill("nurse_station")


def test_it_draws_exit_doors_in_red(plans: dict[str, Image.Image], floors: dict[str, Doc]) -> None:
    (x0, y0), (x1, y1) = next(f["geometry"]["coordinates"] for f in floors["L4"]["features"]
                              if f["properties"]["code"] == "D-L4-STAIR-A")
    assert plans["L4"].getpixel(to_px(floors["L4"], (x0 + x1) / 2, (y0 + y1) / 2 + 0.3)) == EXIT_RED


def test_it_draws_the_title_and_legend_bands(plans: dict[str, Image.Image]) -> None:
    plan = np.asarray(plans["L2"])
    title_band, legend_band = plan[:60], plan[-140:]
    assert (title_band != BACKGROUND).any(axis=2).sum() > 500
    assert (legend_band != BACKGROUND).any(axis=2).sum() > 2000


def test_it_renders_the_same_bytes_every_time(floors: dict[str, Doc]) -> None:
    first, second = render_plan(floors["L2"]), render_plan(copy.deepcopy(floors["L2"]))
    assert first.tobytes() == second.tobytes()
