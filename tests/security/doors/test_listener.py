"""The run_doors listener's handling of single messages (no broker): applied, dropped with a counted reason,
ignored, and acknowledgements that arrive before their command is committed."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from security.doors.listener import DEFAULT_FILTERS, DoorsListener, Received, default_filters
from security.models import DoorCommand, DoorController
from tests.security.doors.conftest import T0, Controllers

pytestmark = pytest.mark.django_db

STATE = {"locked": True, "open": False, "forced": False, "held_open": False, "held": False, "egress": "idle",
         "release_at": None, "ack": None, "at": "2026-03-04T10:00:00Z"}


def listener() -> DoorsListener:
    return DoorsListener(host="127.0.0.1", port=1883, filters=list(DEFAULT_FILTERS))


def message(topic: str, payload: bytes | dict[str, Any], *, retained: bool = False, seconds: float = 0.0) -> Received:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Received(topic, data, retained, T0 + timedelta(seconds=seconds))


def test_a_state_is_applied_to_the_controller_of_its_topic(controllers: Controllers) -> None:
    doors = listener()
    assert doors.handle(message("hospital_iot/doors/maglock-3N/state", STATE))
    assert DoorController.objects.get(code="maglock-3N").locked
    forced = {"event": "forced", "at": "2026-03-04T10:00:01Z"}
    assert doors.handle(message("hospital_iot/doors/maglock-3N/event", forced, seconds=1))
    assert DoorController.objects.get(code="maglock-3N").forced
    assert (doors.received, doors.applied, doors.drops.total()) == (2, 2, 0)


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    ("hospital_iot/doors/maglock-3N/state", b"\x00\x01garbage", "garbled"),
    ("hospital_iot/doors/maglock-3N/state", {**STATE, "locked": "yes"}, "wrong_type"),
    ("hospital_iot/doors/maglock-3N/state", {k: v for k, v in STATE.items() if k != "egress"}, "missing_field"),
    ("hospital_iot/doors/maglock-3N/event", {"event": "opened", "at": "2026-03-04T10:00:00Z"}, "absurd_value"),
    ("hospital_iot/doors/stranger/state", STATE, "unknown_reader"),
    ("hospital_iot/doors/maglock-3N/status", STATE, "unknown_format"),
])
def test_what_cannot_be_applied_is_a_counted_drop(controllers: Controllers, topic: str, payload: Any,
                                                  reason: str) -> None:
    doors = listener()
    assert not doors.handle(message(topic, payload))
    assert doors.drops.counts() == {reason: 1}
    assert not DoorController.objects.get(code="maglock-3N").locked


def test_a_cleared_retained_state_and_a_command_are_ignored_not_dropped(controllers: Controllers) -> None:
    doors = listener()
    assert not doors.handle(message("hospital_iot/doors/maglock-3N/state", b"", retained=True))
    command = {"id": str(uuid.uuid4()), "cmd": "lock", "reason": "", "at": "2026-03-04T10:00:00Z"}
    assert not doors.handle(message("hospital_iot/doors/maglock-3N/cmd", command))
    assert (doors.ignored, doors.drops.total()) == (2, 0)


def test_an_ack_before_its_command_is_committed_is_applied_later_at_the_time_heard(controllers: Controllers) -> None:
    doors = listener()
    command_id = uuid.uuid4()
    doors.handle(message("hospital_iot/doors/maglock-3N/state", {**STATE, "ack": str(command_id)}, seconds=0.1))
    doors.retry_acks()  # the run loop asks every 0.2 s; nothing to acknowledge yet
    record = DoorCommand.objects.create(command_id=command_id, controller=controllers.exit, command="lock",
                                        sent_at=T0)  # the sender's transaction commits
    doors.retry_acks()
    assert DoorCommand.objects.get(pk=record.pk).acked_at == T0 + timedelta(seconds=0.1)
    doors.handle(message("hospital_iot/doors/maglock-3N/state", {**STATE, "ack": str(command_id)}, seconds=10))
    assert DoorCommand.objects.get(pk=record.pk).acked_at == T0 + timedelta(seconds=0.1)  # the heartbeat: no change


def test_controllers_with_a_topic_elsewhere_are_subscribed_too(controllers: Controllers) -> None:
    DoorController.objects.create(code="gate-1", name="gate", topic="site-b/relays/gate-1")
    assert default_filters() == [*DEFAULT_FILTERS, "site-b/relays/gate-1/state", "site-b/relays/gate-1/event"]
