"""The floor GeoJSON file (docs/floor-geojson.md): parsed and checked as plain data, no Django."""

from floorplans.floorfile.errors import FeatureError, FloorFileError
from floorplans.floorfile.parse import parse_floor_file
from floorplans.floorfile.specs import AntennaSpec, DoorSpec, FloorFile, FloorHeader, ReaderSpec, ZoneSpec

__all__ = [
    "AntennaSpec",
    "DoorSpec",
    "FeatureError",
    "FloorFile",
    "FloorFileError",
    "FloorHeader",
    "ReaderSpec",
    "ZoneSpec",
    "parse_floor_file",
]
