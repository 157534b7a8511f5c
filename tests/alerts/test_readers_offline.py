"""A reader going offline raises a biomed alert at its place; coming back clears and resolves it. Fed
the way run_readers announces it: readers.services.reader_health_record -> listeners after commit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alerts.models import Alert
from alerts.readers_offline import reader_condition_changed, reader_offline_key
from floorplans.models import Floor
from readers.health import OFFLINE, ONLINE, HealthChange, HealthState
from readers.services import reader_condition_listeners, reader_health_record
from tests.alerts.conftest import T0


def _record(change: HealthChange, capture: Any) -> None:
    state = HealthState(reader_id=change.reader_id, state=change.state, state_since=change.at,
                        last_read_at=change.last_read_at, reads_per_s=0.0, reads_total=0)
    with capture(execute=True):
        reader_health_record(states=[state], drops={}, changes=[change])


def test_alerts_listens_to_reader_health() -> None:
    assert reader_condition_changed in reader_condition_listeners


@pytest.mark.django_db
def test_offline_raises_once_and_online_resolves(floor: Floor, django_capture_on_commit_callbacks: Any) -> None:
    last = T0 - timedelta(minutes=2)
    _record(HealthChange("BLE-101", OFFLINE, T0, last), django_capture_on_commit_callbacks)
    _record(HealthChange("BLE-101", OFFLINE, T0 + timedelta(seconds=30), last), django_capture_on_commit_callbacks)
    alert = Alert.objects.get(key=reader_offline_key("BLE-101"))
    assert (alert.kind, alert.severity, alert.audience, alert.subject_type) == (
        "readers.offline", 20, "biomed", "reader")
    assert (alert.title, alert.floor_id, alert.occurrences) == ("Reader Gateway room 101 is offline", floor.pk, 2)
    assert alert.x_m is not None and "since 2025-03-04T09:58:00" in alert.message
    _record(HealthChange("BLE-101", ONLINE, T0 + timedelta(minutes=5), T0 + timedelta(minutes=5)),
            django_capture_on_commit_callbacks)
    alert.refresh_from_db()
    assert (alert.state, alert.condition_active) == ("resolved", False)
    assert [e.action for e in alert.timeline.all()][-2:] == ["condition_cleared", "resolved"]


@pytest.mark.django_db
def test_a_reader_unknown_to_the_database_still_raises_without_a_place() -> None:
    reader_condition_changed(HealthChange("GHOST-1", OFFLINE, T0, None))
    alert = Alert.objects.get()
    assert alert.floor_id is None and alert.subject_label == "GHOST-1" and "since never" in alert.message
