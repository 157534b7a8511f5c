"""The audit tests' world: the small 3 North test ward with an RFID reader watching its equipment store, dirty
utility and room 101 (plus the stairs antenna of the exit reader), seven tagged assets, and the real location
pipeline to move them with reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.gis.geos import Point
from django.utils import timezone

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor, Zone
from floorplans.services import floor_file_check, floor_import
from readers.reads import TagRead, Tech
from tracking.models import Asset, CurrentLocation, Method, Tag
from tracking.pipeline.bus import InProcessBus
from tracking.pipeline.commit import StoreCommitter
from tracking.pipeline.config import ConfigSource, floor_seed_load
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.worker import PipelineWorker
from tracking.services import asset_register

READER = "RFID-AUD"
ANTENNA = {"store": (READER, 1), "dirty": (READER, 2), "room": (READER, 3), "stairs": ("RFID-X1", 2)}

# name: (category, EPC, home zone code, department?, PM due in days (None: no date), status)
ASSETS: dict[str, tuple[str, str, str, bool, int | None, str]] = {
    "pump-1": ("infusion_pump", "300833B2DDD9014000000101", "3N-ST", True, 200, "available"),
    "pump-2": ("infusion_pump", "300833B2DDD9014000000102", "3N-ST", True, None, "available"),
    "pump-3": ("infusion_pump", "300833B2DDD9014000000103", "3N-ST", True, None, "in_use"),
    "pump-4": ("infusion_pump", "300833B2DDD9014000000104", "3N-ST", True, -5, "available"),
    "monitor-5": ("monitor", "300833B2DDD9014000000105", "3N-ST", True, 10, "available"),
    "chair-6": ("wheelchair", "300833B2DDD9014000000106", "ST-1", False, None, "available"),
    "old-7": ("infusion_pump", "300833B2DDD9014000000107", "3N-ST", True, None, "retired"),
}


def audit_floor_doc(floor_doc: dict[str, Any]) -> dict[str, Any]:
    floor_doc["features"].append({
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [6.0, 7.5]},
        "properties": {"feature": "reader", "code": READER, "name": "Store and utility reader", "kind": "llrp_reader",
                       "protocol": "rfid_llrp", "address": "127.0.0.1:15099", "height_m": 2.6, "antennas": [
                           {"port": 1, "x_m": 3.0, "y_m": 5.0, "height_m": 2.4, "facing_deg": 0, "zone": "3N-ST"},
                           {"port": 2, "x_m": 8.0, "y_m": 5.0, "height_m": 2.4, "facing_deg": 0, "zone": "3N-DU"},
                           {"port": 3, "x_m": 2.5, "y_m": 14.5, "height_m": 2.4, "facing_deg": 0, "zone": "3N-101"},
                       ]},
    })
    return floor_doc


@dataclass
class AuditWorld:
    floor: Floor
    ward: Zone
    store: Zone
    dirty: Zone
    room: Zone
    stairs: Zone
    assets: dict[str, Asset] = field(default_factory=dict)

    def epc(self, name: str) -> str:
        return ASSETS[name][1]

    def asset(self, name: str) -> Asset:
        return Asset.objects.get(pk=self.assets[name].pk)


def audit_world_make(floor_doc: dict[str, Any], *, today: date | None = None) -> AuditWorld:
    floor = floor_import(floor_file=floor_file_check(audit_floor_doc(floor_doc))).floor
    zones = {z.code: z for z in Zone.objects.filter(floor=floor)}
    world = AuditWorld(floor, zones["3N"], zones["3N-ST"], zones["3N-DU"], zones["3N-101"], zones["ST-1"])
    today = today or timezone.now().date()
    for name, (category, epc, home, owned, pm_in_days, status) in ASSETS.items():
        asset = asset_register(
            asset_number=name.upper(), category=category, tag_id=epc, tech=Tag.Tech.RFID, make="BD",
            model="Alaris 8100", home_zone=zones[home], department=world.ward if owned else None,
            pm_due_on=today + timedelta(days=pm_in_days) if pm_in_days is not None else None)
        Asset.objects.filter(pk=asset.pk).update(status=status)
        world.assets[name] = asset
    return world


def rfid_read(epc: str, where: str, t_s: float) -> TagRead:
    reader, port = ANTENNA[where]
    return TagRead(epc, reader, Tech.RFID, datetime.fromtimestamp(t_s, UTC), rssi_dbm=-55.0, antenna=port)


class Pipeline:
    """The real location pipeline in this thread: each `window` is one window of reads, located, written, and
    announced, as run_rtls does it."""

    def __init__(self) -> None:
        self.bus = InProcessBus()
        self.worker = PipelineWorker(bus=self.bus, source=ConfigSource(), metrics=PipelineMetrics("audit-test"),
                                     committer=StoreCommitter(),
                                     seed=lambda floor_id: floor_seed_load(floor_id=floor_id))
        self.worker.housekeeping()

    def window(self, reads: list[TagRead]) -> None:
        self.bus.put(reads)
        self.worker.tick()


def locate(world: AuditWorld, name: str, zone: Zone | None, seen_at: datetime) -> None:
    """Where the RTLS last saw an asset, written as the pipeline would (for tests that need no reads)."""
    point = zone.polygon.centroid if zone is not None else Point(1.0, 1.0, srid=FLOOR_SRID)
    CurrentLocation.objects.update_or_create(tag=Tag.objects.get(tag_id=world.epc(name)), defaults={
        "floor": world.floor, "zone": zone, "position": point, "accuracy_m": 3.0, "method": Method.ZONE,
        "stationary": True, "seen_at": seen_at, "updated_at": seen_at})


def world_located(world: AuditWorld, *, now: datetime) -> None:
    """pump-1 and monitor-5 in the store, pump-2 in the dirty utility, pump-3 on the stairs, pump-4 never seen,
    the wheelchair of elsewhere in the store: all an hour ago."""
    seen = now - timedelta(hours=1)
    for name, zone in (("pump-1", world.store), ("monitor-5", world.store), ("pump-2", world.dirty),
                       ("pump-3", world.stairs), ("chair-6", world.store)):
        locate(world, name, zone, seen)
