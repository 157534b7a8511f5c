"""Handheld sweeps: a mobile reader's real LLRP adapter (sllurp) against the LLRP reader emulator over real TCP,
started by the periodic job, feeding the audit live; the sweep's reads never move a tag on the map; finishing
the audit stops the sweep and classifies the rest from the RTLS. And sweeps from uploaded reads files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.gis.geos import Point

from readers.emulators.llrp_reader import LlrpReaderEmulator
from readers.emulators.sightings import RfidSighting
from readers.models import Reader
from tests.tracking.assets.audit_world import AuditWorld, Pipeline, audit_world_make, rfid_read
from tests.tracking.store.batches import history_drop_all
from tracking.assets.audit_exceptions import AuditNotRunning, MobileReaderInvalid
from tracking.assets.audit_selectors import audit_progress
from tracking.assets.audits import audit_cancel, audit_finish, audit_start_handheld, handheld_reads_record
from tracking.assets.handheld import HandheldSweep, handheld_sweeps_stop, handheld_sweeps_sync, sweep_status
from tracking.assets.mobile_readers import mobile_reader_get, mobile_reader_settings
from tracking.models import AssetVerification, Audit, AuditItem, CurrentLocation, ZonePresence

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_S = 10.0
FAST = {"keepalive_ms": 1000, "backoff_base_s": 0.1, "backoff_cap_s": 0.4, "report_timeout_ms": 50}
UNKNOWN_EPC = "E28011700000020000000000DEADBEEF"


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """This test run's Redis database, without sweep leases or statuses of earlier runs."""
    client = redis.Redis.from_url(settings.REDIS_URL)

    def clean() -> None:
        for key in client.scan_iter("hospital_iot:assets:sweep:*"):
            client.delete(key)

    clean()
    yield client
    handheld_sweeps_stop()
    clean()


