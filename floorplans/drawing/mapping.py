"""The one pixel <-> metre mapping shared by the demo floor files and their plan images.

A plan image is the floor extent at PLAN_PX_PER_M, framed by margins: a title band on top, a
legend band below, PLAN_MARGIN_PX left and right. Pixels run right and down, metres right and up:
    px = PLAN_MARGIN_PX + x_m * PLAN_PX_PER_M
    py = PLAN_TITLE_PX + (height_m - y_m) * PLAN_PX_PER_M
The floor header's control_points are three corners of the extent through this mapping.
"""

from __future__ import annotations

PLAN_PX_PER_M = 24
PLAN_MARGIN_PX = 40
PLAN_TITLE_PX = 70
PLAN_LEGEND_PX = 150


def metres_to_px(x_m: float, y_m: float, *, height_m: float) -> tuple[float, float]:
    """Floor metres (y up) -> plan pixels (y down) for a floor `height_m` tall."""
    return PLAN_MARGIN_PX + x_m * PLAN_PX_PER_M, PLAN_TITLE_PX + (height_m - y_m) * PLAN_PX_PER_M


def plan_size_px(width_m: float, height_m: float) -> tuple[int, int]:
    """(width, height) in pixels of the plan image of a floor extent."""
    return (
        round(2 * PLAN_MARGIN_PX + width_m * PLAN_PX_PER_M),
        round(PLAN_TITLE_PX + height_m * PLAN_PX_PER_M + PLAN_LEGEND_PX),
    )


def control_points(width_m: float, height_m: float) -> list[dict[str, float]]:
    """Three non-collinear corners of the extent as header control points (px, py, x_m, y_m)."""
    points = []
    for x_m, y_m in ((0.0, 0.0), (width_m, 0.0), (width_m, height_m)):
        px, py = metres_to_px(x_m, y_m, height_m=height_m)
        points.append({"px": px, "py": py, "x_m": x_m, "y_m": y_m})
    return points
