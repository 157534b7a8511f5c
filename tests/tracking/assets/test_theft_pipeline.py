"""Anti-theft through the real pipeline on the small test ward: a wheelchair's RFID tag read by the corridor
antenna and then by the stairwell antenna of the exit reader crosses the exit door X-1 outward; security gets
"assets.exit" with the stairwell as the last seen place and the corridor-to-stairs trail. Read back at the
corridor antenna, it crossed back in: the condition clears."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from alerts.models import Alert
from floorplans.models import Floor, Zone
from readers.reads import TagRead, Tech
from tests.tracking.store.batches import history_drop_all
from tracking.assets import rules
from tracking.models import Asset, PortalCrossing
from tracking.pipeline.bus import InProcessBus
from tracking.pipeline.commit import StoreCommitter
from tracking.pipeline.config import ConfigSource, floor_seed_load
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.worker import PipelineWorker
from tracking.services import asset_register

pytestmark = pytest.mark.django_db(transaction=True)

CHAIR, BADGE = "E2CHAIR0001", "E2BADGE0001"


@pytest.fixture
def ward(floor: Floor) -> Iterator[Floor]:
    history_drop_all()
    yield floor
    history_drop_all()


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.ASSET_DIRECTORY_TTL_S = 0.0
    settings.ASSET_EXIT_TRAIL_MIN = 10.0
    rules.reset()
    yield
    rules.reset()


def _read(tag: str, antenna: int, t_s: float) -> TagRead:
    return TagRead(tag, "RFID-X1", Tech.RFID, datetime.fromtimestamp(t_s, UTC), rssi_dbm=-50.0, antenna=antenna)


def test_it_alerts_security_when_a_wheelchair_goes_out_through_the_exit(ward: Floor) -> None:
    chair = asset_register(asset_number="WC-1", category="wheelchair", tag_id=CHAIR, tech="rfid")
    asset_register(asset_number="WC-2", category="wheelchair", tag_id="E2CHAIR0002", tech="rfid")
    from tracking.services import tracked_object_tag

    tracked_object_tag(kind="staff", name="Porter", tag_id=BADGE, tech="rfid")
    bus = InProcessBus()
    worker = PipelineWorker(bus=bus, source=ConfigSource(), metrics=PipelineMetrics("test"),
                            committer=StoreCommitter(), seed=lambda floor_id: floor_seed_load(floor_id=floor_id))
    worker.housekeeping()
    t0 = time.time() - 120.0

    def window(reads: list[TagRead]) -> None:
        bus.put(reads)
        worker.tick()

    window([_read(CHAIR, 1, t0), _read(BADGE, 1, t0)])  # in the corridor by the exit
    window([_read(CHAIR, 2, t0 + 2), _read(BADGE, 2, t0 + 2)])  # both through the door: only the chair matters

    stairs = Zone.objects.get(floor=ward, code="ST-1")
    assert PortalCrossing.objects.filter(tag__tag_id=CHAIR, direction="in").exists()
    alert = Alert.objects.get(kind=rules.EXIT)
    assert (alert.subject_id, alert.audience, alert.severity) == (str(chair.pk), "security", Alert.Severity.HIGH)
    assert (alert.floor_id, alert.zone_id) == (ward.pk, stairs.pk)
    assert alert.data["last_seen"]["place"] == "Stairs 1, 3 North - Test Ward"
    assert [p["place"].split(",")[0] for p in alert.data["trail"]] == ["Corridor", "Stairs 1"]
    assert [p["x_m"] for p in alert.data["trail"]] == [25.0, 27.0]  # the two antennas
    assert Alert.objects.filter(kind=rules.EXIT).count() == 1  # not for the porter's badge

    window([_read(CHAIR, 2, t0 + 30)])
    window([_read(CHAIR, 1, t0 + 32)])  # brought back in
    alert.refresh_from_db()
    assert not alert.condition_active and alert.state == Alert.State.NEW
    assert Asset.objects.get(pk=chair.pk).status == Asset.Status.AVAILABLE  # no rule for stairs or corridor
