"""Reads about door controllers: which ones guard a floor's exits or hold its elevators, the doors each
serves, the rows the floor maps show (the "doors" message and GET /api/security/doors/?floor=<id>), and
what an emulated controller needs of its row."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q, QuerySet

from floorplans.models import Door
from security.doors.emulator import ControllerSpec
from security.doors.protocol import default_topic, iso_z
from security.models import DoorController

Kind = DoorController.Kind
DOOR_KINDS = (Kind.MAGLOCK, Kind.ACCESS)


def controller_get(*, code: str) -> DoorController | None:
    return DoorController.objects.filter(code=code).first()


def controller_topic(controller: DoorController) -> str:
    """The controller's MQTT base topic (its own, else hospital_iot/doors/<code>)."""
    return controller.topic.strip().rstrip("/") or default_topic(controller.code)


def controller_spec(controller: DoorController) -> ControllerSpec:
    """What an emulated controller (or a bridge running egress.py) needs of the row: kind, topic, how it
    starts, and its egress and held-open times."""
    return ControllerSpec(code=controller.code, kind=controller.kind, topic=controller_topic(controller),
                          egress_delay_s=controller.egress_delay_s, egress_push_s=controller.egress_push_s,
                          held_open_s=controller.held_open_s, locked=controller.locked)


def _doors(*, floor_id: int | None, building_id: int) -> QuerySet[Door]:
    doors = Door.objects.filter(floor__building_id=building_id).exclude(lock_controller="")
    return doors if floor_id is None else doors.filter(floor_id=floor_id)


def exit_controllers(*, floor_id: int | None, building_id: int) -> list[DoorController]:
    """The lock controllers (maglock or access) of the exit doors of a floor, or of every floor of the
    building when floor_id is None."""
    codes = _doors(floor_id=floor_id, building_id=building_id).filter(is_exit=True).values("lock_controller")
    return list(DoorController.objects.filter(code__in=codes, kind__in=DOOR_KINDS).order_by("code"))


def elevator_controllers(*, floor_id: int | None, building_id: int) -> list[DoorController]:
    """The elevator controllers of a floor (or of the whole building): placed on it, or named by one of
    its doors (a lift lobby door)."""
    codes = _doors(floor_id=floor_id, building_id=building_id).values("lock_controller")
    placed = Q(floor__building_id=building_id) if floor_id is None else Q(floor_id=floor_id)
    return list(DoorController.objects.filter(placed | Q(code__in=codes), kind=Kind.ELEVATOR).order_by("code"))


def controller_floor_ids(controller: DoorController) -> set[int]:
    """The floors whose maps show this controller: its own and those of the doors it locks."""
    floors = set(Door.objects.filter(lock_controller=controller.code).values_list("floor_id", flat=True))
    return floors | ({controller.floor_id} if controller.floor_id is not None else set())


def controller_place(controller: DoorController) -> tuple[int | None, float | None, float | None]:
    """Where an alert about the controller goes on the map: (floor id, x_m, y_m) of its first door's
    middle, else its floor and no point."""
    door = Door.objects.filter(lock_controller=controller.code).order_by("floor_id", "code").first()
    if door is None:
        return controller.floor_id, None, None
    middle = door.line.centroid
    return door.floor_id, float(middle.x), float(middle.y)


def door_rows(*, floor_id: int) -> list[dict[str, Any]]:
    """One JSON-safe row per controller shown on the floor, with the codes of its doors on that floor."""
    doors: dict[str, list[str]] = defaultdict(list)
    for code, door_code in (Door.objects.filter(floor_id=floor_id).exclude(lock_controller="")
                            .order_by("code").values_list("lock_controller", "code")):
        doors[code].append(door_code)
    controllers = DoorController.objects.filter(Q(floor_id=floor_id) | Q(code__in=list(doors))).order_by("code")
    return [door_row(controller, doors.get(controller.code, [])) for controller in controllers]


def door_row(controller: DoorController, doors: list[str]) -> dict[str, Any]:
    return {
        "controller": controller.code, "name": controller.name, "kind": controller.kind, "doors": doors,
        "locked": controller.locked, "open": controller.door_open, "forced": controller.forced,
        "held_open": controller.held_open, "held": controller.held, "egress": controller.egress,
        "release_at": iso_z(controller.egress_release_at) if controller.egress_release_at else None,
        "online": controller.online, "state_at": iso_z(controller.state_at) if controller.state_at else None,
    }
