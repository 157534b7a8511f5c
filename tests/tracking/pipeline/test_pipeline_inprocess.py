"""The in-process pipeline on the small test ward, against the real PostGIS and the real Redis channel layer:
reads in; current location, history, zone stays, portal crossings, a floor frame and domain events out.
Also through a real database outage (the fixes wait, then arrive) and a restart (zones carry over)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.db import connection

from floorplans.models import Door, Floor, Zone
from readers.reads import TagRead, Tech
from tests.tracking.store.batches import history_drop_all
from tracking.models import Asset, CurrentLocation, LocationHistory, Method, PortalCrossing, Tag, ZonePresence
from tracking.pipeline import events
from tracking.pipeline.bus import InProcessBus
from tracking.pipeline.commit import StoreCommitter
from tracking.pipeline.config import ConfigSource, floor_seed_load
from tracking.pipeline.frames import FrameSender, floor_group, frame_fixes
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.worker import PipelineWorker
from tracking.services import asset_register, tracked_object_tag
from tracking.store.buffer import BufferedLocationWriter

pytestmark = pytest.mark.django_db(transaction=True)

PUMP, BAND = "AC233F000001", "E28011700000000000000042"


class Browser:
    """A channel in the floor's group, read the way the floor consumer would be fed."""

    def __init__(self, floor_id: int) -> None:
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)  # its own, on its own loop
        self.loop = asyncio.new_event_loop()
        self.channel = self.loop.run_until_complete(self._join(floor_group(floor_id)))

    def close(self) -> None:
        self.loop.run_until_complete(self.layer.close_pools())
        self.loop.close()

    async def _join(self, group: str) -> str:
        channel: str = await self.layer.new_channel()
        await self.layer.group_add(group, channel)
        return channel

    def frames(self, *, wait_s: float = 3.0, kind: str = "positions") -> list[dict[str, Any]]:
        """Every frame of `kind` that arrives within wait_s (stops at the first quiet 0.3 s after one)."""
        async def collect() -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            deadline = time.monotonic() + wait_s
            while (left := deadline - time.monotonic()) > 0:
                try:
                    event = await asyncio.wait_for(self.layer.receive(self.channel), min(left, 0.3 if out else left))
                except TimeoutError:
                    if out:
                        break
                    continue
                assert event["type"] == "floor.frame"
                message = json.loads(event["text"])
                if message["type"] == kind:
                    out.append(message)
            return out

        return self.loop.run_until_complete(collect())


@pytest.fixture
def browser(ward: Floor) -> Iterator[Browser]:
    browser = Browser(ward.pk)
    yield browser
    browser.close()


@pytest.fixture
def ward(floor: Floor) -> Iterator[Floor]:
    history_drop_all()
    asset_register(asset_number="IP-1", category=Asset.Category.INFUSION_PUMP, tag_id=PUMP, tech="ble")
    tracked_object_tag(kind="infant", name="Baby Doe", tag_id=BAND, tech="rfid")
    yield floor
    history_drop_all()


@pytest.fixture
def seen() -> Iterator[list[events.DomainEvent]]:
    got: list[events.DomainEvent] = []

    def broken(event: Any) -> None:
        raise RuntimeError("a workflow's bug")

    kinds: tuple[Any, ...] = (events.ZoneEntered, events.ZoneExited, events.PortalCrossed)
    for kind in kinds:
        events.subscribe(kind, broken)  # subscribed first: must not keep the next one from running
        events.subscribe(kind, got.append)
    yield got
    for kind in kinds:
        events.unsubscribe(kind, broken)
        events.unsubscribe(kind, got.append)


@pytest.fixture
def pipeline() -> Iterator[tuple[PipelineWorker, InProcessBus]]:
    bus, sender = InProcessBus(), FrameSender()
    sender.start()
    worker = PipelineWorker(bus=bus, source=ConfigSource(), metrics=PipelineMetrics("test"), sender=sender,
                            committer=StoreCommitter(BufferedLocationWriter(retry_initial_s=0.2)),
                            seed=lambda floor_id: floor_seed_load(floor_id=floor_id))
    worker.housekeeping()
    yield worker, bus
    sender.stop()


def at(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, UTC)


