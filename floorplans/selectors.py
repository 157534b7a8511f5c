"""Reads of the spatial model: which zone holds a point, what is near, and a floor as GeoJSON."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db.models import F, FloatField, Func, QuerySet, Value

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Door, Floor, Zone
from readers.models import Reader

# smaller zones first: a bed before its room, a room before its ward
_SPECIFIC_FIRST = ("area", "pk")


class KnnDistance(Func):
    """PostGIS `column <-> point`: distance ordering that the GiST index answers (true distance).

    The point goes in as EWKT text so the operator gets a plain parameter, not an adapted geometry.
    """

    arg_joiner = " <-> "
    template = "(%(expressions)s)"
    output_field = FloatField()

    def __init__(self, column: str, point: Point) -> None:
        super().__init__(F(column), Func(Value(point.ewkt), function="ST_GeomFromEWKT"))


class Area(Func):
    function = "ST_Area"
    output_field = FloatField()


def floor_point(x_m: float, y_m: float) -> Point:
    return Point(x_m, y_m, srid=FLOOR_SRID)


def zones_containing(*, floor: Floor, x_m: float, y_m: float) -> QuerySet[Zone]:
    """Every zone of the floor that covers the point, most specific (smallest) first."""
    return (
        Zone.objects.filter(floor=floor, polygon__covers=floor_point(x_m, y_m))
        .annotate(area=Area(F("polygon")))
        .order_by(*_SPECIFIC_FIRST)
    )


def zone_nearest(*, floor: Floor, x_m: float, y_m: float, kinds: list[str] | None = None) -> Zone | None:
    """The zone closest to the point (index-assisted KNN), optionally of the given kinds."""
    zones = Zone.objects.filter(floor=floor)
    if kinds:
        zones = zones.filter(kind__in=kinds)
    return zones.order_by(KnnDistance("polygon", floor_point(x_m, y_m)), "pk").first()


def zones_within(*, floor: Floor, x_m: float, y_m: float, distance_m: float) -> QuerySet[Zone]:
    """Zones within distance_m of the point, nearest first, each annotated with `distance` (a D)."""
    point = floor_point(x_m, y_m)
    return (
        Zone.objects.filter(floor=floor, polygon__dwithin=(point, distance_m))
        .annotate(distance=Distance("polygon", point))
        .order_by("distance", "pk")
    )


def floor_export(*, floor: Floor, wgs84: bool = False) -> dict[str, Any]:
    """The floor as a floor GeoJSON document (docs/floor-geojson.md); re-importing it changes nothing.

    With wgs84=True coordinates are [lon, lat] through the floor's geo-reference (for GIS tools).
    """
    project = _projector(floor, wgs84)
    zones = list(Zone.objects.filter(floor=floor).select_related("parent", "ward").order_by("pk"))
    doors = list(Door.objects.filter(floor=floor).select_related("from_zone", "to_zone").order_by("pk"))
    readers = list(
        Reader.objects.filter(floor=floor).prefetch_related("antennas__zone", "antennas__door").order_by("pk")
    )
    features = (
        [_zone_feature(zone, project) for zone in zones]
        + [_door_feature(door, project) for door in doors]
        + [_reader_feature(reader, project) for reader in readers]
    )
    return {"type": "FeatureCollection", "hospital_iot": _header(floor, wgs84), "features": features}


def _projector(floor: Floor, wgs84: bool) -> Any:
    if not wgs84:
        return lambda coords: [[round(x, 4), round(y, 4)] for x, y in coords]
    ref = floor.geo_reference
    if ref is None:
        raise ValueError(f"floor {floor.code} has no geo-reference; set one to export WGS84")
    return lambda coords: [[round(lon, 9), round(lat, 9)] for lon, lat in ref.metres_to_lonlat(np.array(coords))]


def _header(floor: Floor, wgs84: bool) -> dict[str, Any]:
    building, site = floor.building, floor.building.site
    header: dict[str, Any] = {
        "format": 1,
        "site": {"code": site.code, "name": site.name},
        "building": {"code": building.code, "name": building.name},
        "floor": {
            "code": floor.code, "level": floor.level, "name": floor.name,
            "width_m": floor.width_m, "height_m": floor.height_m, "control_points": floor.control_points,
        },
    }
    if (ref := floor.geo_reference) is not None:
        header["floor"]["geo_reference"] = {
            "origin_lat": ref.origin_lat, "origin_lon": ref.origin_lon, "rotation_deg": ref.rotation_deg,
        }
    if wgs84:
        header["coordinates"] = "WGS84 lon/lat (for viewing; import_floor reads floor metres)"
    return header


def _zone_feature(zone: Zone, project: Any) -> dict[str, Any]:
    rings = [project(zone.polygon.exterior_ring.coords)] + [project(ring.coords) for ring in zone.polygon[1:]]
    props: dict[str, Any] = {"feature": "zone", "code": zone.code, "name": zone.name, "kind": zone.kind}
    if zone.parent is not None:
        props["parent"] = zone.parent.code
    if zone.ward is not None:
        props["ward"] = zone.ward.code
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings}, "properties": props}


def _door_feature(door: Door, project: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "feature": "door", "code": door.code, "name": door.name,
        "from_zone": door.from_zone.code, "to_zone": door.to_zone.code, "is_exit": door.is_exit,
    }
    if door.lock_controller:
        props["lock_controller"] = door.lock_controller
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": project(door.line.coords)},
            "properties": props}


def _reader_feature(reader: Reader, project: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "feature": "reader", "code": reader.code, "name": reader.name, "kind": reader.kind,
        "protocol": reader.protocol, "height_m": reader.height_m, "enabled": reader.enabled,
        "calibration": reader.calibration,
        "antennas": [_antenna(antenna) for antenna in reader.antennas.all()],
    }
    props.update({key: value for key in ("address", "topic", "hardware_id") if (value := getattr(reader, key))})
    (point,) = project([reader.position.coords])
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": point}, "properties": props}


def _antenna(antenna: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "port": antenna.port, "x_m": round(antenna.position.x, 4), "y_m": round(antenna.position.y, 4),
        "height_m": antenna.height_m,
    }
    if antenna.facing_deg is not None:
        out["facing_deg"] = antenna.facing_deg
    out.update({key: value for key, value in (
        ("zone", antenna.zone.code if antenna.zone else ""), ("door", antenna.door.code if antenna.door else ""),
        ("side", antenna.side),
    ) if value})
    return out
