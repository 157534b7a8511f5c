"""End to end on the real Mosquitto: door_command -> the MQTT port -> an emulated controller -> its state
and events -> the run_doors listener -> the rows, the command's acknowledgement and the door alerts.

Every test has topics of its own (hospital_iot_test/<random>/...), so runs in parallel do not meet and
retained states of earlier runs are never read; the emulators clear theirs at the end.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

from alerts.models import Alert
from floorplans.models import Floor
from readers.management.commands.run_emulators import start_door_emulators
from security.doors.emulator import ControllerSpec, DoorControllerEmulator
from security.doors.listener import DoorsListener
from security.doors.port import MqttDoorPort, door_port_install
from security.doors.protocol import state_decode
from security.doors.services import door_command, door_forced_listeners
from security.models import DoorCommand, DoorController

pytestmark = pytest.mark.django_db(transaction=True)  # the listener applies on a thread of its own

BOUND_S = 2.0  # a command's state back in the database within this


def wait_for(check: Callable[[], bool], timeout_s: float = BOUND_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def row(code: str) -> DoorController:
    return DoorController.objects.get(code=code)


@dataclass
class Rig:
    prefix: str
    listener: DoorsListener
    port: MqttDoorPort
    emulators: dict[str, DoorControllerEmulator]

    def publish(self, topic: str, payload: bytes) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        client.connect(settings.MQTT_HOST, settings.MQTT_PORT)
        client.loop_start()
        client.publish(topic, payload, qos=1).wait_for_publish(3)
        client.disconnect()
        client.loop_stop()


@pytest.fixture
def rig(floor: Floor) -> Iterator[Rig]:
    prefix = f"hospital_iot_test/{uuid.uuid4().hex[:12]}"
    specs = [
        ControllerSpec(code="maglock-e2e", kind="maglock", topic=f"{prefix}/maglock-e2e", egress_delay_s=0.3,
                       egress_push_s=0.1, held_open_s=0.3),
        ControllerSpec(code="lifts-e2e", kind="elevator", topic=f"{prefix}/lifts-e2e"),
    ]
    for spec in specs:
        DoorController.objects.create(code=spec.code, name=spec.code, kind=spec.kind, topic=spec.topic, floor=floor,
                                      egress_delay_s=spec.egress_delay_s, egress_push_s=spec.egress_push_s)
    listener = DoorsListener(host=settings.MQTT_HOST, port=settings.MQTT_PORT,
                             filters=[f"{prefix}/+/state", f"{prefix}/+/event"])
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    assert listener.subscribed.wait(3)
    port = MqttDoorPort(host=settings.MQTT_HOST, port=settings.MQTT_PORT)
    port.start()  # connected before the test, as in a process that has sent a command before
    previous = door_port_install(port)
    emulators = {spec.code: DoorControllerEmulator(spec, host=settings.MQTT_HOST, port=settings.MQTT_PORT,
                                                   heartbeat_s=0.2 if spec.kind == "elevator" else 10.0)
                 for spec in specs}
    for emulator in emulators.values():
        emulator.start()
    try:
        assert wait_for(lambda: all(row(code).online for code in emulators) and port.connected)
        yield Rig(prefix, listener, port, emulators)
    finally:
        for emulator in emulators.values():
            emulator.clear_retained()
            emulator.stop()
        door_port_install(previous)
        port.close()
        stop.set()
        thread.join(5)


def test_a_lock_command_reaches_the_controller_and_its_state_comes_back_acknowledged(rig: Rig) -> None:
    heard_first = row("lifts-e2e").state_at
    assert heard_first is not None
    started = time.perf_counter()
    record = door_command(controller="maglock-e2e", command="lock", reason="infant at the exit")
    assert wait_for(lambda: DoorCommand.objects.get(pk=record.pk).acked_at is not None)
    assert time.perf_counter() - started < BOUND_S
    assert rig.emulators["maglock-e2e"].state.locked
    assert row("maglock-e2e").locked
    hold = door_command(controller="lifts-e2e", command="hold", reason="Code Pink")
    assert wait_for(lambda: DoorCommand.objects.get(pk=hold.pk).acked_at is not None and row("lifts-e2e").held)
    assert rig.port.flush(1.0)
    assert rig.port.acked == rig.port.sent == 2
    # and the controllers keep saying so every heartbeat (0.2 s for the lifts here, 10 s by default)
    assert wait_for(lambda: (row("lifts-e2e").state_at or heard_first) - heard_first >= timedelta(seconds=0.5))
    assert row("lifts-e2e").held


@pytest.mark.django_db  # no other thread touches the database: the fast kind of test database
def test_sending_never_waits_for_the_broker(floor: Floor) -> None:
    """A "broker" that takes the TCP connection and never answers: door_command still returns at once."""
    DoorController.objects.create(code="maglock-nowhere", name="nowhere", topic=f"hospital_iot_test/{uuid.uuid4().hex}")
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        port = MqttDoorPort(host="127.0.0.1", port=mute.getsockname()[1])
        previous = door_port_install(port)
        try:
            started = time.perf_counter()
            records = [door_command(controller="maglock-nowhere", command="lock", reason="test") for _ in range(20)]
            elapsed_s = time.perf_counter() - started
            assert not port.flush(0.2)  # nothing got through...
        finally:
            door_port_install(previous)
            port.close()
    assert elapsed_s < 1.0  # ...yet 20 commands took no longer than 20 inserts
    assert all(r.error == "" for r in records) and not port.connected


def test_a_forced_door_raises_the_alert_and_tells_the_listeners(rig: Rig) -> None:
    heard: list[tuple[str, datetime]] = []
    door_forced_listeners.append(lambda controller, at: heard.append((controller.code, at)))
    try:
        lock = door_command(controller="maglock-e2e", command="lock", reason="test")
        assert wait_for(lambda: DoorCommand.objects.get(pk=lock.pk).acked_at is not None)
        rig.emulators["maglock-e2e"].force()
        assert wait_for(lambda: Alert.objects.filter(key="security.door_forced:maglock-e2e").exists())
        assert wait_for(lambda: heard != [])
    finally:
        door_forced_listeners.pop()
    assert heard[0][0] == "maglock-e2e" and row("maglock-e2e").forced
    rig.emulators["maglock-e2e"].close_door()
    assert wait_for(lambda: not Alert.objects.get(key="security.door_forced:maglock-e2e").condition_active)
    assert len(heard) == 1


def test_delayed_egress_releases_after_a_sustained_push_and_not_after_a_brief_one(rig: Rig) -> None:
    emulator = rig.emulators["maglock-e2e"]
    lock = door_command(controller="maglock-e2e", command="lock", reason="test")
    assert wait_for(lambda: DoorCommand.objects.get(pk=lock.pk).acked_at is not None)
    emulator.push(0.03)  # under egress_push_s (0.1 s): nothing
    time.sleep(0.6)
    assert emulator.state.egress == "idle" and row("maglock-e2e").egress == "idle"
    pushed = time.time()
    emulator.push(0.2)
    assert wait_for(lambda: row("maglock-e2e").egress == "pending", timeout_s=1.0)
    assert emulator.state.sounder
    assert wait_for(lambda: row("maglock-e2e").egress == "released", timeout_s=1.5)
    released = row("maglock-e2e")
    assert released.egress_release_at is not None
    assert 0.4 - 0.05 <= released.egress_release_at.timestamp() - pushed <= 0.4 + 0.2  # push 0.1 s + delay 0.3 s
    assert released.locked  # still commanded locked: the release stays until staff reset it
    alert = Alert.objects.get(key="security.door_egress_released:maglock-e2e")  # raised with the release
    assert (alert.severity, alert.audience, alert.condition_active) == (Alert.Severity.HIGH, "security", True)
    time.sleep(0.2)
    assert row("maglock-e2e").egress == "released"
    reset = door_command(controller="maglock-e2e", command="reset", reason="checked by security")
    assert wait_for(lambda: DoorCommand.objects.get(pk=reset.pk).acked_at is not None)
    assert row("maglock-e2e").egress == "idle" and emulator.state.secure
    alert.refresh_from_db()
    assert (alert.state, alert.condition_active) == ("new", False)  # reset: cleared; an officer resolves it


def test_a_door_propped_open_while_locked_raises_held_open_and_closing_resolves_it(rig: Rig) -> None:
    emulator = rig.emulators["maglock-e2e"]
    emulator.open_door()  # unlocked: free passage
    lock = door_command(controller="maglock-e2e", command="lock", reason="test")
    assert wait_for(lambda: DoorCommand.objects.get(pk=lock.pk).acked_at is not None)
    assert not row("maglock-e2e").forced  # locked while open is not forcing
    assert wait_for(lambda: Alert.objects.filter(key="security.door_held_open:maglock-e2e").exists())
    emulator.close_door()
    assert wait_for(lambda: Alert.objects.get(key="security.door_held_open:maglock-e2e").state == "resolved")


def test_garbage_and_strangers_are_counted_drops_and_the_listener_goes_on(rig: Rig) -> None:
    rig.publish(f"{rig.prefix}/maglock-e2e/state", b"{not json")
    rig.publish(f"{rig.prefix}/maglock-e2e/event", b'{"event": "exploded", "at": "2026-03-04T10:00:00Z"}')
    rig.publish(f"{rig.prefix}/nobody/event", b'{"event": "forced", "at": "2026-03-04T10:00:00Z"}')
    assert wait_for(lambda: rig.listener.drops.total() == 3)
    assert rig.listener.drops.counts() == {"garbled": 1, "absurd_value": 1, "unknown_reader": 1}
    record = door_command(controller="maglock-e2e", command="lock", reason="still listening")
    assert wait_for(lambda: DoorCommand.objects.get(pk=record.pk).acked_at is not None)
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_run_emulators_starts_one_emulator_per_controller_row(floor: Floor) -> None:
    topic = f"hospital_iot_test/{uuid.uuid4().hex[:12]}/maglock-demo"
    DoorController.objects.create(code="maglock-demo", name="demo", topic=topic, locked=True, egress_delay_s=15.0)
    states: list[bytes] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, message: states.append(bytes(message.payload))
    client.connect(settings.MQTT_HOST, settings.MQTT_PORT)
    client.subscribe(f"{topic}/state", qos=1)
    client.loop_start()
    emulators = start_door_emulators()
    try:
        assert [e.spec.code for e in emulators] == ["maglock-demo"]
        assert wait_for(lambda: any(payload for payload in states))
        assert state_decode(next(p for p in states if p)).locked  # starts as its row last said
    finally:
        for emulator in emulators:
            emulator.clear_retained()
            emulator.stop()
        client.disconnect()
        client.loop_stop()
