"""The door services on the real database and channel layer, with the door hardware replaced at its one
seam (a recording port): commands, state and events in, the door alerts, offline, the floor maps."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User

from alerts.models import Alert
from floorplans.models import Door
from security.doors.protocol import DoorEvent, DoorState
from security.doors.services import (
    DoorCommandRefused,
    UnknownController,
    door_command,
    door_event_apply,
    door_forced_listeners,
    door_state_apply,
    doors_offline_check,
    elevator_controllers,
    exit_controllers,
)
from security.models import DoorCommand, DoorController
from tests.security.doors.conftest import T0, Controllers, RecordingPort

pytestmark = pytest.mark.django_db


def state(**overrides: Any) -> DoorState:
    fields: dict[str, Any] = {"locked": False, "open": False, "forced": False, "held_open": False, "held": False,
                              "egress": "idle", "release_at": None, "ack": None, "at": T0}
    return DoorState(**(fields | overrides))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- commands ----------------------------------------------------------------------------------------------

def test_door_command_sends_at_once_and_records_it(controllers: Controllers, recording_port: RecordingPort,
                                                   security_officer: User) -> None:
    started = time.perf_counter()
    record = door_command(controller="maglock-3N", command="lock", reason="infant at exit X-1", user=security_officer,
                          at=T0)
    assert time.perf_counter() - started < 0.5
    [(topic, sent)] = recording_port.sent
    assert (topic, sent.cmd, sent.reason, sent.at, sent.id) == (
        "hospital_iot/doors/maglock-3N", "lock", "infant at exit X-1", T0, str(record.command_id))
    record.refresh_from_db()
    assert (record.controller_id, record.command, record.requested_by, record.sent_at, record.acked_at,
            record.error) == (controllers.exit.pk, "lock", security_officer, T0, None, "")


def test_a_controller_without_a_topic_gets_the_default_one(controllers: Controllers,
                                                            recording_port: RecordingPort) -> None:
    door_command(controller=controllers.store, command="unlock", reason="delivery")
    assert recording_port.sent[0][0] == "hospital_iot/doors/access-3N-store"


@pytest.mark.parametrize(("code", "command", "words"), [
    ("maglock-3N", "hold", "maglock-3N is a maglock controller: it takes lock / unlock / reset, not 'hold'"),
    ("lifts-3N", "lock", "lifts-3N is an elevator controller: it takes hold / release, not 'lock'"),
    ("lifts-3N", "reset", "not 'reset'"),
    ("no-such-door", "lock", "there is no door controller 'no-such-door'"),
])
def test_door_command_refuses_what_the_controller_cannot_do(controllers: Controllers, recording_port: RecordingPort,
                                                            code: str, command: str, words: str) -> None:
    with pytest.raises(DoorCommandRefused, match=words):
        door_command(controller=code, command=command, reason="test")
    assert recording_port.sent == [] and not DoorCommand.objects.exists()


def test_a_command_that_could_not_be_queued_is_recorded_with_the_error(controllers: Controllers,
                                                                        recording_port: RecordingPort) -> None:
    recording_port.accept = False
    record = door_command(controller=controllers.lifts, command="hold", reason="Code Pink")
    assert "not sent" in DoorCommand.objects.get(pk=record.pk).error


def test_exit_and_elevator_controllers_of_a_floor_and_of_its_building(controllers: Controllers) -> None:
    floor = controllers.floor
    assert exit_controllers(floor_id=floor.pk, building_id=floor.building_id) == [controllers.exit]
    assert exit_controllers(floor_id=None, building_id=floor.building_id) == [controllers.exit]
    assert exit_controllers(floor_id=floor.pk + 1000, building_id=floor.building_id) == []
    assert elevator_controllers(floor_id=floor.pk, building_id=floor.building_id) == [controllers.lifts]
    assert elevator_controllers(floor_id=None, building_id=floor.building_id + 1000) == []
    Door.objects.filter(floor=floor, code="D-ST").update(is_exit=True)  # the store's access door now leads out
    codes = [c.code for c in exit_controllers(floor_id=floor.pk, building_id=floor.building_id)]
    assert codes == ["access-3N-store", "maglock-3N"]


# --- state in ---------------------------------------------------------------------------------------------

def test_a_state_updates_the_row_and_acknowledges_its_command(controllers: Controllers,
                                                              recording_port: RecordingPort) -> None:
    record = door_command(controller="maglock-3N", command="lock", reason="test", at=T0)
    door_state_apply(code="maglock-3N", state=state(locked=True, ack=str(record.command_id), at=at(0.2)), at=at(0.25))
    row = DoorController.objects.get(code="maglock-3N")
    assert (row.locked, row.online, row.state_at, row.egress) == (True, True, at(0.25), "idle")
    assert DoorCommand.objects.get(pk=record.pk).acked_at == at(0.25)
    # the heartbeat repeats the ack: the first acknowledgement stands
    door_state_apply(code="maglock-3N", state=state(locked=True, ack=str(record.command_id), at=at(10)), at=at(10))
    assert DoorCommand.objects.get(pk=record.pk).acked_at == at(0.25)


def test_a_state_from_an_unknown_controller_is_refused(controllers: Controllers) -> None:
    with pytest.raises(UnknownController, match="no door controller 'ghost'"):
        door_state_apply(code="ghost", state=state(), at=T0)


def test_a_forced_door_raises_once_calls_the_listeners_once_and_closing_clears_it(
        controllers: Controllers, django_capture_on_commit_callbacks: Any) -> None:
    heard: list[tuple[str, datetime]] = []
    door_forced_listeners.append(lambda controller, when: heard.append((controller.code, when)))
    try:
        door_state_apply(code="maglock-3N", state=state(locked=True), at=T0)
        door_event_apply(code="maglock-3N", event=DoorEvent(event="forced", at=at(5)), at=at(5.1))
        door_state_apply(code="maglock-3N", state=state(locked=True, open=True, forced=True, at=at(5)), at=at(5.1))
        door_state_apply(code="maglock-3N", state=state(locked=True, open=True, forced=True, at=at(15)), at=at(15))
    finally:
        door_forced_listeners.pop()
    assert heard == [("maglock-3N", at(5))]
    alert = Alert.objects.get(kind="security.door_forced")
    assert (alert.key, alert.severity, alert.subject_type, alert.subject_id, alert.audience, alert.floor_id) == (
        "security.door_forced:maglock-3N", Alert.Severity.HIGH, "door", "maglock-3N", "security", controllers.floor.pk)
    assert alert.x_m is not None and alert.raised_at == at(5) and alert.occurrences == 1
    door_event_apply(code="maglock-3N", event=DoorEvent(event="closed", at=at(20)), at=at(20))
    alert.refresh_from_db()
    assert (alert.state, alert.condition_active) == ("new", False)  # closed, but someone must still deal with it
    assert not DoorController.objects.get(code="maglock-3N").forced


def test_a_failing_listener_does_not_stop_the_others(controllers: Controllers) -> None:
    heard: list[str] = []

    def broken(_controller: DoorController, _when: datetime) -> None:
        raise RuntimeError("listener bug")

    door_forced_listeners.extend([broken, lambda controller, _when: heard.append(controller.code)])
    try:
        door_state_apply(code="maglock-3N", state=state(locked=True, open=True, forced=True), at=T0)
    finally:
        del door_forced_listeners[-2:]
    assert heard == ["maglock-3N"]
    assert DoorController.objects.get(code="maglock-3N").forced


def test_held_open_raises_a_warning_resolved_when_the_door_closes(controllers: Controllers) -> None:
    door_state_apply(code="maglock-3N", state=state(locked=True, open=True, held_open=True), at=T0)
    alert = Alert.objects.get(kind="security.door_held_open")
    assert (alert.severity, alert.key) == (Alert.Severity.WARNING, "security.door_held_open:maglock-3N")
    door_state_apply(code="maglock-3N", state=state(locked=True, at=at(3)), at=at(3))
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_an_egress_push_only_informs(controllers: Controllers) -> None:
    """The release that follows raises an alert (test_door_egress_release.py); the push itself does not."""
    door_event_apply(code="maglock-3N", event=DoorEvent(event="egress_push", at=T0), at=T0)
    assert not Alert.objects.exists()
    assert DoorController.objects.get(code="maglock-3N").egress == "idle"


# --- offline ----------------------------------------------------------------------------------------------

def test_a_silent_controller_goes_offline_after_three_heartbeats_and_back_on_its_next_state(
        controllers: Controllers) -> None:
    DoorController.objects.exclude(code="maglock-3N").delete()
    door_state_apply(code="maglock-3N", state=state(at=T0), at=T0)
    assert doors_offline_check(now=at(29.9)) == 0
    assert doors_offline_check(now=at(30.1)) == 1
    row = DoorController.objects.get(code="maglock-3N")
    assert not row.online
    alert = Alert.objects.get(kind="security.door_offline")
    assert (alert.severity, alert.subject_id, alert.state) == (Alert.Severity.WARNING, "maglock-3N", "new")
    assert doors_offline_check(now=at(60)) == 0  # said once
    door_state_apply(code="maglock-3N", state=state(at=at(61)), at=at(61))
    alert.refresh_from_db()
    assert alert.state == "resolved" and DoorController.objects.get(code="maglock-3N").online


def test_a_controller_never_heard_from_is_offline_once_the_check_has_waited(controllers: Controllers) -> None:
    assert doors_offline_check(now=at(-100)) == 0  # the check starts
    assert doors_offline_check(now=at(-80)) == 0
    assert doors_offline_check(now=at(-69)) == 3
    assert Alert.objects.filter(kind="security.door_offline").count() == 3
    assert doors_offline_check(now=at(-50)) == 0


def test_an_old_retained_state_counts_from_its_own_time(controllers: Controllers) -> None:
    door_state_apply(code="maglock-3N", state=state(locked=True, at=at(-3600)), retained=True, at=T0)
    row = DoorController.objects.get(code="maglock-3N")
    assert (row.locked, row.online, row.state_at) == (True, False, at(-3600))
    DoorController.objects.exclude(code="maglock-3N").delete()
    assert doors_offline_check(now=at(1)) == 1


# --- the floor maps -----------------------------------------------------------------------------------------

def test_a_change_sends_the_floor_its_door_rows(controllers: Controllers,
                                                django_capture_on_commit_callbacks: Any) -> None:
    layer = get_channel_layer()
    assert layer is not None
    group = f"floor.{controllers.floor.pk}"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    release_at = at(15)

    async def receive() -> dict[str, Any]:
        return dict(await asyncio.wait_for(layer.receive(channel), timeout=3))

    try:
        with django_capture_on_commit_callbacks(execute=True):
            door_state_apply(code="maglock-3N", state=state(locked=True, egress="pending", release_at=release_at),
                             at=T0)
        event = async_to_sync(receive)()
    finally:
        async_to_sync(layer.group_discard)(group, channel)
    assert event["type"] == "floor.frame"
    message = json.loads(event["text"])
    assert message["type"] == "doors" and message["floor_id"] == controllers.floor.pk
    rows = {row["controller"]: row for row in message["doors"]}
    assert set(rows) == {"maglock-3N", "lifts-3N", "access-3N-store"}
    assert rows["maglock-3N"] == {
        "controller": "maglock-3N", "name": "3N stairs exit", "kind": "maglock", "doors": ["X-1"], "locked": True,
        "open": False, "forced": False, "held_open": False, "held": False, "egress": "pending",
        "release_at": "2026-03-04T10:00:15.000Z", "online": True, "state_at": "2026-03-04T10:00:00.000Z",
    }
    assert rows["access-3N-store"]["doors"] == ["D-ST"] and rows["lifts-3N"]["doors"] == []


def test_an_unchanged_state_sends_nothing(controllers: Controllers, django_capture_on_commit_callbacks: Any) -> None:
    door_state_apply(code="maglock-3N", state=state(locked=True), at=T0)
    with django_capture_on_commit_callbacks() as callbacks:
        door_state_apply(code="maglock-3N", state=state(locked=True, at=at(10)), at=at(10))
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        door_state_apply(code="maglock-3N", state=state(locked=False, at=at(11)), at=at(11))
    assert len(callbacks) == 1
