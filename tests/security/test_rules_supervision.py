"""Supervision with a controlled clock: a band not heard for the supervision period raises supervision_lost
with its last place and trail, once; the next read clears it; a fresh process (nothing in memory) judges by
CurrentLocation.seen_at; an escort does not suspend it; the period comes from settings, else the env."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point

from alerts.models import Alert, AlertEvent
from security import rules
from security.selectors import armed_invalidate
from security.services import escort_start
from tests.security.test_rules_helpers import (
    CORRIDOR_W,
    NURSERY,
    T0,
    T0_S,
    Maternity,
    fixes,
    open_alert,
)
from tracking.models import CurrentLocation, LocationHistory
from tracking.store.partitions import history_partitions_ensure, history_partitions_forget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.SECURITY_SUPERVISION_S = 30.0
    rules.reset()
    armed_invalidate()
    yield
    rules.reset()
    armed_invalidate()
    history_partitions_forget()  # the test's partitions rolled back with it


def _heard(m: Maternity, tag: str, xy: tuple[float, float], dt_s: float) -> None:
    rules.on_fixes_located(fixes(m.floor.pk, [(m.tags[tag], xy[0], xy[1], dt_s)]))


def _both_heard(m: Maternity, dt_s: float) -> None:
    rules.on_fixes_located(fixes(m.floor.pk, [(m.tags["B001"], *NURSERY, dt_s), (m.tags["B002"], *NURSERY, dt_s)]))


def _stored(m: Maternity, tag: str, xy: tuple[float, float], dt_s: float) -> None:
    """What the pipeline of another process wrote: the band's current location."""
    seen = T0 + timedelta(seconds=dt_s)
    CurrentLocation.objects.update_or_create(tag=m.tags[tag], defaults={
        "floor": m.floor, "position": Point(*xy), "accuracy_m": 0.3, "method": 0, "seen_at": seen, "updated_at": seen})


def _trail(m: Maternity, tag: str, points: list[tuple[float, float, float]]) -> None:
    """History rows (x_m, y_m, seconds after T0)."""
    history_partitions_ensure(seen_at_s=np.array([T0_S + p[2] for p in points]))
    LocationHistory.objects.bulk_create([
        LocationHistory(tag=m.tags[tag], floor=m.floor, position=Point(x, y), accuracy_m=0.3, method=0,
                        seen_at=T0 + timedelta(seconds=dt)) for x, y, dt in points])


def _run(dt_s: float) -> int:
    return rules.security_supervision(T0 + timedelta(seconds=dt_s))


def test_silence_longer_than_the_period_raises_once_with_the_last_place_and_trail(m: Maternity) -> None:
    _trail(m, "B001", [(20.0, 11.0, -900), (22.0, 11.0, -500), (25.0, 11.0, -100), (28.0, 9.0, 0)])
    _both_heard(m, 0)
    assert _run(30) == 0  # exactly the period: not yet
    _heard(m, "B002", NURSERY, 30)
    assert _run(30.5) == 1
    lost = open_alert(rules.SUPERVISION_LOST, m.mary)
    assert lost is not None and lost.severity == Alert.Severity.HIGH and lost.audience == "security"
    assert (lost.x_m, lost.y_m, lost.floor_id) == (*NURSERY, m.floor.pk)
    assert lost.data["last_seen_at"] == T0.isoformat() and lost.data["silent_s"] == 30.5
    assert [(p["x_m"], p["y_m"]) for p in lost.data["trail"]] == [(22.0, 11.0), (25.0, 11.0), (28.0, 9.0)]  # 10 min
    assert open_alert(rules.SUPERVISION_LOST, m.jane) is None  # heard at 30 s
    assert _run(60.5) == 1  # Jane now too (30.5 s); Mary's is not raised again
    assert AlertEvent.objects.filter(alert__kind=rules.SUPERVISION_LOST, action="raised").count() == 2
    assert AlertEvent.objects.filter(alert=lost, action="repeated").count() == 0


def test_the_next_read_clears_it_at_once(m: Maternity) -> None:
    _both_heard(m, 0)
    _run(31)
    _heard(m, "B001", CORRIDOR_W, 45)  # the foil came off
    alert = Alert.objects.get(kind=rules.SUPERVISION_LOST, subject_id=str(m.mary.pk))
    assert not alert.condition_active and alert.condition_cleared_at == T0 + timedelta(seconds=45)
    assert open_alert(rules.SUPERVISION_LOST, m.jane) is not None


def test_a_fresh_process_judges_by_the_stored_location_and_clears_what_another_raised(m: Maternity) -> None:
    _stored(m, "B001", NURSERY, 0)
    _stored(m, "B002", NURSERY, 25)
    assert _run(31) == 1  # Mary 31 s silent, Jane 6 s
    assert open_alert(rules.SUPERVISION_LOST, m.mary) is not None
    rules.reset()  # a restart: the open alert is in the database only
    _stored(m, "B001", NURSERY, 40)  # heard by the pipeline (another process)
    assert _run(41) == 1
    assert open_alert(rules.SUPERVISION_LOST, m.mary) is None


def test_a_band_never_heard_is_lost_without_a_place_a_period_after_the_watch_began(m: Maternity) -> None:
    _stored(m, "B002", NURSERY, 0)
    _run(5)  # the watch begins: nobody has located Mary's band yet, which is no alarm at a start
    assert open_alert(rules.SUPERVISION_LOST, m.mary) is None
    _run(34)
    assert open_alert(rules.SUPERVISION_LOST, m.mary) is None
    _stored(m, "B002", NURSERY, 34)  # Jane's band stays heard
    _run(36)
    lost = open_alert(rules.SUPERVISION_LOST, m.mary)
    assert lost is not None and lost.floor_id == m.floor.pk and lost.x_m is None  # placed by its ward's floor
    assert "never located" in lost.title and lost.data["trail"] == []


def test_an_escort_does_not_suspend_supervision(m: Maternity, charge_nurse: User) -> None:
    escort_start(infant_id=m.mary.pk, user=charge_nurse, destination="Radiology", reason="scan", minutes=60, at=T0)
    _both_heard(m, 0)
    _run(31)
    assert open_alert(rules.SUPERVISION_LOST, m.mary) is not None


def test_the_period_comes_from_the_settings_else_the_environment(m: Maternity, settings: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings.SECURITY_SUPERVISION_S = 10.0
    _both_heard(m, 0)
    assert _run(10.5) == 2
    del settings.SECURITY_SUPERVISION_S
    monkeypatch.setenv("HOSPITAL_IOT_SUPERVISION_S", "12")
    assert rules.supervision_s() == 12.0
    monkeypatch.delenv("HOSPITAL_IOT_SUPERVISION_S")
    assert rules.supervision_s() == 30.0
