"""What the pipeline needs from the database, loaded into plain frozen data (tracking.pipeline.layout).

Loaded at start and again every `reload_s` (ConfigSource), so new tags, readers and zones take effect
without a restart; if the database is away the last good configuration stays in use. Nothing here runs
per read: the hot path only sees the frozen result.

Calibration keys a Reader may carry (defaults in brackets): BLE rssi_at_1m_dbm [-59], path_loss_exponent
[2.0], rssi_offset_db [0], rssi_sigma_db [4]; UWB range_bias_m [0], range_sigma_m [0.1]; both tag_height_m
[1.2] (the height tags are worn at).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db import DatabaseError, connection
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

from floorplans.models import Door as DoorRow
from floorplans.models import Floor, Zone
from readers.models import Antenna, Reader
from tracking.assets.mobile_readers import fixed_readers_q
from tracking.localization.floormap import NO_ZONE, Door, FloorMap
from tracking.localization.models import PathLossModel, RangeModel
from tracking.models import CurrentLocation, Tag, ZonePresence
from tracking.pipeline.layout import (
    INSIDE,
    NO_SIDE,
    OUTSIDE,
    TECH_CODES,
    AntennaSet,
    FloorLayout,
    Portal,
    ReceiverSet,
    RtlsConfig,
    TagInfo,
    fingerprint,
)

logger = logging.getLogger(__name__)

TAG_HEIGHT_M = 1.2
RSSI_AT_1M_DBM = -59.0
PATH_LOSS_EXPONENT = 2.0
RSSI_SIGMA_DB = 4.0
WINDOW_SIGMA_DB = 2.0  # shadowing that averaging one window's reads does not remove
RANGE_SIGMA_M = 0.1


def rtls_config_load() -> RtlsConfig:
    """Every floor with enabled readers, the reader -> floor table and the directory of active tags."""
    fixed = fixed_readers_q()  # a mobile (handheld) reader is no receiver: its reads never move a tag
    readers = list(Reader.objects.filter(fixed, enabled=True).order_by("code"))
    antennas = list(Antenna.objects.filter(reader__in=readers).select_related("reader").order_by("reader__code",
                                                                                                  "port"))
    floor_ids = sorted({r.floor_id for r in readers})
    floors = {f.pk: f for f in Floor.objects.filter(pk__in=floor_ids)}
    zones = list(Zone.objects.filter(floor_id__in=floor_ids).order_by("pk"))
    doors = list(DoorRow.objects.filter(floor_id__in=floor_ids).order_by("pk"))
    layouts = {
        fid: floor_layout(floors[fid], [z for z in zones if z.floor_id == fid], [d for d in doors if d.floor_id == fid],
                          [r for r in readers if r.floor_id == fid], [a for a in antennas if a.reader.floor_id == fid])
        for fid in floor_ids
    }
    return RtlsConfig(floors=layouts, reader_floor={r.code: r.floor_id for r in readers}, tags=tag_directory())


def tag_directory() -> dict[str, TagInfo]:
    rows = Tag.objects.filter(active=True).values_list(
        "pk", "tag_id", "tech", "tracked_object__pk", "tracked_object__name", "tracked_object__kind",
        "tracked_object__asset__category",
    )
    return {tag_id: TagInfo(pk, tag_id, tech, obj, name or "", kind or "", category or "")
            for pk, tag_id, tech, obj, name, kind, category in rows}


def floor_layout(floor: Floor, zones: list[Zone], doors: list[DoorRow], readers: list[Reader],
                 antennas: list[Antenna]) -> FloorLayout:
    """The layout of one floor; zones smallest first, so a point takes its most specific zone."""
    polygons = {z.pk: shapely.from_wkb(bytes(z.polygon.wkb)) for z in zones}
    order = sorted(polygons, key=lambda pk: (polygons[pk].area, pk))
    index = {pk: i for i, pk in enumerate(order)}
    map_doors = [Door(index[d.from_zone_id], index[d.to_zone_id], _midpoint(d)) for d in doors
                 if d.from_zone_id in index and d.to_zone_id in index]
    shapes = [_valid(polygons[pk]) for pk in order]
    # the building's footprint (fixes are kept inside it); the plan's rectangle when no zone is drawn
    outline = unary_union(shapes) if shapes else box(0.0, 0.0, floor.width_m, floor.height_m)
    floor_map = FloorMap(outline=outline, zones=shapes, doors=map_doors)
    ble = _receivers([r for r in readers if r.kind == Reader.Kind.BLE_GATEWAY], _path_loss)
    uwb = _receivers([r for r in readers if r.kind == Reader.Kind.UWB_ANCHOR], _ranging)
    rfid, portals = _antennas(antennas, index)
    digest = fingerprint(floor.width_m, floor.height_m, [(pk, polygons[pk].wkb) for pk in order],
                         [(d.pk, d.from_zone_id, d.to_zone_id) for d in doors],
                         [(r.code, r.kind, r.position.coords, r.height_m, sorted(r.calibration.items()))
                          for r in readers],
                         [(a.reader.code, a.port, a.position.coords, a.zone_id, a.door_id, a.side) for a in antennas])
    return FloorLayout(floor_id=floor.pk, width_m=floor.width_m, height_m=floor.height_m, floor_map=floor_map,
                       zone_pk=np.array(order, dtype=np.int64), ble=ble, uwb=uwb, rfid=rfid, portals=portals,
                       fingerprint=digest)


def _valid(polygon: Any) -> Polygon:
    return polygon if polygon.is_valid else polygon.buffer(0)


def _midpoint(door: DoorRow) -> tuple[float, float]:
    (x0, y0), (x1, y1) = door.line.coords[0], door.line.coords[-1]
    return (x0 + x1) / 2, (y0 + y1) / 2


def _receivers(readers: list[Reader], model: Callable[[list[Reader]], PathLossModel | RangeModel],
               ) -> ReceiverSet | None:
    if not readers:
        return None
    return ReceiverSet(codes=tuple(r.code for r in readers), model=model(readers))


def _anchors_m(readers: list[Reader]) -> Any:
    return np.array([[r.position.x, r.position.y, r.height_m] for r in readers], dtype=np.float64)


def _calibration(readers: list[Reader], key: str, default: float) -> Any:
    return np.array([float(r.calibration.get(key, default)) for r in readers], dtype=np.float64)


def _path_loss(readers: list[Reader]) -> PathLossModel:
    """rssi = rssi_1m + offset_k - 10 n_k log10(d): each gateway's own 1 m power enters as its offset."""
    at_1m = _calibration(readers, "rssi_at_1m_dbm", RSSI_AT_1M_DBM)
    reference = float(np.median(at_1m))
    return PathLossModel(
        anchors_m=_anchors_m(readers), rssi_1m_dbm=reference,
        offset_db=at_1m - reference + _calibration(readers, "rssi_offset_db", 0.0),
        exponent=_calibration(readers, "path_loss_exponent", PATH_LOSS_EXPONENT),
        sigma=_calibration(readers, "rssi_sigma_db", RSSI_SIGMA_DB),
        tag_height_m=float(readers[0].calibration.get("tag_height_m", TAG_HEIGHT_M)), window_sigma_db=WINDOW_SIGMA_DB,
    )


