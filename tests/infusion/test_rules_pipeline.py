"""The infusion rules through the real pipeline on the small test ward (real PostGIS, the rules subscribed
by InfusionConfig.ready): RFID reads at a corridor antenna bring a dispensed bag on the ward; reads at an
antenna by Bob's bed raise wrong-patient for Alice's infusing bag; the stairs antenna raises left-ward."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from alerts.models import Alert
from floorplans.models import Floor
from floorplans.services import floor_file_check, floor_import
from infusion import rules
from infusion.models import InfusionBag
from readers.reads import TagRead, Tech
from tests.infusion.test_bag_helpers import S, bag_make, ward_setup
from tests.tracking.store.batches import history_drop_all
from tracking.pipeline.bus import InProcessBus
from tracking.pipeline.commit import StoreCommitter
from tracking.pipeline.config import ConfigSource, floor_seed_load
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.worker import PipelineWorker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ward_floor(floor_doc: dict[str, Any]) -> Iterator[Floor]:
    """The test ward plus an RFID reader with one antenna at each of the two beds of room 101/102."""
    floor_doc["features"].append({
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [5.0, 15.5]},
        "properties": {"feature": "reader", "code": "RFID-BEDS", "name": "Bedside reader", "kind": "llrp_reader",
                       "protocol": "rfid_llrp", "address": "127.0.0.1:15085", "height_m": 2.6, "antennas": [
                           {"port": 1, "x_m": 1.5, "y_m": 13.0, "height_m": 1.0, "facing_deg": 0, "zone": "3N-101-A"},
                           {"port": 2, "x_m": 6.5, "y_m": 13.0, "height_m": 1.0, "facing_deg": 0, "zone": "3N-102-A"},
                       ]},
    })
    history_drop_all()
    yield floor_import(floor_file=floor_file_check(floor_doc)).floor
    history_drop_all()


@pytest.fixture(autouse=True)
def _rules(settings: Any) -> Iterator[None]:
    settings.INFUSION_HYSTERESIS_S = 20.0
    settings.INFUSION_DIRECTORY_TTL_S = 0.0
    rules.reset()
    yield
    rules.reset()


def _window(worker: PipelineWorker, bus: InProcessBus, reads: list[TagRead]) -> None:
    bus.put(reads)
    worker.tick()


def _read(tag: str, reader: str, antenna: int, t_s: float) -> TagRead:
    return TagRead(tag, reader, Tech.RFID, datetime.fromtimestamp(t_s, UTC), rssi_dbm=-50.0, antenna=antenna)


def test_it_turns_rfid_reads_into_bag_moves_and_alerts(ward_floor: Floor) -> None:
    w = ward_setup(ward_floor)
    now = timezone.now()
    arriving = bag_make(w, status=S.DISPENSED, tag_id="E2BAG-ARRIVING", at=now - timedelta(minutes=5))
    hung = bag_make(w, status=S.INFUSING, tag_id="E2BAG-HUNG", at=now - timedelta(minutes=5))
    walker = bag_make(w, status=S.INFUSING, tag_id="E2BAG-WALKER", patient=w.bob, at=now - timedelta(minutes=5))
    bus = InProcessBus()
    worker = PipelineWorker(bus=bus, source=ConfigSource(), metrics=PipelineMetrics("test"),
                            committer=StoreCommitter(), seed=lambda floor_id: floor_seed_load(floor_id=floor_id))
    worker.housekeeping()
    t0 = time.time() - 60.0
    _window(worker, bus, [_read("E2BAG-ARRIVING", "RFID-X1", 1, t0),  # corridor antenna at the stairs door
                          _read("E2BAG-HUNG", "RFID-BEDS", 2, t0),  # Alice's bag at Bob's bed
                          _read("E2BAG-WALKER", "RFID-X1", 2, t0)])  # Bob's bag in the stairwell
    _window(worker, bus, [_read("E2BAG-HUNG", "RFID-BEDS", 2, t0 + 30)])  # still there: settles on the event
    rules.infusion_tick(timezone.now())  # the others settle on the periodic tick

    assert InfusionBag.objects.get(pk=arriving.pk).status == S.ON_WARD
    wrong = Alert.objects.get(kind=rules.WRONG_PATIENT)
    assert (wrong.subject_id, wrong.zone_id, wrong.severity) == (str(hung.pk), w.bed_b.pk, Alert.Severity.HIGH)
    left = Alert.objects.get(kind=rules.LEFT_WARD)
    assert (left.subject_id, left.zone_id) == (str(walker.pk), w.stairs.pk)
    assert not Alert.objects.filter(subject_id=str(arriving.pk)).exists()