def window(worker: PipelineWorker, bus: InProcessBus, reads: list[TagRead]) -> None:
    bus.put(reads)
    worker.tick()


def zone(floor: Floor, code: str) -> int:
    return Zone.objects.get(floor=floor, code=code).pk


def test_it_stores_and_announces_what_a_window_of_reads_says(
    ward: Floor, pipeline: tuple[PipelineWorker, InProcessBus], browser: Browser, seen: list[events.DomainEvent],
) -> None:
    worker, bus = pipeline
    t0 = time.time() - 1.0
    window(worker, bus, [TagRead(PUMP, "BLE-101", Tech.BLE, at(t0), rssi_dbm=-62.0),
                         TagRead(BAND, "RFID-X1", Tech.RFID, at(t0), rssi_dbm=-50.0, antenna=1)])
    window(worker, bus, [TagRead(BAND, "RFID-X1", Tech.RFID, at(t0 + 0.5), rssi_dbm=-48.0, antenna=2)])

    pump = CurrentLocation.objects.get(tag__tag_id=PUMP)
    assert (pump.floor_id, pump.zone_id, pump.method) == (ward.pk, zone(ward, "3N-101"), 1)  # proximity
    assert (pump.position.x, pump.position.y) == pytest.approx((2.5, 13.5))  # at the one gateway that heard it
    band = CurrentLocation.objects.get(tag__tag_id=BAND)
    assert (band.zone_id, band.method, band.position.x) == (zone(ward, "ST-1"), Method.ZONE, 27.0)
    assert band.seen_at.timestamp() == pytest.approx(t0 + 0.5, abs=1e-3)
    assert LocationHistory.objects.filter(tag__tag_id=BAND).count() == 2
    stays = list(ZonePresence.objects.filter(tag__tag_id=BAND).order_by("entered_at")
                 .values_list("zone__code", "exited_at"))
    assert [(code, exited is not None) for code, exited in stays] == [("3N-C", True), ("ST-1", False)]
    crossing = PortalCrossing.objects.get(tag__tag_id=BAND)
    assert (crossing.door_id, crossing.direction) == (Door.objects.get(code="X-1").pk, "in")  # from_zone -> to_zone

    frames = browser.frames()
    assert [f["seq"] for f in frames] == [1, 2] and {f["floor"] for f in frames} == {ward.pk}
    pump_fix = next(fix for fix in frame_fixes(frames[0]) if fix["tag"] == PUMP)
    assert pump_fix | {"seen_at": None, "object": None} == {
        "tag": PUMP, "object": None, "name": "infusion pump IP-1", "kind": "asset", "category": "infusion_pump",
        "x_m": 2.5, "y_m": 13.5, "accuracy_m": 5.0, "zone": zone(ward, "3N-101"), "stationary": False,
        "seen_at": None,
    }
    assert pump_fix["seen_at"].endswith("Z")
    kinds = [(type(e).__name__, e.tag_id) for e in seen]
    assert ("PortalCrossed", BAND) in kinds and ("ZoneEntered", PUMP) in kinds
    assert events.handler_failures()["seen.<locals>.broken"] >= 3  # and the handler after it still ran
    metrics = worker.metrics.snapshot()
    assert (metrics["reads_total"], metrics["fixes_total"], metrics["frames_total"]) == (3, 3, 2)
    assert metrics["read_to_fix_latency_s"]["count"] == 3 and metrics["db_up"] == 1


