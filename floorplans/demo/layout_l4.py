"""Level 4, ward 4W (Medical/Surgical): 17 patient rooms and a 4-bed bay along a double-loaded corridor."""

from __future__ import annotations

from floorplans.demo.bands import CORE, NORTH, SOUTH, Space, Wing, add_band, add_core, add_corridors, add_ward
from floorplans.demo.builder import FloorPlan
from floorplans.demo.devices import add_corridor_gateways, add_exit_reader, add_room_gateways, add_store_reader

WING = Wing(floor="L4", prefix="4W", ward="4W")


def _single(number: int) -> Space:
    return Space(str(number), f"Room {number}", "room", 4.0, beds=1, toilet=True)


def _double(number: int) -> Space:
    return Space(str(number), f"Room {number}", "room", 6.0, beds=2, toilet=True)


# West to east. Rooms are numbered clockwise: 401-410 along the north side, 411-418 back along the south.
NORTH_BAND = (
    _single(401), _single(402), _single(403), _single(404), _double(405),
    Space("STAFF", "Staff room", "staff_room", 4.4),
    CORE,
    Space("CU", "Clean utility", "clean_utility", 3.6),
    _single(406), _single(407), _single(408), _single(409), _single(410),
    Space("EQUIP", "Equipment store", "storage", 3.6, door_m=1.4),
)
SOUTH_BAND = (
    Space("418", "Bay 418", "bay", 9.6, beds=4, toilet=True, door_m=1.8),
    _single(417), _single(416), _single(415),
    Space("TR", "Treatment room", "treatment_room", 4.8),
    Space("NS", "Nurse station", "nurse_station", 6.4, door_m=2.4),
    Space("MED", "Medication room", "medication_room", 3.6, lock_controller="access-4W-med"),
    Space("DU", "Dirty utility", "dirty_utility", 3.6),
    _double(414), _single(413), _single(412), _single(411),
    Space("CLEAN", "Cleaner's store", "other", 2.0, door_m=0.9),
)


def build_l4(*, first_llrp_port: int) -> FloorPlan:
    plan = FloorPlan()
    add_corridors(plan, WING)
    add_band(plan, WING, NORTH, NORTH_BAND)
    add_band(plan, WING, SOUTH, SOUTH_BAND)
    add_core(plan, WING, exits=True)
    add_ward(plan, WING, "4 West - Medical/Surgical")
    exits = ("D-L4-STAIR-A", "D-L4-STAIR-B", "D-L4-LIFTS")
    for offset, door_code in enumerate(exits):
        add_exit_reader(plan, door_code, port=first_llrp_port + offset)
    add_store_reader(plan, "RFID-4W-STORES", "RFID store doors 4W", ("D-4W-CU", "D-4W-DU", "D-4W-EQUIP"),
                     port=first_llrp_port + len(exits))
    add_room_gateways(plan)
    add_corridor_gateways(plan)
    return plan
