"""What starts and follows a Code Pink on its own: a forced exit door on a floor with protected infants (through
the door service that reads the controllers' events), and the alert's acknowledgements and escalations, which
the timeline records; the escalation policies make a Code Pink reach every audience within seconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from alerts.audiences import AUDIENCES
from alerts.models import Alert
from alerts.policies import policy_for
from alerts.services import alert_acknowledge, alerts_escalate_due
from security.codepink import code_pink_connect, code_pink_door_forced, code_pink_start
from security.doors import services as doors
from security.doors.protocol import DoorEvent
from security.models import CodePink
from tests.security.test_codepink_helpers import Lockdown, lockdown_setup
from tests.security.test_services_helpers import T0, infant_make, ward_setup

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_data")]
S = timedelta(seconds=1)


@pytest.fixture
def site(floor_doc: dict[str, Any]) -> Iterator[Lockdown]:
    code_pink_connect()
    yield lockdown_setup(floor_doc)
    if code_pink_door_forced in doors.door_forced_listeners:
        doors.door_forced_listeners.remove(code_pink_door_forced)


def _force(code: str) -> None:
    doors.door_event_apply(code=code, event=DoorEvent(event="forced", at=T0), at=T0)


def test_connecting_twice_subscribes_once(site: Lockdown) -> None:
    code_pink_connect()
    assert doors.door_forced_listeners.count(code_pink_door_forced) == 1


def test_a_forced_exit_on_a_floor_with_protected_infants_starts_a_code_pink(site: Lockdown) -> None:
    infant_make(ward_setup(site.floor))
    _force("maglock-3N-west")
    code_pink = CodePink.objects.get()
    assert (code_pink.trigger, code_pink.floor, code_pink.started_at, code_pink.started_by) == (
        "door_forced", site.floor, T0, None)
    assert code_pink.timeline.get(action="started").note == "maglock 3N west forced open"
    assert code_pink.commands.filter(command="lock").count() == 3
    assert Alert.objects.filter(kind="security.door_forced").exists()  # the door's own alarm stays too


def test_a_forced_door_starts_nothing_without_infants_or_when_it_is_not_an_exit(site: Lockdown) -> None:
    _force("maglock-3N")  # nobody to protect on this floor
    assert not CodePink.objects.exists()
    infant_make(ward_setup(site.floor))
    _force("access-3N-store")  # the store door is not an exit: a door alarm, not a lockdown
    assert not CodePink.objects.exists()


def test_the_alerts_acknowledgement_and_escalations_are_on_the_timeline(site: Lockdown,
                                                                        security_officer: User) -> None:
    code_pink = code_pink_start(trigger="manual", building_id=site.floor.building_id, floor_id=site.floor.pk, at=T0)
    assert code_pink.alert is not None
    alerts_escalate_due(now=T0 + 3 * S)
    alert = Alert.objects.get(pk=code_pink.alert.pk)
    assert set(alert.audiences) == set(AUDIENCES)  # every audience within three seconds
    escalated = code_pink.timeline.filter(action="alert_escalated")
    assert [e.data["audience"] for e in escalated] == ["nurses", "charge_nurses", "administrators", "biomed"]
    alert_acknowledge(alert_id=alert.pk, user=security_officer, note="on my way to the stairs", at=T0 + 20 * S)
    acknowledged = code_pink.timeline.get(action="alert_acknowledged")
    assert (acknowledged.user, acknowledged.note, acknowledged.at, acknowledged.data["drill"]) == (
        security_officer, "on my way to the stairs", T0 + 20 * S, False)


@pytest.mark.parametrize(("kind", "severity"), [
    ("security.code_pink", Alert.Severity.CRITICAL), ("security.tamper", Alert.Severity.CRITICAL),
    ("security.exit_alarm", Alert.Severity.CRITICAL),
])
def test_critical_security_alarms_reach_charge_nurses_and_administrators_within_a_minute(kind: str,
                                                                                        severity: int) -> None:
    plan = policy_for(kind=kind, severity=severity)
    reached = {step.audience: step.after_s for step in plan.steps}
    assert reached["charge_nurses"] <= 60 and reached["administrators"] <= 60
    assert 0 < plan.reminder_every_s <= 30


@pytest.mark.parametrize("kind", [
    "security.exit_approach", "security.exit_alarm", "security.elevator_hold", "security.tamper",
    "security.strap_loose", "security.supervision_lost", "security.outside_ward", "security.mismatch",
    "security.low_battery", "security.code_pink", "security.door_forced", "security.door_held_open",
    "security.door_offline", "security.escort_expired", "security.door_egress_released",
])
def test_every_security_alert_kind_has_its_own_policy(kind: str) -> None:
    plan = policy_for(kind=kind, severity=Alert.Severity.INFO)
    assert plan.policy_id is not None and plan.policy_name not in ("Security", "Any alert (fallback)")
    assert plan.steps  # someone more is told if nobody answers
