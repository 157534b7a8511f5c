"""A checked floor file as plain, typed data (geometry as shapely objects in floor metres)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import LineString, Point, Polygon


@dataclass(frozen=True, slots=True)
class FloorHeader:
    site_code: str
    site_name: str
    building_code: str
    building_name: str
    code: str
    level: int
    name: str
    width_m: float
    height_m: float
    control_points: list[dict[str, float]] = field(default_factory=list)
    geo_reference: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    index: int
    code: str
    name: str
    kind: str
    polygon: Polygon
    parent: str | None = None
    ward: str | None = None


@dataclass(frozen=True, slots=True)
class DoorSpec:
    index: int
    code: str
    name: str
    line: LineString
    from_zone: str
    to_zone: str
    is_exit: bool = False
    lock_controller: str = ""


@dataclass(frozen=True, slots=True)
class AntennaSpec:
    port: int
    x_m: float
    y_m: float
    height_m: float = 2.4
    facing_deg: float | None = None
    zone: str | None = None
    door: str | None = None
    side: str = ""


@dataclass(frozen=True, slots=True)
class ReaderSpec:
    index: int
    code: str
    name: str
    kind: str
    protocol: str
    point: Point
    address: str = ""
    topic: str = ""
    hardware_id: str = ""
    height_m: float = 2.5
    enabled: bool = True
    calibration: dict[str, float] = field(default_factory=dict)
    antennas: list[AntennaSpec] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FloorFile:
    header: FloorHeader
    zones: list[ZoneSpec]
    doors: list[DoorSpec]
    readers: list[ReaderSpec]

    def feature_count(self) -> int:
        return len(self.zones) + len(self.doors) + len(self.readers)


def summary(floor_file: FloorFile) -> dict[str, Any]:
    """Counts a person wants to see after a parse: zones by kind, doors, exits, readers by kind."""
    zones: dict[str, int] = {}
    for zone in floor_file.zones:
        zones[zone.kind] = zones.get(zone.kind, 0) + 1
    readers: dict[str, int] = {}
    for reader in floor_file.readers:
        readers[reader.kind] = readers.get(reader.kind, 0) + 1
    exits = sum(1 for door in floor_file.doors if door.is_exit)
    return {"zones": zones, "doors": len(floor_file.doors), "exits": exits, "readers": readers}
