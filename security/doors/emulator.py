"""An emulated door or elevator controller on a real MQTT broker, for the demo and the tests.

It does what a small relay board behind an MQTT bridge would do (docs/doors.md): subscribes to
`<topic>/cmd`, runs the egress state machine on the real clock, publishes each event to `<topic>/event`
and its state, retained, to `<topic>/state` on every change and every `heartbeat_s`. The methods
open_door, close_door, force, push_start, push_end and push stand in for the people at the door.
No Django.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from security.doors.egress import DoorMachine, DoorRefused, EgressSettings, Snapshot, Step
from security.doors.protocol import (
    CMD,
    EVENT,
    HEARTBEAT_S,
    STATE,
    DoorEvent,
    DoorState,
    ProtocolError,
    command_decode,
    event_encode,
    seconds_to_datetime,
    state_encode,
    topic_of,
)

logger = logging.getLogger(__name__)

_client_ids = itertools.count(1)


@dataclass(frozen=True)
class ControllerSpec:
    """What the emulator needs of a DoorController row (DoorController fields by the same names)."""

    code: str
    kind: str
    topic: str
    egress_delay_s: float = 15.0
    egress_push_s: float = 1.0
    held_open_s: float = 30.0
    locked: bool = False  # how it starts

    def egress_settings(self) -> EgressSettings:
        """The state machine's times (ValueError if the fire code does not allow them)."""
        return EgressSettings(egress_delay_s=self.egress_delay_s, egress_push_s=self.egress_push_s,
                              held_open_s=self.held_open_s)


