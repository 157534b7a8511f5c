"""Parse a floor GeoJSON document into a FloorFile, collecting every problem before giving up."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from shapely import GEOSException
from shapely.geometry import Point, Polygon, box, shape
from shapely.validation import explain_validity

from floorplans.calibration import CalibrationError, fit_affine
from floorplans.floorfile.checks import check_cross_references
from floorplans.floorfile.errors import FeatureError, FloorFileError
from floorplans.floorfile.fields import FieldReader
from floorplans.floorfile.specs import AntennaSpec, DoorSpec, FloorFile, FloorHeader, ReaderSpec, ZoneSpec

FORMAT_VERSION = 1
EXTENT_TOLERANCE_M = 0.01
SIDES = frozenset({"inside", "outside"})

T = TypeVar("T")
Progress = Callable[[Iterable[T]], Iterable[T]]


def load_floor_document(path: Path) -> Any:
    """Read a file as JSON; unreadable or non-JSON files raise FloorFileError with the position."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FloorFileError([FeatureError(None, None, f"cannot read {path.name}: {exc.strerror}")]) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FloorFileError([FeatureError(None, None, f"{path.name} is not valid JSON: {exc}")]) from exc


def parse_floor_file(
    document: Any, *, zone_kinds: frozenset[str], reader_kinds: frozenset[str],
    progress: Progress[Any] | None = None,
) -> FloorFile:
    """Check a floor document completely; return it as a FloorFile or raise FloorFileError."""
    errors: list[FeatureError] = []
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise FloorFileError([FeatureError(None, None, "not a GeoJSON FeatureCollection")])
    header = _parse_header(document.get("hospital_iot"), errors)
    features = document.get("features")
    if not isinstance(features, list):
        errors.append(FeatureError(None, None, "'features' must be a list"))
        features = []
    extent = box(0, 0, header.width_m, header.height_m).buffer(EXTENT_TOLERANCE_M) if header else None
    zones: list[ZoneSpec] = []
    doors: list[DoorSpec] = []
    readers: list[ReaderSpec] = []
    parsers: dict[str, tuple[Any, list[Any], frozenset[str]]] = {
        "zone": (_parse_zone, zones, zone_kinds),
        "door": (_parse_door, doors, frozenset()),
        "reader": (_parse_reader, readers, reader_kinds),
    }
    wrap = progress or (lambda items: items)
    for index, feature in wrap(list(enumerate(features))):
        props = feature.get("properties") if isinstance(feature, dict) else None
        fields = FieldReader(props, errors=errors, index=index)
        if not isinstance(feature, dict) or feature.get("type") != "Feature" or not isinstance(props, dict):
            fields.fail("not a GeoJSON Feature with a 'properties' object")
            continue
        fields.code = props.get("code") if isinstance(props.get("code"), str) else None
        kind = fields.choice("feature", frozenset(parsers), what="feature type")
        if kind:
            parse, bucket, kinds = parsers[kind]
            spec = parse(fields, feature.get("geometry"), extent, kinds)
            if spec is not None:
                bucket.append(spec)
    if header is not None:
        errors.extend(check_cross_references(zones, doors, readers))
    if errors or header is None:
        raise FloorFileError(sorted(errors, key=lambda e: (-1 if e.index is None else e.index)))
    return FloorFile(header=header, zones=zones, doors=doors, readers=readers)


def _parse_header(raw: Any, errors: list[FeatureError]) -> FloorHeader | None:
    top = FieldReader(raw, errors=errors, index=None, where="hospital_iot.")
    if not isinstance(raw, dict):
        top.fail("missing the 'hospital_iot' object (site, building, floor)")
        return None
    if top.integer("format", required=False, default=FORMAT_VERSION) != FORMAT_VERSION:
        top.fail(f"unsupported format {raw.get('format')!r}; this version reads format {FORMAT_VERSION}")
    site = FieldReader(top.obj("site", required=True), errors=errors, index=None, where="site.")
    building = FieldReader(top.obj("building", required=True), errors=errors, index=None, where="building.")
    floor = FieldReader(top.obj("floor", required=True), errors=errors, index=None, where="floor.")
    before = len(errors)
    header = FloorHeader(
        site_code=site.text("code"), site_name=site.text("name"),
        building_code=building.text("code"), building_name=building.text("name"),
        code=floor.text("code"), level=floor.integer("level") or 0, name=floor.text("name"),
        width_m=floor.number("width_m", low=1.0, high=5000.0) or 0.0,
        height_m=floor.number("height_m", low=1.0, high=5000.0) or 0.0,
        control_points=_parse_control_points(floor),
        geo_reference=_parse_geo_reference(floor),
    )
    return header if len(errors) == before else None


def _parse_control_points(floor: FieldReader) -> list[dict[str, float]]:
    points = []
    for i, raw in enumerate(floor.array("control_points")):
        point = FieldReader(raw, errors=floor.errors, index=None, where=f"floor.control_points[{i}].")
        values = {key: point.number(key) for key in ("px", "py", "x_m", "y_m")}
        if all(v is not None for v in values.values()):
            points.append({key: float(v) for key, v in values.items() if v is not None})
    if points:
        try:
            fit_affine(np.array([[p["px"], p["py"]] for p in points]), np.array([[p["x_m"], p["y_m"]] for p in points]))
        except CalibrationError as exc:
            floor.fail(f"floor.control_points: {exc}")
    return points


