"""Readers placed the way an installer would: RFID portals at doors, BLE gateways on ceilings, UWB anchors on walls."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from shapely.geometry import Point
from shapely.ops import polylabel, unary_union

from floorplans.demo.builder import Antenna, FloorPlan, Reader, Zone

Float = npt.NDArray[np.float64]

LLRP_HOST = "127.0.0.1"
LLRP_READER_HEIGHT_M = 2.2
ANTENNA_HEIGHT_M = 2.4
PORTAL_OFFSET_M = 1.0  # exit-door antennas hang this far either side of the door
STORE_OFFSET_M = 0.6  # store-door antennas hang this far out in the corridor
BLE_HEIGHT_M = 2.7
# what a site survey of the emulated building finds: a tag read at known points of every zone, and a log-distance
# law fitted to what the gateways heard (tests/readers/test_demo_ble_survey.py). The emulated radio
# (readers/emulators/radio.py) gives -59 dBm at 1 m and exponent 2.2 *plus a 4 dB loss per wall crossed*;
# calibrated with its free-space law alone, every reading through a wall looked too far, so fixes were pushed
# out onto the window wall and, near the ends of a wing, into the next room (bed 4W-412-A's bag: room 411)
BLE_CALIBRATION = {"rssi_at_1m_dbm": -60.0, "path_loss_exponent": 2.8, "rssi_offset_db": 0.0}
CORRIDOR_GATEWAY_SPACING_M = 9.0
UWB_HEIGHT_M = 2.4
UWB_CALIBRATION = {"range_bias_m": 0.0}
UWB_CORRIDOR_SPACING_M = 6.0  # with anchors <= 6 m apart every corridor point sees >= 3 within 12 m
UWB_WALL_INSET_M = 0.15
UWB_END_INSET_M = 1.5  # the exit reader boxes hang in the corridor corners
CEILING_WALL_CLEARANCE_M = 0.8
SYMBOL_GAP_M = 1.0  # keep devices this far apart so the plan stays readable
GATEWAY_KINDS = frozenset({
    "room", "bay", "nurse_station", "nursery", "storage", "clean_utility", "dirty_utility", "medication_room",
    "treatment_room", "pharmacy", "workshop", "lobby", "waiting", "loading_dock",
})


@dataclass(frozen=True, slots=True)
class DoorFrame:
    """A door as vectors: midpoint (2,), unit vector along it (2,), unit normal into from_zone (2,)."""

    mid: Float
    along: Float
    into_from: Float
    half_m: float


def door_frame(plan: FloorPlan, door_code: str) -> DoorFrame:
    door = plan.doors[door_code]
    start, end = np.array(door.line.coords[0], dtype=float), np.array(door.line.coords[-1], dtype=float)
    length_m = float(np.linalg.norm(end - start))
    along = (end - start) / length_m
    normal = np.array([-along[1], along[0]])
    mid = (start + end) / 2
    probe = mid + 0.3 * normal
    if not plan.zones[door.from_zone].polygon.contains(Point(float(probe[0]), float(probe[1]))):
        normal = -normal
    return DoorFrame(mid, along, normal, length_m / 2)


def facing_deg(vector: Float) -> float:
    """Direction of `vector`, degrees counter-clockwise from +x."""
    return math.degrees(math.atan2(float(vector[1]), float(vector[0])))


def _device_points(plan: FloorPlan) -> list[tuple[float, float]]:
    points = [(reader.x_m, reader.y_m) for reader in plan.readers.values()]
    points += [(a.x_m, a.y_m) for reader in plan.readers.values() for a in reader.antennas]
    return points


def clear_spot(
    plan: FloorPlan, x_m: float, y_m: float, *, step_x_m: float = 0.25, door_clearance_m: float = 0.0,
) -> tuple[float, float]:
    """(x_m, y_m) slid along x (0, +step, -step, +2 step, ...) until no device is within SYMBOL_GAP_M
    and no door opening within door_clearance_m."""
    taken = _device_points(plan)
    for i in range(80):
        x = x_m + step_x_m * ((i + 1) // 2) * (1 if i % 2 else -1)
        near_device = any(math.hypot(x - tx, y_m - ty) < SYMBOL_GAP_M for tx, ty in taken)
        near_door = any(door.line.distance(Point(x, y_m)) < door_clearance_m for door in plan.doors.values())
        if not near_device and not near_door:
            return x, y_m
    raise ValueError(f"no free spot near ({x_m:.2f}, {y_m:.2f})")


def _ceiling_spot(plan: FloorPlan, zone: Zone) -> tuple[float, float]:
    """The zone's centre, or, when a bed or cot lies under it, the middle of the free floor."""
    beds = [z.polygon for z in plan.zones.values() if z.kind == "bed" and z.parent == zone.code]
    centre = zone.polygon.centroid
    hugs_wall = zone.polygon.exterior.distance(centre) < CEILING_WALL_CLEARANCE_M  # e.g. a U-shaped lobby
    if not zone.polygon.contains(centre) or hugs_wall or any(bed.buffer(0.05).contains(centre) for bed in beds):
        free = zone.polygon.difference(unary_union([bed.buffer(0.5) for bed in beds]))
        centre = polylabel(max(getattr(free, "geoms", [free]), key=lambda part: part.area), tolerance=0.05)
    return clear_spot(plan, float(centre.x), float(centre.y))