class Walk:
    """What the handheld's antenna sees as its holder walks the store: one more tag every few reports."""

    def __init__(self, epcs: list[str], *, reports_per_tag: int = 3) -> None:
        self.epcs, self.reports_per_tag, self.calls = epcs, reports_per_tag, 0

    def __call__(self, t_s: float) -> list[RfidSighting]:
        self.calls += 1
        shown = self.epcs[: 1 + self.calls // self.reports_per_tag]
        return [RfidSighting(epc, antenna=1, rssi_dbm=-48.0) for epc in shown]


@pytest.fixture
def emulator() -> Iterator[Callable[[Walk], LlrpReaderEmulator]]:
    started: list[LlrpReaderEmulator] = []

    def start(walk: Walk) -> LlrpReaderEmulator:
        reader = LlrpReaderEmulator(walk, report_interval_s=0.05, antennas=1)
        reader.start()
        started.append(reader)
        return reader

    yield start
    for reader in started:
        reader.stop()


@pytest.fixture
def world(floor_doc: dict[str, Any]) -> Iterator[AuditWorld]:
    """The ward's assets where the RTLS last saw them: pump-2 in the dirty utility, pump-3 out on the stairs."""
    history_drop_all()
    world = audit_world_make(floor_doc)
    pipeline = Pipeline()
    t0 = time.time() - 120.0
    pipeline.window([rfid_read(world.epc("pump-1"), "store", t0), rfid_read(world.epc("pump-2"), "dirty", t0),
                     rfid_read(world.epc("pump-3"), "stairs", t0)])
    yield world
    history_drop_all()


def _handheld(world: AuditWorld, port: int, **options: Any) -> Reader:
    return Reader.objects.create(code="HH-1", name="Handheld 1", kind=Reader.Kind.LLRP_READER, protocol="rfid_llrp",
                                 address=f"127.0.0.1:{port}", floor=world.floor, position=Point(1.0, 1.0),
                                 options={"mobile": True, **FAST, **options})


def _wait(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _map() -> set[tuple[Any, ...]]:
    return set(CurrentLocation.objects.values_list("tag_id", "zone_id", "seen_at", "updated_at"))


def test_a_handheld_sweep_over_llrp_fills_the_audit_live_and_never_moves_a_tag(
    world: AuditWorld, emulator: Any, client: redis.Redis,
) -> None:
    walk = Walk([world.epc("pump-1"), world.epc("monitor-5"), world.epc("chair-6"), UNKNOWN_EPC])
    reader = emulator(walk)
    _handheld(world, reader.port)
    before, stays = _map(), ZonePresence.objects.count()
    audit = audit_start_handheld(department_id=world.ward.pk, reader_code="HH-1")
    assert audit.summary["expected"] == 5

    assert handheld_sweeps_sync(client=client) == [audit.pk]  # the periodic job starts the sweep, once
    assert handheld_sweeps_sync(client=client) == [audit.pk]
    rival = HandheldSweep(audit_id=audit.pk, reader=mobile_reader_settings(mobile_reader_get("HH-1")), client=client)
    assert not rival.start()  # the lease: one process reads a handheld for an audit

    seen: list[int] = []

    def progressed() -> bool:
        progress = audit_progress(Audit.objects.get(pk=audit.pk))
        seen.append(progress["found"])
        return bool(progress["found"] == 2 and progress["unexpected"] == 1 and progress["unknown_tags"] == 1)

    _wait(progressed, "the sweep to find two pumps' worth of assets")
    assert seen == sorted(seen) and seen[0] < 2  # the found list grew while we watched
    _wait(lambda: (sweep_status(audit.pk, client=client) or {}).get("connected") is True, "the status")

    assert _map() == before and ZonePresence.objects.count() == stays  # the sweep's reads moved nothing

    finished = audit_finish(audit_id=audit.pk)
    _wait(lambda: handheld_sweeps_sync(client=client) == [], "the sweep to stop after the audit finished")
    results = {i.asset.asset_number: (i.result, i.seen_zone_id) for i in AuditItem.objects.filter(audit=finished)
               .select_related("asset")}
    assert results == {
        "PUMP-1": ("found", world.ward.pk), "MONITOR-5": ("found", world.ward.pk),  # credited to the ward swept
        "CHAIR-6": ("unexpected", world.ward.pk),
        "PUMP-2": ("not_seen", world.dirty.pk),  # the RTLS says the dirty utility, the sweep did not read it
        "PUMP-3": ("misplaced", world.stairs.pk), "PUMP-4": ("missing", None),
    }
    assert finished.summary["unknown_tag_ids"] == [UNKNOWN_EPC] and finished.summary["reads"] > 3
    assert sorted(AssetVerification.objects.filter(audit=finished, how="handheld")
                  .values_list("asset__asset_number", flat=True)) == ["CHAIR-6", "MONITOR-5", "PUMP-1"]
    assert _map() == before


def test_a_sweep_stops_when_its_audit_is_cancelled_and_bad_readers_are_refused(
    world: AuditWorld, emulator: Any, client: redis.Redis,
) -> None:
    reader = emulator(Walk([world.epc("pump-1")]))
    _handheld(world, reader.port)
    audit = audit_start_handheld(zone_ids=[world.store.pk], reader_code="HH-1")
    sweep = HandheldSweep(audit_id=audit.pk, reader=mobile_reader_settings(mobile_reader_get("HH-1")), client=client,
                          check_every_s=0.2)
    assert sweep.start()
    _wait(lambda: AuditItem.objects.filter(audit=audit, result="found").exists(), "a read")
    audit_cancel(audit_id=audit.pk)
    assert sweep.wait(5.0) and not client.exists(sweep.lease_key)
    with pytest.raises(AuditNotRunning, match="cancelled"):
        handheld_reads_record(audit_id=audit.pk, reads=[])
    assert not AssetVerification.objects.filter(audit=audit).exists()

    Reader.objects.filter(code="HH-1").update(options={})
    with pytest.raises(MobileReaderInvalid, match="installed reader"):
        audit_start_handheld(zone_ids=[world.store.pk], reader_code="HH-1")
    with pytest.raises(MobileReaderInvalid, match="no reader"):
        audit_start_handheld(zone_ids=[world.store.pk], reader_code="HH-9")