def _parse_geo_reference(floor: FieldReader) -> dict[str, float] | None:
    raw = floor.obj("geo_reference")
    if raw is None:
        return None
    geo = FieldReader(raw, errors=floor.errors, index=None, where="floor.geo_reference.")
    lat = geo.number("origin_lat", low=-90, high=90)
    lon = geo.number("origin_lon", low=-180, high=180)
    rotation = geo.number("rotation_deg", required=False, default=0.0, low=-360, high=360)
    if lat is None or lon is None or rotation is None:
        return None
    return {"origin_lat": lat, "origin_lon": lon, "rotation_deg": rotation}


def _geometry(fields: FieldReader, raw: Any, expected: str, extent: Polygon | None) -> Any:
    """A shapely geometry of the expected GeoJSON type, valid, non-empty and on the floor; else None."""
    if not isinstance(raw, dict) or raw.get("type") != expected:
        got = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        fields.fail(f"geometry must be a {expected}, got {got}")
        return None
    try:
        geom = shape(raw)
        coords = np.asarray(geom.exterior.coords if expected == "Polygon" else geom.coords, dtype=float)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, GEOSException) as exc:
        fields.fail(f"invalid {expected} coordinates: {exc or type(exc).__name__}")
        return None
    if geom.is_empty or not np.isfinite(coords).all():
        fields.fail(f"empty or non-finite {expected}")
        return None
    if not geom.is_valid:
        fields.fail(f"invalid geometry: {explain_validity(geom)}")
        return None
    if expected == "Polygon" and geom.area <= 0:
        fields.fail("polygon has no area")
        return None
    if extent is not None and not extent.covers(geom):
        fields.fail("lies outside the floor extent (0..width_m, 0..height_m)")
        return None
    return geom


def _parse_zone(fields: FieldReader, raw: Any, extent: Polygon | None, kinds: frozenset[str]) -> ZoneSpec | None:
    before = len(fields.errors)
    code, name = fields.text("code"), fields.text("name")
    kind = fields.choice("kind", kinds, what="zone kind")
    polygon = _geometry(fields, raw, "Polygon", extent)
    parent = fields.text("parent", required=False) or None
    ward = fields.text("ward", required=False) or None
    if len(fields.errors) > before or polygon is None:
        return None
    return ZoneSpec(fields.index or 0, code, name, kind, polygon, parent, ward)


def _parse_door(fields: FieldReader, raw: Any, extent: Polygon | None, _: frozenset[str]) -> DoorSpec | None:
    before = len(fields.errors)
    code, name = fields.text("code"), fields.text("name")
    from_zone, to_zone = fields.text("from_zone"), fields.text("to_zone")
    is_exit = fields.boolean("is_exit", default=False)
    lock = fields.text("lock_controller", required=False)
    line = _geometry(fields, raw, "LineString", extent)
    if len(fields.errors) > before or line is None:
        return None
    return DoorSpec(fields.index or 0, code, name, line, from_zone, to_zone, is_exit, lock)


def _parse_reader(fields: FieldReader, raw: Any, extent: Polygon | None, kinds: frozenset[str]) -> ReaderSpec | None:
    before = len(fields.errors)
    code, name = fields.text("code"), fields.text("name")
    kind = fields.choice("kind", kinds, what="reader kind")
    protocol = fields.text("protocol")
    point = _geometry(fields, raw, "Point", extent)
    calibration = _parse_calibration(fields)
    antennas = [a for i, r in enumerate(fields.array("antennas")) if (a := _parse_antenna(fields, i, r, extent))]
    spec = ReaderSpec(
        fields.index or 0, code, name, kind, protocol, point if point is not None else Point(0, 0),
        address=fields.text("address", required=False), topic=fields.text("topic", required=False),
        hardware_id=fields.text("hardware_id", required=False),
        height_m=fields.number("height_m", required=False, default=2.5, low=0.0, high=30.0) or 0.0,
        enabled=fields.boolean("enabled", default=True), calibration=calibration, antennas=antennas,
    )
    return spec if len(fields.errors) == before and point is not None else None


def _parse_calibration(fields: FieldReader) -> dict[str, float]:
    raw = fields.obj("calibration") or {}
    sub = FieldReader(raw, errors=fields.errors, index=fields.index, where="calibration.")
    sub.code = fields.code
    values = {key: sub.number(key) for key in raw}
    return {key: value for key, value in values.items() if value is not None}


def _parse_antenna(fields: FieldReader, i: int, raw: Any, extent: Polygon | None) -> AntennaSpec | None:
    ant = FieldReader(raw, errors=fields.errors, index=fields.index, where=f"antennas[{i}].")
    ant.code = fields.code
    if not isinstance(raw, dict):
        ant.fail(f"antennas[{i}] must be an object")
        return None
    before = len(fields.errors)
    port, x_m, y_m = ant.integer("port"), ant.number("x_m"), ant.number("y_m")
    side = ant.text("side", required=False)
    if side and side not in SIDES:
        ant.fail(f"antennas[{i}].side must be 'inside' or 'outside', got {side!r}")
    if port is not None and not 1 <= port <= 255:
        ant.fail(f"antennas[{i}].port {port} is outside 1..255")
    if x_m is not None and y_m is not None and extent is not None and not extent.covers(Point(x_m, y_m)):
        ant.fail(f"antennas[{i}] lies outside the floor extent")
    spec = AntennaSpec(
        port or 0, x_m or 0.0, y_m or 0.0,
        height_m=ant.number("height_m", required=False, default=2.4, low=0.0, high=30.0) or 0.0,
        facing_deg=ant.number("facing_deg", required=False, low=-360, high=360),
        zone=ant.text("zone", required=False) or None, door=ant.text("door", required=False) or None, side=side,
    )
    return spec if len(fields.errors) == before else None
