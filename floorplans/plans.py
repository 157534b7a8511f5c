"""Drawing a floor's plan image from its zones, doors and readers, calibrated to the floor."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from floorplans.drawing.mapping import control_points
from floorplans.drawing.render import render_plan
from floorplans.models import Floor
from floorplans.selectors import floor_export
from floorplans.services import floor_calibrate, floor_set_plan_image


def _content_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:12]


def plan_render_for_floor(*, floor: Floor, force: bool = False) -> bool:
    """Render and store the floor's plan image and calibrate it to the drawing; returns True if drawn.

    The image's file name carries a hash of the floor's content, so an unchanged floor is not drawn
    again (unless `force`).
    """
    document = floor_export(floor=floor)
    points = control_points(floor.width_m, floor.height_m)
    document["hospital_iot"]["floor"]["control_points"] = points
    name = f"{floor.building.site.code}-{floor.building.code}-{floor.code}-{_content_hash(document)}.png"
    current = floor.plan_image.name or ""
    if not force and current.endswith(name) and floor.plan_image.storage.exists(current):
        return False
    buffer = io.BytesIO()
    render_plan(document).save(buffer, format="PNG", optimize=True)
    floor_set_plan_image(floor=floor, image=buffer.getvalue(), name=name)
    floor_calibrate(floor=floor, control_points=points)
    return True
