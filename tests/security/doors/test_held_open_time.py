"""Each controller's own held-open time (DoorController.held_open_s): it reaches the state machine through
controller_spec, a door reports held open after that time and not the default 30 s, the alert follows,
and values outside 5..600 s are refused by the model, the database and the admin."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from alerts.models import Alert
from security.doors.egress import HELD_OPEN, DoorMachine, Step
from security.doors.selectors import controller_spec
from security.doors.services import door_state_apply
from security.models import DoorController
from tests.security.doors.conftest import Controllers, at, state_of

pytestmark = pytest.mark.django_db

HELD_OPEN_KEY = "security.door_held_open:maglock-3N"


def _alert_state() -> str | None:
    alert = Alert.objects.filter(key=HELD_OPEN_KEY).first()
    return None if alert is None else alert.state


@pytest.mark.parametrize("held_open_s", [10.0, 60.0])
def test_it_reports_held_open_after_the_controllers_own_time_and_not_before(
        controllers: Controllers, held_open_s: float) -> None:
    row = controllers.exit
    row.held_open_s = held_open_s
    row.save(update_fields=["held_open_s"])
    machine = DoorMachine(row.kind, controller_spec(row).egress_settings())
    locked_at_s = 2.0
    # (seconds from T0, input, held_open after it, the held-open alert's state after the state message)
    sequence: list[tuple[float, Callable[[float], Step], bool, str | None]] = [
        (0.0, machine.door_open, False, None),  # unlocked: free passage, it may stand open
        (locked_at_s, machine.lock, False, None),  # locked while open: the time counts from here
        (locked_at_s + held_open_s - 0.5, machine.advance, False, None),
        (locked_at_s + held_open_s, machine.advance, True, "new"),
        (locked_at_s + held_open_s + 5.0, machine.door_close, False, "resolved"),
    ]
    for at_s, step_input, held_open, alert_state in sequence:
        step = step_input(at_s)
        door_state_apply(code=row.code, state=state_of(machine.state, at_s=at_s), at=at(at_s))
        assert (machine.state.held_open, _alert_state()) == (held_open, alert_state), f"at {at_s} s"
        assert ((HELD_OPEN, at_s) in step.events) == (at_s == locked_at_s + held_open_s)
    alert = Alert.objects.get(key=HELD_OPEN_KEY)
    assert alert.raised_at == at(locked_at_s + held_open_s)
    assert not DoorController.objects.get(pk=row.pk).forced  # locked while open is not forcing


def test_a_new_controller_gets_30_s_and_its_spec_carries_every_time(controllers: Controllers) -> None:
    row = controllers.exit
    assert row.held_open_s == 30.0
    row.egress_delay_s, row.egress_push_s, row.held_open_s, row.locked = 20.0, 2.0, 45.0, True
    spec = controller_spec(row)
    assert (spec.code, spec.kind, spec.topic, spec.locked) == ("maglock-3N", "maglock", row.topic, True)
    settings = spec.egress_settings()
    assert (settings.egress_delay_s, settings.egress_push_s, settings.held_open_s) == (20.0, 2.0, 45.0)


@pytest.mark.parametrize("held_open_s", [5.0, 30.0, 600.0])
def test_it_accepts_a_held_open_time_from_5_to_600_s(controllers: Controllers, held_open_s: float) -> None:
    row = DoorController(code="maglock-new", name="new exit", topic="hospital_iot/doors/maglock-new",
                         held_open_s=held_open_s)
    row.full_clean()
    row.save()
    assert DoorController.objects.get(code="maglock-new").held_open_s == held_open_s


@pytest.mark.parametrize(("held_open_s", "field", "says"), [
    (4.99, "held_open_s", "greater than or equal to 5"),
    (0.0, "held_open_s", "greater than or equal to 5"),
    (-30.0, "held_open_s", "greater than or equal to 5"),
    (600.01, "held_open_s", "less than or equal to 600"),
    (math.inf, "held_open_s", "less than or equal to 600"),
    # NaN passes the min/max validators (every comparison is false): the check constraint stops it
    (math.nan, NON_FIELD_ERRORS, "The held-open time must be 5 to 600 s."),
])
def test_it_refuses_a_held_open_time_outside_5_to_600_s(
        controllers: Controllers, held_open_s: float, field: str, says: str) -> None:
    row = DoorController(code="maglock-new", name="new exit", topic="hospital_iot/doors/maglock-new",
                         held_open_s=held_open_s)
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert says in " ".join(refused.value.message_dict[field])
    with transaction.atomic(), pytest.raises(IntegrityError, match="doorcontroller_held_open_5_to_600_s"):
        row.save()  # a writer that skips validation still cannot store it
    assert not DoorController.objects.filter(code="maglock-new").exists()


def _admin_form(row: DoorController, held_open_s: str) -> dict[str, str]:
    return {"code": row.code, "name": row.name, "kind": row.kind, "floor": str(row.floor_id or ""),
            "topic": row.topic, "egress_delay_s": str(row.egress_delay_s), "egress_push_s": str(row.egress_push_s),
            "held_open_s": held_open_s}


@pytest.mark.parametrize(("typed", "says"), [
    ("45", ""),  # saved
    ("4", "greater than or equal to 5"),
    ("601", "less than or equal to 600"),
    ("nan", "Enter a number."),
    ("half a minute", "Enter a number."),
])
def test_the_administrator_sets_the_held_open_time_in_the_admin(
        client: Client, administrator: User, controllers: Controllers, typed: str, says: str) -> None:
    client.force_login(administrator)
    url = f"/admin/security/doorcontroller/{controllers.exit.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and b'name="held_open_s"' in page.content
    response = client.post(url, _admin_form(controllers.exit, typed))
    if says:  # the form shows what is wrong and the row keeps its time
        assert response.status_code == 200 and says in response.content.decode()
        assert DoorController.objects.get(pk=controllers.exit.pk).held_open_s == 30.0
    else:
        assert response.status_code == 302
        assert DoorController.objects.get(pk=controllers.exit.pk).held_open_s == float(typed)
    listing = client.get("/admin/security/doorcontroller/")
    assert listing.status_code == 200 and b"column-held_open_s" in listing.content
