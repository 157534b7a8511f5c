"""Level 0: main entrance and lobby, pharmacy, Biomedical Engineering, central stores and the loading dock."""

from __future__ import annotations

from shapely.geometry import box

from floorplans.demo.bands import (
    CORE,
    NORTH,
    NORTH_Y1_M,
    SOUTH,
    SOUTH_Y0_M,
    Space,
    Wing,
    add_band,
    add_core,
    add_corridors,
    as_polygon,
    horizontal,
)
from floorplans.demo.builder import Door, FloorPlan, Zone
from floorplans.demo.devices import add_corridor_gateways, add_exit_reader, add_room_gateways, add_store_reader

WING = Wing(floor="L0", prefix="L0", ward=None)
ENTRANCE_X0_M, ENTRANCE_X1_M, ENTRANCE_DEPTH_M = 30.6, 36.6, 3.0
DOCK_X0_M, DOCK_X1_M, YARD_DEPTH_M = 56.0, 69.0, 4.0

# West to east.
NORTH_BAND = (
    Space("BME", "Biomedical Engineering workshop", "workshop", 12.0, door_m=1.8),
    Space("STORE", "Central equipment store", "storage", 10.0, door_m=1.8),
    Space("BMEOFF", "Biomed office", "office", 4.4),
    CORE,
    Space("CHANGE", "Staff changing", "staff_room", 6.0),
    Space("LINEN", "Linen store", "storage", 4.2, door_m=1.4),
    Space("WASTE", "Waste hold", "other", 4.0, door_m=1.4),
    Space("DOCK", "Loading dock", "loading_dock", DOCK_X1_M - DOCK_X0_M, door_m=2.4),
)
SOUTH_BAND = (
    Space("PHARM", "Pharmacy", "pharmacy", 10.4, lock_controller="access-L0-pharmacy"),
    Space("WAIT", "Waiting area", "waiting", 6.0, door_m=2.4),
    Space("LOBBY", "Main lobby", "lobby", 16.4, door_m=3.0),
    Space("CAFE", "Cafe", "other", 6.0, door_m=1.8),
    Space("WC", "Public toilets", "toilet", 3.6),
    Space("SEC", "Security office", "office", 3.6),
    Space("CU", "Clean utility", "clean_utility", 3.6),
    Space("DU", "Dirty utility", "dirty_utility", 3.6),
    Space("PORT", "Porters' office", "office", 6.8),
)


def _add_entrance(plan: FloorPlan) -> None:
    """A draught lobby cut into the main lobby's south wall, opening onto the forecourt."""
    lobby = plan.zones["L0-LOBBY"]
    vestibule = box(ENTRANCE_X0_M, SOUTH_Y0_M, ENTRANCE_X1_M, SOUTH_Y0_M + ENTRANCE_DEPTH_M)
    plan.replace_zone(Zone(lobby.code, lobby.name, lobby.kind, as_polygon(lobby.polygon.difference(vestibule))))
    plan.add_zone(Zone("L0-ENT", "Main entrance", "entrance", vestibule))
    forecourt = box(ENTRANCE_X0_M - 2.0, SOUTH_Y0_M - 3.0, ENTRANCE_X1_M + 2.0, SOUTH_Y0_M)
    plan.add_zone(Zone("L0-FORECOURT", "Entrance forecourt", "exit", forecourt))
    mid_m = (ENTRANCE_X0_M + ENTRANCE_X1_M) / 2
    inner = horizontal(mid_m - 1.2, mid_m + 1.2, SOUTH_Y0_M + ENTRANCE_DEPTH_M)
    plan.add_door(Door("D-L0-ENT", "Main entrance inner doors", inner, "L0-LOBBY", "L0-ENT"))
    outer = horizontal(mid_m - 1.2, mid_m + 1.2, SOUTH_Y0_M)
    plan.add_door(Door("D-L0-FORECOURT", "Main entrance doors", outer, "L0-ENT", "L0-FORECOURT", is_exit=True))


def _add_yard(plan: FloorPlan) -> None:
    """The service yard behind the loading dock, reached through a roller shutter."""
    yard = box(DOCK_X0_M, NORTH_Y1_M, DOCK_X1_M, NORTH_Y1_M + YARD_DEPTH_M)
    plan.add_zone(Zone("L0-YARD", "Service yard", "exit", yard))
    mid_m = (DOCK_X0_M + DOCK_X1_M) / 2
    shutter = horizontal(mid_m - 1.5, mid_m + 1.5, NORTH_Y1_M)
    plan.add_door(Door("D-L0-YARD", "Loading dock shutter", shutter, "L0-DOCK", "L0-YARD", is_exit=True))


def build_l0(*, first_llrp_port: int) -> FloorPlan:
    plan = FloorPlan()
    add_corridors(plan, WING)
    add_band(plan, WING, NORTH, NORTH_BAND)
    add_band(plan, WING, SOUTH, SOUTH_BAND)
    add_core(plan, WING, exits=False)
    _add_entrance(plan)
    _add_yard(plan)
    add_exit_reader(plan, "D-L0-FORECOURT", port=first_llrp_port)
    add_exit_reader(plan, "D-L0-YARD", port=first_llrp_port + 1)
    add_store_reader(plan, "RFID-L0-STORES", "RFID store doors L0", ("D-L0-STORE", "D-L0-DOCK"),
                     port=first_llrp_port + 2)
    add_room_gateways(plan)
    add_corridor_gateways(plan)
    return plan