def _ranging(readers: list[Reader]) -> RangeModel:
    return RangeModel(anchors_m=_anchors_m(readers), bias_m=_calibration(readers, "range_bias_m", 0.0),
                      sigma=_calibration(readers, "range_sigma_m", RANGE_SIGMA_M),
                      tag_height_m=float(readers[0].calibration.get("tag_height_m", TAG_HEIGHT_M)))


def _antennas(antennas: list[Antenna], zone_index: dict[int, int]) -> tuple[AntennaSet, tuple[Portal, ...]]:
    sides = {Antenna.Side.INSIDE: INSIDE, Antenna.Side.OUTSIDE: OUTSIDE}
    antenna_set = AntennaSet(
        keys=tuple((a.reader.code, a.port) for a in antennas),
        xy_m=np.array([[a.position.x, a.position.y] for a in antennas], dtype=np.float64).reshape(-1, 2),
        zone=np.array([zone_index.get(a.zone_id, NO_ZONE) if a.zone_id else NO_ZONE for a in antennas], np.int64),
        door=np.array([a.door_id or -1 for a in antennas], dtype=np.int64),
        side=np.array([sides.get(a.side, NO_SIDE) for a in antennas], dtype=np.int64),  # type: ignore[call-overload]
    )
    portals = []
    for door in sorted({a.door_id for a in antennas if a.door_id}):
        at_door = [i for i, a in enumerate(antennas) if a.door_id == door]
        inside = [i for i in at_door if antenna_set.side[i] == INSIDE]
        outside = [i for i in at_door if antenna_set.side[i] == OUTSIDE]
        if inside and outside:
            portals.append(Portal(door_pk=door, inside=inside[0], outside=outside[0]))
    return antenna_set, tuple(portals)


@dataclass(frozen=True)
class FloorSeed:
    """Committed state of a floor's tags, to start an engine from (FloorEngine.seed)."""

    tag_id: list[str]
    tech: list[int]
    zone_pk: list[int]
    seen_at_s: list[float]


def floor_seed_load(*, floor_id: int) -> FloorSeed:
    """Each tag's open zone stay on the floor (its latest) and the time of its last fix there."""
    seen = {tag: (tech, at.timestamp()) for tag, tech, at in CurrentLocation.objects.filter(floor_id=floor_id)
            .values_list("tag__tag_id", "tag__tech", "seen_at")}
    zone: dict[str, tuple[int, float]] = {}
    stays = (ZonePresence.objects.filter(zone__floor_id=floor_id, exited_at__isnull=True)
             .order_by("entered_at").values_list("tag__tag_id", "tag__tech", "zone_id", "entered_at"))
    for tag, tech, zone_id, entered_at in stays:
        zone[tag] = (zone_id, entered_at.timestamp())
        seen.setdefault(tag, (tech, entered_at.timestamp()))
    tags = sorted(seen)
    return FloorSeed(tag_id=tags, tech=[TECH_CODES.get(seen[t][0], TECH_CODES["ble"]) for t in tags],
                     zone_pk=[zone[t][0] if t in zone else -1 for t in tags], seen_at_s=[seen[t][1] for t in tags])


class ConfigSource:
    """The current configuration, reloaded from the database at most every reload_s seconds."""

    def __init__(self, *, reload_s: float = 30.0, load: Callable[[], RtlsConfig] = rtls_config_load,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.reload_s, self._load, self._clock = reload_s, load, clock
        self.config = RtlsConfig.empty()
        self.loaded_at = -np.inf
        self.failures = 0

    def get(self) -> RtlsConfig:
        if self._clock() - self.loaded_at >= self.reload_s:
            self.reload()
        return self.config

    def reload(self) -> bool:
        """Load now; on a database error keep the last configuration (and try again after reload_s)."""
        self.loaded_at = self._clock()
        try:
            self.config = self._load()
        except DatabaseError as exc:
            self.failures += 1
            logger.warning("could not reload the pipeline configuration, keeping the last one: %s", exc)
            with contextlib.suppress(DatabaseError):
                connection.close()  # a broken connection is not reused: the next try opens a new one
            return False
        return True
