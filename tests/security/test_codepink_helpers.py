"""A test floor to lock down: the small 3 North ward with three exits (stairs 1, stairs 2 and the lift lobby,
each on its own maglock), an access-controlled store door that is not an exit, and an elevator bank.
Controller topics carry a per-run suffix, so commands from these tests never reach another test's
emulated doors on the shared broker (they still match hospital_iot/doors/+/cmd)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from floorplans.models import Door, Floor
from floorplans.services import floor_file_check, floor_import
from security.models import DoorController

RUN = uuid.uuid4().hex[:8]
EXITS = ("maglock-3N", "maglock-3N-west", "maglock-3N-lifts")


def _zone(code: str, name: str, kind: str, ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"feature": "zone", "code": code, "name": name, "kind": kind}}


def _door(code: str, name: str, to_zone: str, line: list[list[float]], controller: str) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
            "properties": {"feature": "door", "code": code, "name": name, "from_zone": "3N-C", "to_zone": to_zone,
                           "is_exit": True, "lock_controller": controller}}


def lockdown_doc(floor_doc: dict[str, Any]) -> dict[str, Any]:
    """floor_doc plus a second stairs and a lift lobby, each behind a locked exit."""
    floor_doc["features"] += [
        _zone("ST-2", "Stairs 2", "stairs", [[20, 2], [26, 2], [26, 8], [20, 8], [20, 2]]),
        _zone("LIFTS", "Lift lobby", "elevator_lobby", [[20, 11], [26, 11], [26, 17], [20, 17], [20, 11]]),
        _door("X-2", "Stairs 2 exit", "ST-2", [[21, 8], [23, 8]], "maglock-3N-west"),
        _door("X-L", "Lift lobby exit", "LIFTS", [[21, 11], [23, 11]], "maglock-3N-lifts"),
    ]
    return floor_doc


@dataclass(frozen=True)
class Lockdown:
    floor: Floor
    exits: dict[str, DoorController]
    store: DoorController
    lifts: DoorController


def lockdown_setup(floor_doc: dict[str, Any]) -> Lockdown:
    floor = floor_import(floor_file=floor_file_check(lockdown_doc(floor_doc))).floor
    Door.objects.filter(floor=floor, code="D-ST").update(lock_controller="access-3N-store")

    def controller(code: str, kind: str) -> DoorController:
        return DoorController.objects.create(code=code, name=code.replace("-", " "), kind=kind, floor=floor,
                                             topic=f"hospital_iot/doors/{code}-{RUN}")

    return Lockdown(floor=floor, exits={code: controller(code, "maglock") for code in EXITS},
                    store=controller("access-3N-store", "access"), lifts=controller("lifts-3N", "elevator"))
