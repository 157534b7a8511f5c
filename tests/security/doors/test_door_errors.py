"""One error family: a refused door command is a SecurityRefused, and the API still answers it as before
(400 naming "command"), while every other SecurityRefused stays a 409 with its sentence."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from security.apis import Conflict, refusals
from security.doors.services import DoorCommandRefused, door_command
from security.exceptions import SecurityRefused
from security.models import DoorCommand
from tests.security.doors.conftest import Controllers, RecordingPort


def test_a_refused_door_command_is_a_security_refusal() -> None:
    assert issubclass(DoorCommandRefused, SecurityRefused)
    assert not issubclass(DoorCommandRefused, ValueError)  # one family, not two


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "command", "says"), [
    ("maglock-3N", "hold", "maglock-3N is a maglock controller: it takes lock / unlock / reset, not 'hold'"),
    ("no-such-door", "lock", "there is no door controller 'no-such-door'"),
])
def test_code_that_catches_security_refusals_catches_door_refusals(
        controllers: Controllers, recording_port: RecordingPort, code: str, command: str, says: str) -> None:
    with pytest.raises(SecurityRefused) as refused:
        door_command(controller=code, command=command, reason="test")
    assert str(refused.value) == says
    assert recording_port.sent == [] and not DoorCommand.objects.exists()


@pytest.mark.parametrize(("error", "answer", "status", "detail"), [
    (DoorCommandRefused("lifts-3N takes hold / release"), serializers.ValidationError, 400,
     {"command": "lifts-3N takes hold / release"}),
    (SecurityRefused("A second person must confirm this discharge."), Conflict, 409,
     "A second person must confirm this discharge."),
])
def test_the_api_answers_each_refusal_as_before(error: SecurityRefused, answer: type[Exception], status: int,
                                               detail: object) -> None:
    with pytest.raises(answer) as raised, refusals():
        raise error
    assert type(raised.value) is answer
    assert getattr(raised.value, "status_code", None) == status
    assert getattr(raised.value, "detail", None) == detail