def add_exit_reader(plan: FloorPlan, door_code: str, *, port: int) -> None:
    """An RFID portal: antenna 1 inside, antenna 2 outside, PORTAL_OFFSET_M from the door, both facing it."""
    door, frame = plan.doors[door_code], door_frame(plan, door_code)
    inside, outside = frame.mid + PORTAL_OFFSET_M * frame.into_from, frame.mid - PORTAL_OFFSET_M * frame.into_from
    antennas = (
        Antenna(1, float(inside[0]), float(inside[1]), facing_deg(-frame.into_from), door.from_zone, door_code,
                "inside", ANTENNA_HEIGHT_M),
        Antenna(2, float(outside[0]), float(outside[1]), facing_deg(frame.into_from), door.to_zone, door_code,
                "outside", ANTENNA_HEIGHT_M),
    )
    box_at = frame.mid + 0.3 * frame.into_from + (frame.half_m + 0.3) * frame.along  # on the wall by the frame
    plan.add_reader(Reader(
        f"RFID-{door.to_zone}", f"RFID portal {plan.zones[door.to_zone].name}", "llrp_reader", "rfid_llrp",
        float(box_at[0]), float(box_at[1]), LLRP_READER_HEIGHT_M, address=f"{LLRP_HOST}:{port}", antennas=antennas,
    ))


def add_store_reader(plan: FloorPlan, code: str, name: str, door_codes: Sequence[str], *, port: int) -> None:
    """One reader, one antenna per store door on the corridor (from_zone, 'inside') side."""
    antennas = []
    for number, door_code in enumerate(door_codes, start=1):
        door, frame = plan.doors[door_code], door_frame(plan, door_code)
        at = frame.mid + STORE_OFFSET_M * frame.into_from
        antennas.append(Antenna(
            number, float(at[0]), float(at[1]), facing_deg(-frame.into_from), door.from_zone, door_code, "inside",
            ANTENNA_HEIGHT_M,
        ))
    centre_x_m = sum(a.x_m for a in antennas) / len(antennas)
    centre_y_m = sum(a.y_m for a in antennas) / len(antennas)
    x_m, y_m = clear_spot(plan, centre_x_m, centre_y_m)  # cables run in the ceiling void to each antenna
    plan.add_reader(Reader(code, name, "llrp_reader", "rfid_llrp", x_m, y_m, LLRP_READER_HEIGHT_M,
                           address=f"{LLRP_HOST}:{port}", antennas=tuple(antennas)))