class DoorControllerEmulator:
    """One controller. Thread-safe: commands arrive on paho's thread, timers run on the emulator's own."""

    def __init__(self, spec: ControllerSpec, *, host: str = "127.0.0.1", port: int = 1883,
                 heartbeat_s: float = HEARTBEAT_S, clock: Callable[[], float] = time.time) -> None:
        self.spec, self.host, self.port, self.heartbeat_s, self._clock = spec, host, port, heartbeat_s, clock
        self._lock = threading.RLock()
        self.machine = DoorMachine(spec.kind, spec.egress_settings(), now_s=clock())
        self.machine.state = Snapshot(locked=spec.locked and spec.kind != "elevator")
        self.last_ack: str | None = None
        self.commands = self.refused = self.garbage = self.states_published = 0
        self._scheduled: list[tuple[float, Callable[[float], Step]]] = []  # (at_s, input): push() lets go later
        self._next_state_s = 0.0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                   client_id=f"door-emulator-{spec.code}-{os.getpid()}-{next(_client_ids)}"[:128])
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None

    # --- life --------------------------------------------------------------------------------------

    def start(self, *, timeout_s: float = 5.0) -> None:
        """Connect (OSError if the broker is not there), subscribe, publish the first state, run the timers."""
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(timeout_s):
            self._client.loop_stop()
            raise OSError(f"door emulator {self.spec.code}: no subscription to its commands in {timeout_s} s")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"door-emulator-{self.spec.code}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Go silent, as a controller that lost power: the last retained state stays on the broker."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._client.disconnect()
        self._client.loop_stop()

    def clear_retained(self) -> None:
        """Remove the retained state from the broker (tests clean up their topics)."""
        self._client.publish(topic_of(self.spec.topic, STATE), b"", qos=1, retain=True).wait_for_publish(5)

    @property
    def state(self) -> Snapshot:
        with self._lock:
            return self.machine.state

    # --- the people at the door ----------------------------------------------------------------------

    def open_door(self) -> Step:
        return self._input(self.machine.door_open)

    def close_door(self) -> Step:
        return self._input(self.machine.door_close)

    def force(self) -> Step:
        """Open the door whatever its lock (forced if it is locked and not released)."""
        return self._input(self.machine.door_open)

    def push_start(self) -> Step:
        return self._input(self.machine.push_start)

    def push_end(self) -> Step:
        return self._input(self.machine.push_end)

    def push(self, hold_s: float) -> Step:
        """Push the bar now and let go after hold_s (returns at once)."""
        step = self._input(self.machine.push_start)
        with self._lock:
            self._scheduled.append((self.machine.now_s + hold_s, self.machine.push_end))
        self._wake.set()
        return step

    # --- inside ------------------------------------------------------------------------------------

    def _now_s(self) -> float:
        return max(self.machine.now_s, self._clock())

    def _input(self, action: Callable[[float], Step]) -> Step:
        with self._lock:
            step = action(self._now_s())
            self._report(step)
        self._wake.set()  # the timers may have changed
        return step

    def _report(self, step: Step, *, state: bool = False) -> None:
        """Publish the step's events, then the state if anything changed or `state` (under the lock)."""
        for name, at_s in step.events:
            self._publish(EVENT, event_encode(DoorEvent(event=name, at=seconds_to_datetime(at_s))), retain=False)
        if state or step.changed or step.events:
            self._publish_state(step.at_s)

    def _publish_state(self, at_s: float) -> None:
        s = self.machine.state
        state = DoorState(locked=s.locked, open=s.open, forced=s.forced, held_open=s.held_open, held=s.held,
                          egress=s.egress, ack=self.last_ack, at=seconds_to_datetime(at_s),
                          release_at=seconds_to_datetime(s.release_at_s) if s.release_at_s is not None else None)
        self._publish(STATE, state_encode(state), retain=True)
        self.states_published += 1
        self._next_state_s = at_s + self.heartbeat_s

    def _publish(self, leaf: str, payload: bytes, *, retain: bool) -> None:
        self._client.publish(topic_of(self.spec.topic, leaf), payload, qos=1, retain=retain)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                wake_s = self._tick()
            except Exception:  # a bug here must not silence the controller: log it, try again shortly
                logger.exception("door emulator %s: timer step failed", self.spec.code)
                wake_s = self._clock() + 1.0
            self._wake.wait(max(0.001, min(wake_s - self._clock(), self.heartbeat_s)))
            self._wake.clear()

    def _tick(self) -> float:
        """Run what is due (let-gos of push(), the machine's timers, the heartbeat); returns when to wake."""
        with self._lock:
            now_s = self._now_s()
            for item in sorted((i for i in self._scheduled if i[0] <= now_s), key=lambda i: i[0]):
                self._scheduled.remove(item)
                self._report(item[1](max(item[0], self.machine.now_s)))
            self._report(self.machine.advance(now_s))
            if now_s >= self._next_state_s:
                self._publish_state(now_s)  # the heartbeat
            due = self.machine.next_due_s()
            return min([self._next_state_s, *(t for t, _ in self._scheduled), *([due] if due is not None else [])])

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                    _properties: object) -> None:
        if getattr(reason, "is_failure", False):
            logger.warning("door emulator %s: broker refused: %s", self.spec.code, reason)
            return
        client.subscribe(topic_of(self.spec.topic, CMD), qos=1)
        with self._lock:
            self._publish_state(self._now_s())

    def _on_subscribe(self, _client: mqtt.Client, _userdata: object, _mid: int, _reasons: object,
                      _properties: object) -> None:
        self._subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            command = command_decode(bytes(message.payload))
        except ProtocolError as error:
            self.garbage += 1
            logger.warning("door emulator %s: ignored a command: %s", self.spec.code, error)
            return
        with self._lock:
            self.commands += 1
            try:
                step = self.machine.command(command.cmd, self._now_s())
            except DoorRefused as error:
                self.refused += 1
                logger.warning("door emulator %s: refused %s %s: %s", self.spec.code, command.cmd, command.id, error)
                step = Step(command.cmd, self._now_s(), False, note=str(error))
            self.last_ack = command.id
            self._report(step, state=True)  # the ack goes out even when nothing changed
        self._wake.set()
