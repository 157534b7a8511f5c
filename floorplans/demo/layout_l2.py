"""Level 2, ward 2E (Maternity): 19 mother rooms, a nursery, locked exits and UWB for infant protection."""

from __future__ import annotations

from floorplans.demo.bands import (
    BAND_X0_M,
    BAND_X1_M,
    CORE,
    CORRIDOR_Y0_M,
    CORRIDOR_Y1_M,
    NORTH,
    SOUTH,
    Space,
    Wing,
    add_band,
    add_core,
    add_corridors,
    add_ward,
)
from floorplans.demo.builder import FloorPlan
from floorplans.demo.devices import (
    add_corridor_anchors,
    add_corridor_gateways,
    add_exit_reader,
    add_room_anchors,
    add_room_gateways,
)

WING = Wing(floor="L2", prefix="2E", ward="2E")
EXIT_LOCKS = {"STAIR-A": "maglock-2E-west", "STAIR-B": "maglock-2E-east", "LIFTS": "maglock-2E-lifts"}


def _mother(number: int) -> Space:
    return Space(str(number), f"Room {number}", "room", 4.0, beds=1, toilet=True)


# West to east. Rooms are numbered clockwise: 201-210 along the north side, 211-219 back along the south.
NORTH_BAND = (
    _mother(201), _mother(202), _mother(203), _mother(204), _mother(205),
    Space("OFF", "Ward manager", "office", 3.2),
    Space("STAFF", "Staff room", "staff_room", 3.2),
    CORE,
    Space("CU", "Clean utility", "clean_utility", 3.6),
    _mother(206), _mother(207), _mother(208), _mother(209), _mother(210),
    Space("DU", "Dirty utility", "dirty_utility", 3.6),
)
SOUTH_BAND = (
    _mother(219), _mother(218), _mother(217), _mother(216),
    Space("EXAM", "Examination room", "treatment_room", 4.0),
    Space("NUR", "Nursery", "nursery", 6.4, cots=6, lock_controller="access-2E-nursery"),
    Space("NS", "Nurse station", "nurse_station", 6.4, door_m=2.4),
    Space("MED", "Medication room", "medication_room", 3.6, lock_controller="access-2E-med"),
    _mother(215), _mother(214), _mother(213), _mother(212), _mother(211),
    Space("EQUIP", "Equipment store", "storage", 3.6, door_m=1.4),
)


def build_l2(*, first_llrp_port: int) -> FloorPlan:
    plan = FloorPlan()
    add_corridors(plan, WING)
    add_band(plan, WING, NORTH, NORTH_BAND)
    add_band(plan, WING, SOUTH, SOUTH_BAND)
    add_core(plan, WING, exits=True, locks=EXIT_LOCKS)
    add_ward(plan, WING, "2 East - Maternity")
    for offset, door_code in enumerate(("D-L2-STAIR-A", "D-L2-STAIR-B", "D-L2-LIFTS")):
        add_exit_reader(plan, door_code, port=first_llrp_port + offset)
    add_corridor_anchors(plan, "2E", x0_m=BAND_X0_M, x1_m=BAND_X1_M, y0_m=CORRIDOR_Y0_M, y1_m=CORRIDOR_Y1_M)
    add_room_anchors(plan, "2E", "2E-NUR")
    add_room_gateways(plan)
    add_corridor_gateways(plan)
    return plan