def _add_gateway(plan: FloorPlan, code: str, name: str, x_m: float, y_m: float, *, espresense_room: str | None) -> None:
    """ESPresense nodes publish under espresense/devices/<tag>/<room> and are known by their room;
    Minew gateways all publish to one topic and are known by the MAC in their payload."""
    if espresense_room is not None:
        protocol, topic, ident = "ble_espresense", "espresense/devices/#", espresense_room.lower()
    else:
        protocol, topic, ident = "ble_minew", "gw/minew", None
    plan.add_reader(Reader(code, name, "ble_gateway", protocol, x_m, y_m, BLE_HEIGHT_M,
                           calibration=dict(BLE_CALIBRATION), topic=topic, hardware_id=ident))


def add_room_gateways(plan: FloorPlan, *, kinds: frozenset[str] = GATEWAY_KINDS) -> None:
    """An ESPresense node on the ceiling of every zone of `kinds`, at its centre (inside the zone)."""
    for zone in list(plan.zones.values()):
        if zone.kind not in kinds:
            continue
        x_m, y_m = _ceiling_spot(plan, zone)
        _add_gateway(plan, f"BLE-{zone.code}", f"BLE gateway {zone.name}", x_m, y_m, espresense_room=zone.code)


def add_corridor_gateways(plan: FloorPlan) -> None:
    """Minew gateways down the middle of each corridor zone, about CORRIDOR_GATEWAY_SPACING_M apart."""
    for zone in list(plan.zones.values()):
        if zone.kind != "corridor":
            continue
        min_x, min_y, max_x, max_y = (float(v) for v in zone.polygon.bounds)
        count = max(1, round((max_x - min_x) / CORRIDOR_GATEWAY_SPACING_M))
        for i in range(count):
            x_m, y_m = clear_spot(plan, min_x + (max_x - min_x) * (i + 0.5) / count, (min_y + max_y) / 2)
            _add_gateway(plan, f"BLE-{zone.code}-{i + 1}", f"BLE gateway {zone.name} {i + 1}", x_m, y_m,
                         espresense_room=None)


def _add_anchor(plan: FloorPlan, ward: str, x_m: float, y_m: float, where: str) -> None:
    x_m, y_m = clear_spot(plan, x_m, y_m, door_clearance_m=0.4)  # on the wall, not in a doorway
    number = 1 + sum(1 for reader in plan.readers.values() if reader.kind == "uwb_anchor")
    code = f"UWB-{ward}-{number:02d}"
    # the ward's UWB gateway publishes every tag's ranges to all anchors as JSON on uwb/<tag>/ranges
    plan.add_reader(Reader(code, f"UWB anchor {number:02d} ({where})", "uwb_anchor", "uwb_mqtt", x_m, y_m,
                           UWB_HEIGHT_M, calibration=dict(UWB_CALIBRATION), topic="uwb/+/ranges"))


def add_corridor_anchors(plan: FloorPlan, ward: str, *, x0_m: float, x1_m: float, y0_m: float, y1_m: float) -> None:
    """Anchors zig-zagging on the two corridor walls <= UWB_CORRIDOR_SPACING_M apart, paired at both ends."""
    first_m, last_m = x0_m + UWB_END_INSET_M, x1_m - UWB_END_INSET_M
    count = math.ceil((last_m - first_m) / UWB_CORRIDOR_SPACING_M) + 1
    walls = (y0_m + UWB_WALL_INSET_M, y1_m - UWB_WALL_INSET_M)
    for i, x_m in enumerate(np.linspace(first_m, last_m, count)):
        _add_anchor(plan, ward, float(x_m), walls[i % 2], "corridor")
    _add_anchor(plan, ward, first_m, walls[1], "corridor end")
    _add_anchor(plan, ward, last_m, walls[count % 2], "corridor end")


def add_room_anchors(plan: FloorPlan, ward: str, zone_code: str, *, inset_m: float = 0.3) -> None:
    """An anchor in each corner of a rectangular room."""
    zone = plan.zones[zone_code]
    min_x, min_y, max_x, max_y = (float(v) for v in zone.polygon.bounds)
    for x_m, y_m in ((min_x, min_y), (max_x, min_y), (max_x, max_y), (min_x, max_y)):
        _add_anchor(plan, ward, x_m + math.copysign(inset_m, min_x + max_x - 2 * x_m),
                    y_m + math.copysign(inset_m, min_y + max_y - 2 * y_m), zone.name)
