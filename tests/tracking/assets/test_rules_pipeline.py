"""Status rules and PAR levels through the real pipeline on the small test ward (real PostGIS; the rules
subscribed by TrackingConfig.ready): RFID reads in the dirty utility make a pump "needs cleaning" at once and
drop the store below PAR; back in the store, the periodic tick makes it available after the 2-minute dwell
and the PAR alert resolves itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from alerts.models import Alert
from floorplans.models import Floor, Zone
from floorplans.services import floor_file_check, floor_import
from readers.reads import TagRead, Tech
from tests.tracking.store.batches import history_drop_all
from tracking.assets import rules
from tracking.assets.services_rules import parlevel_save, statusrule_save
from tracking.models import Asset, AssetStatusChange, StatusRule
from tracking.pipeline.bus import InProcessBus
from tracking.pipeline.commit import StoreCommitter
from tracking.pipeline.config import ConfigSource, floor_seed_load
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.worker import PipelineWorker
from tracking.services import asset_register

pytestmark = pytest.mark.django_db(transaction=True)

S = Asset.Status
PUMPS = ("E2PUMP0001", "E2PUMP0002")


@pytest.fixture
def ward_floor(floor_doc: dict[str, Any]) -> Iterator[Floor]:
    """The test ward plus an RFID reader with an antenna in the equipment store and one in the dirty utility."""
    floor_doc["features"].append({
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [6.0, 7.5]},
        "properties": {"feature": "reader", "code": "RFID-UTIL", "name": "Utility rooms reader",
                       "kind": "llrp_reader", "protocol": "rfid_llrp", "address": "127.0.0.1:15086",
                       "height_m": 2.6, "antennas": [
                           {"port": 1, "x_m": 3.0, "y_m": 5.0, "height_m": 2.0, "facing_deg": 0, "zone": "3N-ST"},
                           {"port": 2, "x_m": 8.0, "y_m": 5.0, "height_m": 2.0, "facing_deg": 0, "zone": "3N-DU"},
                       ]},
    })
    history_drop_all()
    yield floor_import(floor_file=floor_file_check(floor_doc)).floor
    history_drop_all()


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.ASSET_DIRECTORY_TTL_S = 0.0  # reload every time: the worker's own thread may not see the signals
    rules.reset()
    yield
    rules.reset()


def _read(tag: str, antenna: int, t_s: float) -> TagRead:
    return TagRead(tag, "RFID-UTIL", Tech.RFID, datetime.fromtimestamp(t_s, UTC), rssi_dbm=-50.0, antenna=antenna)


def test_it_turns_reads_in_the_utility_rooms_into_status_changes_and_par_alerts(ward_floor: Floor) -> None:
    StatusRule.objects.all().delete()
    dirty_rule = statusrule_save(name="dirty", zone_kind="dirty_utility", status=S.NEEDS_CLEANING)
    store_rule = statusrule_save(name="store", zone_kind="storage", from_statuses=[S.NEEDS_CLEANING],
                                 status=S.AVAILABLE, after_s=120)
    store = Zone.objects.get(floor=ward_floor, code="3N-ST")
    pumps = [asset_register(asset_number=f"IP-{i}", category="infusion_pump", tag_id=tag, tech="rfid")
             for i, tag in enumerate(PUMPS, start=1)]
    bus = InProcessBus()
    worker = PipelineWorker(bus=bus, source=ConfigSource(), metrics=PipelineMetrics("test"),
                            committer=StoreCommitter(), seed=lambda floor_id: floor_seed_load(floor_id=floor_id))
    worker.housekeeping()
    t0 = time.time() - 600.0

    def window(reads: list[TagRead]) -> None:
        bus.put(reads)
        worker.tick()

    window([_read(PUMPS[0], 1, t0), _read(PUMPS[1], 1, t0)])  # both in the store
    level = parlevel_save(zone=store, category="infusion_pump", target_count=2, critical_count=2)  # at PAR
    assert not Alert.objects.filter(kind=rules.PAR_LOW).exists()
    window([_read(PUMPS[0], 2, t0 + 10)])  # used, dropped in the dirty utility

    pump = Asset.objects.get(pk=pumps[0].pk)
    assert pump.status == S.NEEDS_CLEANING
    alert = Alert.objects.get(kind=rules.PAR_LOW)
    assert (alert.subject_id, alert.data["count"], alert.severity) == (f"par:{level.pk}", 1, Alert.Severity.WARNING)
    assert alert.ward_id == Zone.objects.get(floor=ward_floor, code="3N").pk

    window([_read(PUMPS[0], 1, t0 + 60)])  # cleaned, back in the store
    assert Asset.objects.get(pk=pump.pk).status == S.NEEDS_CLEANING  # the store rule has a dwell
    assert rules.asset_rules_tick(timezone.now()) == 1

    history = list(AssetStatusChange.objects.filter(asset=pump).order_by("at")
                   .values_list("to_status", "source", "rule_id", "zone__code", "at"))
    t = datetime.fromtimestamp(t0, UTC)
    assert [row[:4] for row in history] == [(S.NEEDS_CLEANING, "rule", dirty_rule.pk, "3N-DU"),
                                            (S.AVAILABLE, "rule", store_rule.pk, "3N-ST")]
    assert history[0][4] == pytest.approx(t + timedelta(seconds=10), abs=timedelta(milliseconds=5))
    assert history[1][4] == pytest.approx(t + timedelta(seconds=60 + 120), abs=timedelta(milliseconds=5))
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED  # the status change re-counted the store: back at PAR
