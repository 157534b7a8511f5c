"""A delayed-egress release on a protected exit raises `security.door_egress_released` (HIGH, security,
key per controller, placed at the door), as the forced / held-open / offline alerts are raised; a staff
reset (or an unlock) clears the condition and a person resolves the alert, as for a forced door."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from alerts.models import Alert
from alerts.services import alert_resolve
from security.doors.egress import EGRESS_RELEASED, DoorMachine, Step
from security.doors.protocol import DoorEvent, DoorState
from security.doors.selectors import controller_place, controller_spec
from security.doors.services import DOOR_EGRESS_RELEASED, door_event_apply, door_state_apply
from security.models import DoorController
from tests.security.doors.conftest import T0, Controllers, at, state_of

pytestmark = pytest.mark.django_db

KEY = "security.door_egress_released:maglock-3N"


def state(**overrides: Any) -> DoorState:
    fields: dict[str, Any] = {"locked": True, "open": False, "forced": False, "held_open": False, "held": False,
                              "egress": "idle", "release_at": None, "ack": None, "at": T0}
    return DoorState(**(fields | overrides))


def _alert() -> tuple[str, bool] | None:
    """(state, condition still active) of the release alert, or None if none was raised."""
    alert = Alert.objects.filter(key=KEY).first()
    return None if alert is None else (alert.state, alert.condition_active)


def test_a_release_raises_a_high_security_alert_at_the_door_and_a_staff_reset_clears_it(
        controllers: Controllers, security_officer: User) -> None:
    row = controllers.exit
    machine = DoorMachine(row.kind, controller_spec(row).egress_settings())  # push 1 s, delay 15 s
    # (seconds from T0, input, egress after it, the release alert after the state message)
    sequence: list[tuple[float, Callable[[float], Step], str, tuple[str, bool] | None]] = [
        (0.0, machine.lock, "idle", None),
        (1.0, machine.push_start, "idle", None),
        (2.5, machine.push_end, "pending", None),  # held 1 s at 2.0: the delay runs until 17.0
        (16.9, machine.advance, "pending", None),
        (17.0, machine.advance, "released", ("new", True)),
        (20.0, machine.door_open, "released", ("new", True)),  # normal egress now, not forced
        (25.0, machine.door_close, "released", ("new", True)),  # still released until reset
        (40.0, machine.reset, "idle", ("new", False)),  # staff reset: cleared, someone still resolves it
    ]
    for at_s, step_input, egress, alert in sequence:
        step = step_input(at_s)
        door_state_apply(code=row.code, state=state_of(machine.state, at_s=at_s), at=at(at_s))
        assert (machine.state.egress, _alert()) == (egress, alert), f"at {at_s} s"
        assert ((EGRESS_RELEASED, at_s) in step.events) == (at_s == 17.0)
    released = Alert.objects.get(key=KEY)
    assert (released.kind, released.severity, released.audience, released.subject_type, released.subject_id) == (
        DOOR_EGRESS_RELEASED, Alert.Severity.HIGH, "security", "door", "maglock-3N")
    assert (released.floor_id, released.x_m, released.y_m) == controller_place(row)
    assert released.x_m is not None and released.raised_at == at(17.0) and released.occurrences == 1
    assert not Alert.objects.filter(kind="security.door_forced").exists()
    alert_resolve(alert_id=released.pk, user=security_officer, note="checked the stairwell", at=at(60))
    assert _alert() == ("resolved", False)


def test_the_release_event_raises_it_at_once_and_the_state_that_follows_does_not_again(
        controllers: Controllers) -> None:
    door_state_apply(code="maglock-3N", state=state(egress="pending", release_at=at(15)), at=T0)
    assert _alert() is None  # a running delay is not yet a release
    door_event_apply(code="maglock-3N", event=DoorEvent(event="egress_released", at=at(15)), at=at(15.05))
    assert DoorController.objects.get(code="maglock-3N").egress == "released"
    assert _alert() == ("new", True)
    door_state_apply(code="maglock-3N", state=state(egress="released", release_at=at(15), at=at(15)), at=at(15.1))
    door_state_apply(code="maglock-3N", state=state(egress="released", release_at=at(15), at=at(25)), at=at(25))
    alert = Alert.objects.get(key=KEY)
    assert (alert.raised_at, alert.occurrences) == (at(15), 1)


def test_an_unlock_also_ends_the_release(controllers: Controllers) -> None:
    door_state_apply(code="maglock-3N", state=state(egress="released", release_at=at(15), at=at(15)), at=at(15))
    door_state_apply(code="maglock-3N", state=state(locked=False, at=at(30)), at=at(30))
    assert _alert() == ("new", False)


def test_a_second_release_after_a_reset_is_raised_again(controllers: Controllers, security_officer: User) -> None:
    door_state_apply(code="maglock-3N", state=state(egress="released", at=at(15)), at=at(15))
    door_state_apply(code="maglock-3N", state=state(at=at(30)), at=at(30))
    alert_resolve(alert_id=Alert.objects.get(key=KEY).pk, user=security_officer, at=at(40))
    door_state_apply(code="maglock-3N", state=state(egress="released", at=at(80)), at=at(80))
    assert list(Alert.objects.filter(key=KEY).order_by("raised_at").values_list("state", "raised_at")) == [
        ("resolved", at(15)), ("new", at(80))]
