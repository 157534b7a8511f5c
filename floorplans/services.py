"""Writes for the spatial model: importing a floor file, calibrating and setting a floor's plan."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image

from floorplans.calibration import fit_affine
from floorplans.floorfile import (
    FeatureError,
    FloorFile,
    FloorFileError,
    FloorHeader,
    ReaderSpec,
    ZoneSpec,
    parse_floor_file,
)
from floorplans.geometry import FLOOR_SRID
from floorplans.models import Building, Door, Floor, Site, Zone
from readers.models import Antenna, Reader

logger = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[Iterable[T]], Iterable[T]]


@dataclass
class ImportReport:
    """What an import changed (or, in a dry run, would change)."""

    floor: Floor
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would change" if self.dry_run else "changed"
        out = [f"floor {self.floor.code} ({self.floor.name}) {verb}:"]
        for kind in ("zones", "doors", "readers"):
            gone = self.deleted.get(kind, [])
            out.append(
                f"  {kind}: {self.created.get(kind, 0)} new, {self.updated.get(kind, 0)} updated, {len(gone)} removed"
                + (f" ({', '.join(gone[:10])}{' ...' if len(gone) > 10 else ''})" if gone else "")
            )
        return out


# what a floor file sets on a Reader row, besides its position
READER_FIELDS = ("name", "kind", "protocol", "address", "topic", "hardware_id", "height_m", "enabled", "calibration")


class _DryRun(Exception):
    """Raised inside the import transaction to roll a dry run back."""


def _geos(shape: Any) -> Any:
    """A shapely geometry as a GEOS geometry in floor metres (Any: it fills typed geometry fields)."""
    return GEOSGeometry(memoryview(shape.wkb), srid=FLOOR_SRID)


def floor_file_check(document: Any, *, progress: Progress[Any] | None = None) -> FloorFile:
    """Check a floor document against the zone and reader kinds this installation knows; raise FloorFileError."""
    return parse_floor_file(
        document, zone_kinds=frozenset(Zone.Kind.values), reader_kinds=frozenset(Reader.Kind.values), progress=progress
    )


def floor_import(
    *, floor_file: FloorFile, dry_run: bool = False, progress: Progress[Any] | None = None
) -> ImportReport:
    """Make the floor in the database equal the file: create/update by code, remove what the file lacks.

    One transaction: any error writes nothing. A dry run does all the work and rolls it back.
    """
    report: ImportReport | None = None
    try:
        with transaction.atomic():
            floor = _floor_upsert(floor_file.header)
            report = ImportReport(floor=floor, dry_run=dry_run)
            zones = _zones_sync(floor, floor_file.zones, report, progress)
            doors = _doors_sync(floor, floor_file, zones, report)
            _readers_sync(floor, floor_file.readers, zones, doors, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert report is not None
    logger.info(
        "floor %s imported%s: created %s, updated %s, removed %s",
        report.floor.code,
        " (dry run, rolled back)" if dry_run else "",
        report.created,
        report.updated,
        {kind: len(codes) for kind, codes in report.deleted.items()},
    )
    return report


def _floor_upsert(header: FloorHeader) -> Floor:
    site, _ = Site.objects.update_or_create(code=header.site_code, defaults={"name": header.site_name})
    building, _ = Building.objects.update_or_create(
        site=site, code=header.building_code, defaults={"name": header.building_name}
    )
    clash = Floor.objects.filter(building=building, level=header.level).exclude(code=header.code).first()
    if clash is not None:
        reason = f"level {header.level} of {building.name} is already floor {clash.code!r}"
        raise FloorFileError([FeatureError(None, None, reason)])
    geo = header.geo_reference or {}
    floor, _ = Floor.objects.update_or_create(
        building=building,
        code=header.code,
        defaults={
            "level": header.level,
            "name": header.name,
            "width_m": header.width_m,
            "height_m": header.height_m,
            "geo_origin_lat": geo.get("origin_lat"),
            "geo_origin_lon": geo.get("origin_lon"),
            "geo_rotation_deg": geo.get("rotation_deg", 0.0),
        },
    )
    if header.control_points:
        floor_calibrate(floor=floor, control_points=header.control_points)
    return floor


def _zones_sync(
    floor: Floor, specs: Sequence[ZoneSpec], report: ImportReport, progress: Progress[Any] | None
) -> dict[str, Zone]:
    existing = {zone.code: zone for zone in Zone.objects.filter(floor=floor)}
    wrap = progress or (lambda items: items)
    zones: dict[str, Zone] = {}
    for spec in wrap(specs):
        zone = existing.pop(spec.code, None) or Zone(floor=floor, code=spec.code)
        zone.name, zone.kind, zone.polygon = spec.name, spec.kind, _geos(spec.polygon)
        zones[spec.code] = zone
    new = [zone for zone in zones.values() if zone.pk is None]
    Zone.objects.bulk_create(new)
    for spec in specs:
        zone = zones[spec.code]
        zone.parent = zones[spec.parent] if spec.parent else None
        zone.ward = zones[spec.ward] if spec.ward else None
    Zone.objects.bulk_update(list(zones.values()), ["name", "kind", "polygon", "parent", "ward"], batch_size=500)
    _delete_rest(Zone, existing, "zones", report)
    report.created["zones"], report.updated["zones"] = len(new), len(zones) - len(new)
    return zones


def _doors_sync(floor: Floor, floor_file: FloorFile, zones: dict[str, Zone], report: ImportReport) -> dict[str, Door]:
    existing = {door.code: door for door in Door.objects.filter(floor=floor)}
    doors: dict[str, Door] = {}
    for spec in floor_file.doors:
        door = existing.pop(spec.code, None) or Door(floor=floor, code=spec.code)
        door.name, door.line = spec.name, _geos(spec.line)
        door.from_zone, door.to_zone = zones[spec.from_zone], zones[spec.to_zone]
        door.is_exit, door.lock_controller = spec.is_exit, spec.lock_controller
        doors[spec.code] = door
    new = [door for door in doors.values() if door.pk is None]
    Door.objects.bulk_create(new)
    fields = ["name", "line", "from_zone", "to_zone", "is_exit", "lock_controller"]
    Door.objects.bulk_update([d for d in doors.values() if d not in new], fields, batch_size=500)
    _delete_rest(Door, existing, "doors", report)
    report.created["doors"], report.updated["doors"] = len(new), len(doors) - len(new)
    return doors


def _readers_sync(
    floor: Floor, specs: Sequence[ReaderSpec], zones: dict[str, Zone], doors: dict[str, Door], report: ImportReport
) -> None:
    elsewhere = dict(
        Reader.objects.filter(code__in=[s.code for s in specs]).exclude(floor=floor).values_list("code", "floor__code")
    )
    if elsewhere:
        raise FloorFileError(
            [
                FeatureError(s.index, s.code, f"reader code already used on floor {elsewhere[s.code]!r}")
                for s in specs
                if s.code in elsewhere
            ]
        )
    existing = {reader.code: reader for reader in Reader.objects.filter(floor=floor)}
    readers = []
    for spec in specs:
        reader = existing.pop(spec.code, None) or Reader(floor=floor, code=spec.code)
        for name in READER_FIELDS:
            setattr(reader, name, getattr(spec, name))
        reader.position = _geos(spec.point)
        readers.append(reader)
    new = [reader for reader in readers if reader.pk is None]
    Reader.objects.bulk_create(new)
    fields = [*READER_FIELDS, "position"]
    Reader.objects.bulk_update([r for r in readers if r not in new], fields, batch_size=500)
    Antenna.objects.filter(reader__in=readers).delete()
    Antenna.objects.bulk_create(
        [
            Antenna(
                reader=reader,
                port=a.port,
                position=Point(a.x_m, a.y_m, srid=FLOOR_SRID),
                height_m=a.height_m,
                facing_deg=a.facing_deg,
                zone=zones.get(a.zone or ""),
                door=doors.get(a.door or ""),
                side=a.side,
            )
            for reader, spec in zip(readers, specs, strict=True)
            for a in spec.antennas
        ]
    )
    _delete_rest(Reader, existing, "readers", report)
    report.created["readers"], report.updated["readers"] = len(new), len(readers) - len(new)


def _delete_rest(
    model: type[Zone] | type[Door] | type[Reader], rest: dict[str, Any], kind: str, report: ImportReport
) -> None:
    if rest:
        model.objects.filter(pk__in=[obj.pk for obj in rest.values()]).delete()
    report.deleted[kind] = sorted(rest)


def floor_calibrate(*, floor: Floor, control_points: list[dict[str, float]]) -> float:
    """Fit the plan image's pixel<->metre affine from control points; store it; return the RMS residual (m)."""
    pixels = np.array([[p["px"], p["py"]] for p in control_points], dtype=float)
    metres = np.array([[p["x_m"], p["y_m"]] for p in control_points], dtype=float)
    affine, residual_m = fit_affine(pixels, metres)
    floor.control_points = [dict(p) for p in control_points]
    floor.plan_affine = affine.as_list()
    floor.plan_residual_m = residual_m
    floor.save(update_fields=["control_points", "plan_affine", "plan_residual_m"])
    return residual_m


PLAN_FORMATS = {"PNG": "png", "JPEG": "jpg"}


def plan_image_check(image: bytes) -> str:
    """The file extension of a PNG or JPEG plan image; ValueError for anything else."""
    try:
        with Image.open(io.BytesIO(image)) as probe:
            probe.verify()
            extension = PLAN_FORMATS.get(probe.format or "")
    except (OSError, SyntaxError) as exc:  # Pillow's errors for truncated or non-image data
        raise ValueError(f"the plan is not a readable image: {exc}") from exc
    if extension is None:
        raise ValueError("the plan must be a PNG or JPEG image")
    return extension


def floor_set_plan_image(*, floor: Floor, image: bytes, name: str | None = None) -> Floor:
    """Store a PNG or JPEG plan image for the floor, replacing the old file; ValueError if it is neither."""
    extension = plan_image_check(image)
    if floor.plan_image:
        floor.plan_image.delete(save=False)
    stem = f"{floor.building.site.code}-{floor.building.code}-{floor.code}"
    floor.plan_image.save(name or f"{stem}.{extension}", ContentFile(image))
    return floor
