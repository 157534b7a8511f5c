"""Rules between features: unique codes, references that resolve, beds that do not overlap."""

from __future__ import annotations

from collections.abc import Sequence

from shapely import STRtree

from floorplans.floorfile.errors import FeatureError
from floorplans.floorfile.specs import DoorSpec, ReaderSpec, ZoneSpec

OVERLAP_AREA_M2 = 1e-4  # beds may share an edge; 1 cm² of common area is an overlap
DOOR_TOLERANCE_M = 0.5  # a door line must come this close to the zones it joins


def check_cross_references(
    zones: Sequence[ZoneSpec], doors: Sequence[DoorSpec], readers: Sequence[ReaderSpec]
) -> list[FeatureError]:
    errors = _duplicates(zones) + _duplicates(doors) + _duplicates(readers)
    by_code = {zone.code: zone for zone in zones}
    errors += _zone_references(zones, by_code)
    errors += _bed_overlaps([zone for zone in zones if zone.kind == "bed"])
    errors += _door_references(doors, by_code)
    door_codes = {door.code for door in doors}
    for reader in readers:
        for antenna in reader.antennas:
            if antenna.zone and antenna.zone not in by_code:
                errors.append(
                    FeatureError(reader.index, reader.code, f"antenna {antenna.port}: unknown zone {antenna.zone!r}")
                )
            if antenna.door and antenna.door not in door_codes:
                errors.append(
                    FeatureError(reader.index, reader.code, f"antenna {antenna.port}: unknown door {antenna.door!r}")
                )
        ports = [antenna.port for antenna in reader.antennas]
        if len(ports) != len(set(ports)):
            errors.append(FeatureError(reader.index, reader.code, f"antenna ports repeat: {sorted(ports)}"))
    return errors


def _duplicates(specs: Sequence[ZoneSpec | DoorSpec | ReaderSpec]) -> list[FeatureError]:
    first: dict[str, int] = {}
    errors = []
    for spec in specs:
        if spec.code in first:
            errors.append(FeatureError(spec.index, spec.code, f"code repeats feature {first[spec.code]}"))
        first.setdefault(spec.code, spec.index)
    return errors


def _zone_references(zones: Sequence[ZoneSpec], by_code: dict[str, ZoneSpec]) -> list[FeatureError]:
    errors = []
    for zone in zones:
        if zone.parent is not None:
            parent = by_code.get(zone.parent)
            if parent is None:
                errors.append(FeatureError(zone.index, zone.code, f"unknown parent zone {zone.parent!r}"))
            elif parent.code == zone.code:
                errors.append(FeatureError(zone.index, zone.code, "a zone cannot be its own parent"))
            elif not parent.polygon.buffer(0.05).covers(zone.polygon):
                errors.append(FeatureError(zone.index, zone.code, f"lies outside its parent zone {zone.parent!r}"))
        if zone.ward is not None:
            ward = by_code.get(zone.ward)
            if zone.kind == "ward":
                errors.append(FeatureError(zone.index, zone.code, "a ward cannot belong to a ward"))
            elif ward is None or ward.kind != "ward":
                errors.append(FeatureError(zone.index, zone.code, f"ward {zone.ward!r} is not a zone of kind ward"))
    return errors


def _bed_overlaps(beds: Sequence[ZoneSpec]) -> list[FeatureError]:
    tree = STRtree([bed.polygon for bed in beds])
    errors = []
    for i, bed in enumerate(beds):
        for j in tree.query(bed.polygon, predicate="intersects"):
            other = beds[int(j)]
            if int(j) < i and (area := bed.polygon.intersection(other.polygon).area) > OVERLAP_AREA_M2:
                reason = f"bed overlaps bed {other.code!r} (feature {other.index}) by {area:.2f} m²"
                errors.append(FeatureError(bed.index, bed.code, reason))
    return errors


def _door_references(doors: Sequence[DoorSpec], by_code: dict[str, ZoneSpec]) -> list[FeatureError]:
    errors = []
    for door in doors:
        for side in (door.from_zone, door.to_zone):
            zone = by_code.get(side)
            if zone is None:
                errors.append(FeatureError(door.index, door.code, f"unknown zone {side!r}"))
            elif zone.polygon.exterior.distance(door.line) > DOOR_TOLERANCE_M:
                gap = zone.polygon.exterior.distance(door.line)
                errors.append(
                    FeatureError(
                        door.index, door.code, f"is {gap:.2f} m from zone {side!r}; a door must lie on its wall"
                    )
                )
        if door.from_zone == door.to_zone:
            errors.append(FeatureError(door.index, door.code, "from_zone and to_zone are the same zone"))
    return errors