class Outage:
    """The database goes away: the connection's server process is killed and nothing listens where it was."""

    def __init__(self) -> None:
        self.port = connection.settings_dict["PORT"]

    def __enter__(self) -> Outage:
        connection.ensure_connection()
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            connection.settings_dict["PORT"] = str(s.getsockname()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        connection.settings_dict["PORT"] = self.port


def test_it_keeps_the_fixes_of_a_database_outage_and_writes_them_when_it_returns(
    ward: Floor, pipeline: tuple[PipelineWorker, InProcessBus], browser: Browser,
) -> None:
    worker, bus = pipeline
    t0 = time.time() - 1.0
    with Outage():
        window(worker, bus, [TagRead(BAND, "RFID-X1", Tech.RFID, at(t0), rssi_dbm=-50.0, antenna=1)])
        window(worker, bus, [TagRead(PUMP, "BLE-101", Tech.BLE, at(t0 + 0.2), rssi_dbm=-62.0)])
        worker.housekeeping()
        assert browser.frames(wait_s=0.5) == []  # nothing is announced that is not stored
        snapshot = worker.metrics.snapshot()
        assert snapshot["db_up"] == 0 and snapshot["buffered_fixes"] == 2 and snapshot["waited_fixes_total"] == 2
    time.sleep(0.3)  # the writer's retry backoff
    worker.housekeeping()
    assert set(CurrentLocation.objects.values_list("tag__tag_id", flat=True)) == {PUMP, BAND}
    assert [f["seq"] for f in browser.frames()] == [1, 2]  # in their order, once stored
    worker.housekeeping()
    assert worker.metrics.snapshot()["buffered_fixes"] == 0 and worker.metrics.snapshot()["db_up"] == 1


def test_it_carries_the_zone_of_each_tag_over_a_restart(ward: Floor) -> None:
    t0 = time.time() - 10.0
    for reads in ([TagRead(BAND, "RFID-X1", Tech.RFID, at(t0), rssi_dbm=-50.0, antenna=2)],
                  [TagRead(BAND, "RFID-X1", Tech.RFID, at(t0 + 5), rssi_dbm=-50.0, antenna=1)]):
        bus = InProcessBus()  # a new process each time: nothing but the database carries over
        worker = PipelineWorker(bus=bus, source=ConfigSource(), metrics=PipelineMetrics("test"),
                                committer=StoreCommitter(), seed=lambda floor_id: floor_seed_load(floor_id=floor_id))
        worker.housekeeping()
        window(worker, bus, reads)
        window(worker, bus, reads)  # delivered twice: changes nothing
    stays = list(ZonePresence.objects.filter(tag__tag_id=BAND).order_by("entered_at")
                 .values_list("zone__code", "entered_at", "exited_at"))
    assert [code for code, _, _ in stays] == ["ST-1", "3N-C"]  # one stay each, the second still open
    assert [entered.timestamp() for _, entered, _ in stays] == pytest.approx([t0, t0 + 5])
    assert stays[0][2] is not None and stays[0][2].timestamp() == pytest.approx(t0 + 5) and stays[1][2] is None


def test_it_hands_every_fix_of_a_window_to_fix_subscribers_only_while_someone_listens(
    ward: Floor, pipeline: tuple[PipelineWorker, InProcessBus],
) -> None:
    worker, bus = pipeline
    t0 = time.time() - 1.0
    window(worker, bus, [TagRead(PUMP, "BLE-101", Tech.BLE, at(t0), rssi_dbm=-62.0)])  # nobody listens: nothing
    got: list[events.FixesLocated] = []
    events.subscribe(events.FixesLocated, got.append)
    try:
        assert events.wanted(events.FixesLocated)
        window(worker, bus, [TagRead(PUMP, "BLE-101", Tech.BLE, at(t0 + 0.3), rssi_dbm=-61.0),
                             TagRead(BAND, "RFID-X1", Tech.RFID, at(t0 + 0.3), rssi_dbm=-50.0, antenna=1),
                             TagRead("NOT-IN-DIRECTORY", "BLE-101", Tech.BLE, at(t0 + 0.3), rssi_dbm=-60.0)])
    finally:
        events.unsubscribe(events.FixesLocated, got.append)
    assert not events.wanted(events.FixesLocated)
    assert len(got) == 1 and got[0].floor_id == ward.pk
    fixes = got[0]
    pks = dict(Tag.objects.filter(tag_id__in=[PUMP, BAND]).values_list("tag_id", "pk"))
    assert sorted(fixes.tag_id.tolist()) == sorted([PUMP, BAND])  # the unknown tag is not handed on
    row = fixes.tag_id.tolist().index(PUMP)
    assert fixes.tag_pk[row] == pks[PUMP] and fixes.zone_pk[row] == zone(ward, "3N-101")
    assert (fixes.x_m[row], fixes.y_m[row]) == pytest.approx((2.5, 13.5))
    assert t0 < fixes.seen_at_s[row] <= t0 + 0.3 + 1e-3 and len(fixes) == 2  # the estimate's time, in this window
