"""Hands-free audits of equipment moved by RFID reads through the real location pipeline (real PostGIS):
pumps read in the store, one wheeled to the dirty utility, one out to the stairs, one never read; a wheelchair
of elsewhere parked in the store. The department and the zone-set audit say found / misplaced (with where) /
missing / unexpected with PM flags, write verifications, and age with the audit's clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.tracking.assets.audit_world import AuditWorld, Pipeline, audit_world_make, rfid_read
from tests.tracking.store.batches import history_drop_all
from tracking.assets.audit_selectors import asset_audit_history
from tracking.assets.audits import audit_run_hands_free
from tracking.models import AssetVerification, AuditItem, CurrentLocation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(floor_doc: dict[str, Any]) -> Iterator[AuditWorld]:
    history_drop_all()
    world = audit_world_make(floor_doc)
    pipeline = Pipeline()
    t0 = time.time() - 120.0
    pipeline.window([rfid_read(world.epc(n), "store", t0) for n in ("pump-1", "pump-2", "pump-3", "monitor-5",
                                                                    "chair-6")])
    pipeline.window([rfid_read(world.epc("pump-2"), "dirty", t0 + 30),  # wheeled to the dirty utility
                     rfid_read(world.epc("pump-3"), "room", t0 + 30)])
    pipeline.window([rfid_read(world.epc("pump-3"), "stairs", t0 + 60)])  # and on, off the ward
    yield world
    history_drop_all()


def _results(audit_id: int) -> dict[str, tuple[str, str | None]]:
    return {i.asset.asset_number.lower(): (i.result, i.seen_zone.code if i.seen_zone else None)
            for i in AuditItem.objects.filter(audit_id=audit_id).select_related("asset", "seen_zone")}


def test_it_audits_a_department_and_a_zone_set_from_what_the_pipeline_saw(world: AuditWorld) -> None:
    assert CurrentLocation.objects.get(tag__tag_id=world.epc("pump-2")).zone_id == world.dirty.pk  # moved by reads

    ward = audit_run_hands_free(department_id=world.ward.pk)
    assert _results(ward.pk) == {
        "pump-1": ("found", "3N-ST"), "pump-2": ("found", "3N-DU"),  # the dirty utility is on the ward
        "pump-3": ("misplaced", "ST-1"), "pump-4": ("missing", None), "monitor-5": ("found", "3N-ST"),
        "chair-6": ("unexpected", "3N-ST"),  # the retired pump is expected nowhere
    }
    assert ward.summary["expected"] == 5
    assert ward.summary["counts"] == {"found": 3, "misplaced": 1, "missing": 1, "not_seen": 0, "unexpected": 1,
                                      "pm_due": 2, "pm_overdue": 1}
    flags = {i.asset.asset_number: (i.pm_due, i.pm_overdue) for i in AuditItem.objects.filter(audit=ward)}
    assert flags["PUMP-4"] == (True, True) and flags["MONITOR-5"] == (True, False) and flags["PUMP-1"] == (False, False)

    store = audit_run_hands_free(zone_ids=[world.store.pk])
    assert _results(store.pk)["pump-2"] == ("misplaced", "3N-DU")  # not in the store: misplaced, with where
    assert _results(store.pk)["pump-1"] == ("found", "3N-ST")

    verified = AssetVerification.objects.filter(audit=ward)
    assert sorted(v.asset.asset_number for v in verified) == ["CHAIR-6", "MONITOR-5", "PUMP-1", "PUMP-2"]
    assert {v.how for v in verified} == {"hands_free"}
    history = asset_audit_history(world.assets["pump-2"].pk)
    assert history["last_verified_how"] == "hands_free" and [a["result"] for a in history["audits"]] == [
        "misplaced", "found"]  # newest audit first


AGES = [  # days after the reads -> results: the audit's clock runs on, the sightings stay where they were
    (2, {"pump-1": "not_seen", "pump-2": "not_seen", "pump-3": "misplaced", "pump-4": "missing",
         "monitor-5": "not_seen"}),  # placed on the ward, but not seen there for 2 days; the wheelchair drops out
    (4, {"pump-1": "missing", "pump-2": "missing", "pump-3": "missing", "pump-4": "missing", "monitor-5": "missing"}),
]


def test_it_ages_with_the_audit_clock(world: AuditWorld) -> None:
    for days_later, expected in AGES:  # one world for both (each world costs a flush of the database)
        audit = audit_run_hands_free(department_id=world.ward.pk, now=timezone.now() + timedelta(days=days_later))
        assert {name: result for name, (result, _) in _results(audit.pk).items()} == expected, days_later
        assert not AssetVerification.objects.filter(audit=audit).exists()
