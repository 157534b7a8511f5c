"""Collect one floor's zones, doors and readers as shapely geometry, then emit floor GeoJSON.

The emitted document follows docs/floor-geojson.md: floor-local metres rounded to COORD_DECIMALS,
polygons closed with the exterior ring counter-clockwise (holes clockwise), optional properties
left out when they have no value.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import LineString, Polygon
from shapely.geometry.polygon import orient

from floorplans.drawing.mapping import control_points

COORD_DECIMALS = 2
EXTENT_MARGIN_M = 4.0  # free floor around the building on the right and top (the left/bottom margin is built in)
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Zone:
    code: str
    name: str
    kind: str
    polygon: Polygon
    parent: str | None = None
    ward: str | None = None


@dataclass(frozen=True, slots=True)
class Door:
    code: str
    name: str
    line: LineString
    from_zone: str
    to_zone: str
    is_exit: bool = False
    lock_controller: str | None = None


@dataclass(frozen=True, slots=True)
class Antenna:
    port: int
    x_m: float
    y_m: float
    facing_deg: float
    zone: str
    door: str
    side: str
    height_m: float = 2.4


@dataclass(frozen=True, slots=True)
class Reader:
    code: str
    name: str
    kind: str
    protocol: str
    x_m: float
    y_m: float
    height_m: float
    calibration: dict[str, float] = field(default_factory=dict)
    address: str | None = None
    topic: str | None = None
    antennas: tuple[Antenna, ...] = ()
    hardware_id: str | None = None  # what the device calls itself; derived from the code when None


@dataclass(frozen=True, slots=True)
class FloorInfo:
    site_code: str
    site_name: str
    building_code: str
    building_name: str
    code: str
    level: int
    name: str
    geo_reference: dict[str, float]


class FloorPlan:
    """Mutable collector for one floor; codes are unique per feature type."""

    def __init__(self) -> None:
        self.zones: dict[str, Zone] = {}
        self.doors: dict[str, Door] = {}
        self.readers: dict[str, Reader] = {}

    def add_zone(self, zone: Zone) -> Zone:
        if zone.code in self.zones:
            raise ValueError(f"zone code {zone.code!r} repeats")
        self.zones[zone.code] = zone
        return zone

    def replace_zone(self, zone: Zone) -> None:
        if zone.code not in self.zones:
            raise KeyError(zone.code)
        self.zones[zone.code] = zone

    def add_door(self, door: Door) -> Door:
        if door.code in self.doors:
            raise ValueError(f"door code {door.code!r} repeats")
        self.doors[door.code] = door
        return door

    def add_reader(self, reader: Reader) -> Reader:
        if reader.code in self.readers:
            raise ValueError(f"reader code {reader.code!r} repeats")
        self.readers[reader.code] = reader
        return reader


def floor_collection(plan: FloorPlan, info: FloorInfo) -> dict[str, Any]:
    """The floor GeoJSON FeatureCollection of a finished plan (wards first, beds last)."""
    width_m, height_m = _extent_m(plan)
    rank = {"ward": 0, "bed": 2}
    zones = sorted(plan.zones.values(), key=lambda zone: rank.get(zone.kind, 1))
    features = [_zone_feature(zone) for zone in zones]
    features += [_door_feature(door) for door in plan.doors.values()]
    features += [_reader_feature(reader) for reader in plan.readers.values()]
    return {
        "type": "FeatureCollection",
        "hospital_iot": {
            "format": FORMAT_VERSION,
            "site": {"code": info.site_code, "name": info.site_name},
            "building": {"code": info.building_code, "name": info.building_name},
            "floor": {
                "code": info.code,
                "level": info.level,
                "name": info.name,
                "width_m": width_m,
                "height_m": height_m,
                "control_points": control_points(width_m, height_m),
                "geo_reference": dict(info.geo_reference),
            },
        },
        "features": features,
    }


def _extent_m(plan: FloorPlan) -> tuple[float, float]:
    """Whole metres covering every zone plus EXTENT_MARGIN_M."""
    max_x_m = max(zone.polygon.bounds[2] for zone in plan.zones.values())
    max_y_m = max(zone.polygon.bounds[3] for zone in plan.zones.values())
    return float(math.ceil(max_x_m + EXTENT_MARGIN_M)), float(math.ceil(max_y_m + EXTENT_MARGIN_M))


def _r(value: float) -> float:
    return round(float(value), COORD_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _ring(coords: Any) -> list[list[float]]:
    """Rounded, closed ring without repeated consecutive points."""
    ring: list[list[float]] = []
    for x, y in coords:
        point = [_r(x), _r(y)]
        if not ring or point != ring[-1]:
            ring.append(point)
    if ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    return ring


def polygon_coordinates(polygon: Polygon) -> list[list[list[float]]]:
    """GeoJSON Polygon coordinates: exterior counter-clockwise, holes clockwise (RFC 7946 3.1.6)."""
    oriented = orient(polygon, sign=1.0)
    return [_ring(oriented.exterior.coords)] + [_ring(hole.coords) for hole in oriented.interiors]


def _optional(properties: dict[str, Any], **values: Any) -> dict[str, Any]:
    properties.update({key: value for key, value in values.items() if value is not None})
    return properties


def _zone_feature(zone: Zone) -> dict[str, Any]:
    properties = {"feature": "zone", "code": zone.code, "name": zone.name, "kind": zone.kind}
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": polygon_coordinates(zone.polygon)},
        "properties": _optional(properties, parent=zone.parent, ward=zone.ward),
    }


def _door_feature(door: Door) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "feature": "door", "code": door.code, "name": door.name,
        "from_zone": door.from_zone, "to_zone": door.to_zone, "is_exit": door.is_exit,
    }
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[_r(x), _r(y)] for x, y in door.line.coords]},
        "properties": _optional(properties, lock_controller=door.lock_controller),
    }


def _antenna(antenna: Antenna) -> dict[str, Any]:
    return {
        "port": antenna.port, "x_m": _r(antenna.x_m), "y_m": _r(antenna.y_m), "height_m": antenna.height_m,
        "facing_deg": _r(antenna.facing_deg), "zone": antenna.zone, "door": antenna.door, "side": antenna.side,
    }


def hardware_id(reader: Reader) -> str:
    """The id the device reports itself by, stable for its code: a gateway's MAC (Minew-style
    AC233FC0xxxx), a UWB anchor's 4-hex-digit short id, an RFID reader's serial."""
    if reader.hardware_id:
        return reader.hardware_id
    digest = zlib.crc32(reader.code.encode())
    if reader.kind == "ble_gateway":
        return f"AC233FC0{digest & 0xFFFF:04X}"
    if reader.kind == "uwb_anchor":
        return f"{digest & 0xFFFF:04X}"
    return f"SN{digest:08X}"


def _reader_feature(reader: Reader) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "feature": "reader", "code": reader.code, "name": reader.name, "kind": reader.kind,
        "protocol": reader.protocol, "height_m": reader.height_m, "enabled": True,
    }
    _optional(properties, address=reader.address, topic=reader.topic, hardware_id=hardware_id(reader))
    if reader.calibration:
        properties["calibration"] = dict(reader.calibration)
    if reader.antennas:
        properties["antennas"] = [_antenna(antenna) for antenna in reader.antennas]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [_r(reader.x_m), _r(reader.y_m)]},
        "properties": properties,
    }
