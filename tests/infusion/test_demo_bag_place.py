"""The demo's infusion bags are shown in their patients' rooms: the bag of bed 4W-412-A was shown in room 411.

Not the scenario (the bag hangs at its bed, well inside room 412) nor the floor file (the bed lies in room 412):
the demo's BLE calibration was the emulated radio's free-space law, blind to the 4 dB each wall takes, so the
pipeline pushed fixes out onto the window wall and, at the east end of the wing, into room 411. This runs what
the running demo runs, on an emulated clock: load_demo, the emulators' scenario and radio, each gateway's real
payload through its real parser, and the real pipeline (configuration from the database, engine, store)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command

from floorplans.models import Floor, Zone
from floorplans.selectors import floor_export
from infusion import rules
from readers.adapters.ble_mqtt import BLE_PROTOCOLS, gateway_table, parser_for
from readers.drops import DropCounter
from readers.emulators.ble_gateway import GatewaySpec, gateway_messages
from readers.emulators.radio import RadioWorld
from readers.emulators.scenario import Scenario
from readers.emulators.world import build_world, gateway_specs
from readers.management.commands.run_emulators import scenario_tags
from readers.reads import TagRead
from readers.selectors import adapter_specs
from tests.tracking.store.batches import history_drop_all
from tracking.models import CurrentLocation
from tracking.pipeline.bus import InProcessBus
from tracking.pipeline.commit import StoreCommitter
from tracking.pipeline.config import ConfigSource, floor_seed_load
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.worker import PipelineWorker

pytestmark = pytest.mark.django_db(transaction=True)

RUN_S = 40  # emulated seconds of gateway uploads (the emulators upload every second)
SEED = 7  # run_emulators' default
RADIO_T0_S = 1_795_000_000.0  # the radio's noise is drawn for (seed, time): a fixed clock makes it the same every run


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path
    history_drop_all()
    rules.reset()
    call_command("load_demo", stdout=io.StringIO())
    yield
    rules.reset()
    history_drop_all()


def _uploads(step: int, t_s: float, world: tuple[Scenario, RadioWorld], specs: list[GatewaySpec],
             tables: dict[str, dict[str, str]]) -> list[TagRead]:
    """What the gateways publish at t_s (the radio at its step), read back by each format's real parser."""
    scenario, radio = world
    radio_t_s = RADIO_T0_S + step
    sightings = radio.ble(scenario.positions(radio_t_s), radio_t_s)
    at, drops, reads = datetime.fromtimestamp(t_s, UTC), DropCounter(), list[TagRead]()
    for spec in specs:
        for topic, payload in gateway_messages([spec], sightings, t_s):
            reads += parser_for(spec.protocol)(payload, topic=topic, gateways=tables[spec.protocol], drops=drops,
                                               now=at)
    assert drops.total() == 0, drops.counts()
    return reads


def test_every_demo_bag_is_located_in_its_patients_room_bed_4w_412_a_in_room_412(demo: None) -> None:
    bags = [tag for tag in scenario_tags() if tag.kind == "bag"]
    assert len(bags) == 8
    bag_412 = next(tag for tag in bags if tag.home_zone == "4W-412-A")
    room, next_room = (Zone.objects.get(code=code).polygon for code in ("4W-412", "4W-411"))
    assert bag_412.home_xy is not None
    hangs = Point(*bag_412.home_xy, srid=room.srid)
    assert room.contains(hangs) and next_room.distance(hangs) >= 1.0  # where the emulated bag is

    documents = [floor_export(floor=floor) for floor in Floor.objects.all()]
    world = build_world(documents, bags, seed=SEED)
    specs = gateway_specs(documents)
    tables: dict[str, dict[str, str]] = {protocol: {} for protocol in BLE_PROTOCOLS}  # as run_readers has them
    for spec in adapter_specs()[0]:
        if spec.settings.protocol in BLE_PROTOCOLS:
            tables[spec.settings.protocol] |= gateway_table(spec.settings.options["gateways"])
    bus = InProcessBus()
    worker = PipelineWorker(bus=bus, source=ConfigSource(), metrics=PipelineMetrics("test"),
                            committer=StoreCommitter(), seed=lambda floor_id: floor_seed_load(floor_id=floor_id))
    worker.housekeeping()
    t0_s = time.time() - RUN_S
    for step in range(RUN_S):
        bus.put(_uploads(step, t0_s + step, world, specs, tables))
        worker.tick()

    where = {loc.tag.tag_id: loc for loc in CurrentLocation.objects.select_related("tag", "zone")}
    for bag in bags:
        bed = Zone.objects.select_related("parent").get(code=bag.home_zone)
        fix = where[bag.tag_id]
        assert bed.parent is not None and fix.zone is not None
        assert fix.zone.code in (bed.code, bed.parent.code), (bed.code, fix.zone.code)  # on the bed, or by it
        assert bed.parent.polygon.contains(fix.position), (bed.code, fix.position.coords)
    assert where[bag_412.tag_id].position.distance(hangs) < 1.2  # it was 2.2 m off, in room 411
