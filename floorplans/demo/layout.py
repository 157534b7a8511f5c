"""The demo hospital, Riverside General Hospital, as floor GeoJSON documents (docs/floor-geojson.md).

    demo_floors() -> [L0, L2, L4]  each a FeatureCollection dict, the same on every call

The floors share one building (bands.py): stairs A and B and the lifts line up on every level.
"""

from __future__ import annotations

from typing import Any, Protocol

from floorplans.demo.builder import FloorInfo, FloorPlan, floor_collection
from floorplans.demo.layout_l0 import build_l0
from floorplans.demo.layout_l2 import build_l2
from floorplans.demo.layout_l4 import build_l4

SITE_CODE, SITE_NAME = "RGH", "Riverside General Hospital"
BUILDING_CODE, BUILDING_NAME = "MAIN", "Main Building"
GEO_REFERENCE = {"origin_lat": 51.5073, "origin_lon": -0.1657, "rotation_deg": 0.0}
FIRST_LLRP_PORT = 15084  # the reader simulator listens on 127.0.0.1, one port per reader


class BuildFloor(Protocol):
    def __call__(self, *, first_llrp_port: int) -> FloorPlan: ...


FLOORS: tuple[tuple[str, int, str, BuildFloor], ...] = (
    ("L0", 0, "Ground floor - Entrance, Pharmacy, Biomedical Engineering", build_l0),
    ("L2", 2, "2 East - Maternity", build_l2),
    ("L4", 4, "4 West - Medical/Surgical", build_l4),
)


def demo_floors() -> list[dict[str, Any]]:
    """Every demo floor as a floor GeoJSON FeatureCollection, lowest level first."""
    collections = []
    port = FIRST_LLRP_PORT
    for code, level, name, build in FLOORS:
        plan = build(first_llrp_port=port)
        port += sum(1 for reader in plan.readers.values() if reader.kind == "llrp_reader")
        info = FloorInfo(SITE_CODE, SITE_NAME, BUILDING_CODE, BUILDING_NAME, code, level, name, dict(GEO_REFERENCE))
        collections.append(floor_collection(plan, info))
    return collections
