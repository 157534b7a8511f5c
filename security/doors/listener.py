"""The server side of the door protocol: subscribes to the controllers' state and event topics and applies
what arrives (services.door_state_apply / door_event_apply). `manage.py run_doors` runs it.

Messages are taken from paho's thread through a queue and applied on the caller's thread, one at a time.
A payload that breaks the protocol, a topic that names no known controller, or an apply that fails is
dropped: counted (readers.drops.DropCounter, under "door <topic base>") and logged, and the listener
goes on. An empty retained payload is someone clearing a topic, not garbage: it is ignored.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import paho.mqtt.client as mqtt
from django.db import close_old_connections, connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from readers.drops import DropCounter, DropReason
from security.doors.protocol import EVENT, STATE, TOPIC_PREFIX, ProtocolError, event_decode, state_decode, topic_split
from security.doors.selectors import controller_topic
from security.doors.services import UnknownController, door_command_ack, door_event_apply, door_state_apply
from security.models import DoorController

logger = logging.getLogger(__name__)

DEFAULT_FILTERS = (f"{TOPIC_PREFIX}/+/{STATE}", f"{TOPIC_PREFIX}/+/{EVENT}")
DIRECTORY_TTL_S = 5.0  # an unknown topic reloads the topic -> controller table at most this often
ACK_RETRY_S = 60.0  # an ack naming no command (not committed yet) is tried again for this long
_PROBLEMS = {"missing_field": DropReason.MISSING_FIELD, "wrong_type": DropReason.WRONG_TYPE,
             "absurd_value": DropReason.ABSURD_VALUE, "unknown_topic": DropReason.UNKNOWN_FORMAT}
_client_ids = itertools.count(1)


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retained: bool
    at: datetime


@dataclass
class _Ack:
    command_id: str
    heard_at: datetime
    since_s: float
    done: bool = False  # acknowledged, or given up


class DoorsListener:
    """Keeps the DoorController rows in step with the broker. `filters`: the subscriptions (default: the
    state and event topics under hospital_iot/doors/, plus those of controllers with a topic elsewhere)."""

    def __init__(self, *, host: str, port: int, filters: list[str] | None = None,
                 drops: DropCounter | None = None) -> None:
        self.host, self.port = host, port
        self.filters = filters if filters is not None else default_filters()
        self.drops = drops or DropCounter()
        self.received = self.applied = self.ignored = 0
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._directory: dict[str, str] = {}
        self._directory_at = -float("inf")
        self._acks: dict[str, _Ack] = {}  # controller code -> the last ack it reported
        self.subscribed = threading.Event()

    # --- applying (no network: tests call handle() directly) --------------------------------------------

    def handle(self, message: Received) -> bool:
        """Apply one message; False if it was dropped or ignored."""
        self.received += 1
        base = message.topic.rpartition("/")[0]
        try:
            base, leaf = topic_split(message.topic)
            if not message.payload and leaf == STATE:  # a retained state being cleared
                self.ignored += 1
                return False
            code = self._code(base)
            if leaf == STATE:
                state = state_decode(message.payload)
                door_state_apply(code=code, state=state, retained=message.retained, at=message.at)
                self._ack_seen(code, state.ack, min(state.at, message.at) if message.retained else message.at)
            elif leaf == EVENT:
                door_event_apply(code=code, event=event_decode(message.payload), at=message.at)
            else:
                self.ignored += 1  # a command (someone subscribed us to cmd): not ours to apply
                return False
        except ProtocolError as error:
            self._drop(_PROBLEMS.get(error.problem, DropReason.GARBLED), base, str(error))
            return False
        except UnknownController as error:
            self._drop(DropReason.UNKNOWN_READER, base, str(error))
            return False
        except Exception as error:  # a failed apply (database trouble) costs that message, not the listener
            logger.exception("door %s: applying %s failed", base, message.topic)
            self._drop(DropReason.GARBLED, base, f"apply failed: {error}")
            return False
        self.applied += 1
        return True

    def _ack_seen(self, code: str, ack: str | None, heard_at: datetime) -> None:
        """Remember a new ack that names no command yet; retry_acks() tries it again."""
        last = self._acks.get(code)
        if ack is None or (last is not None and last.command_id == ack):
            return  # a heartbeat repeating the ack
        done = door_command_ack(code=code, command_id=ack, at=heard_at)  # (door_state_apply has just tried too)
        self._acks[code] = _Ack(ack, heard_at, time.monotonic(), done=done)

    def retry_acks(self) -> None:
        """Acks that came before their command's row was committed: acknowledged at the time first heard."""
        for code, ack in self._acks.items():
            if ack.done:
                continue
            if door_command_ack(code=code, command_id=ack.command_id, at=ack.heard_at):
                ack.done = True
            elif time.monotonic() - ack.since_s > ACK_RETRY_S:
                ack.done = True
                logger.warning("door %s: acknowledged command %s, which was never recorded", code, ack.command_id)

    def _code(self, base: str) -> str:
        code = self._directory.get(base)
        if code is None and time.monotonic() - self._directory_at >= DIRECTORY_TTL_S:
            self._directory = {controller_topic(c): c.code for c in DoorController.objects.only("code", "topic")}
            self._directory_at = time.monotonic()
            code = self._directory.get(base)
        if code is None:
            raise UnknownController(f"no door controller has the topic {base[:200]!r}")
        return code

    def _drop(self, reason: DropReason, base: str, detail: str) -> None:
        self.drops.drop(reason, reader_id=f"door {base[:200]}", detail=detail)

    # --- the broker ----------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Subscribe and apply until `stop` is set; reconnects by itself (paho) after a lost broker."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2,
                             client_id=f"hospital_iot-run_doors-{os.getpid()}-{next(_client_ids)}")
        client.on_connect = self._on_connect
        client.on_subscribe = lambda *_: self.subscribed.set()
        client.on_message = self._on_message
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.connect_async(self.host, self.port, keepalive=30)
        client.loop_start()
        try:
            while not stop.is_set():
                try:
                    message = self._inbox.get(timeout=0.2)
                except queue.Empty:
                    message = None
                close_old_connections()
                if message is not None:
                    self.handle(message)
                while not self._inbox.empty():
                    self.handle(self._inbox.get_nowait())
                if any(not ack.done for ack in self._acks.values()):
                    self._guarded_retry()
        finally:
            client.disconnect()
            client.loop_stop()
            connection.close()

    def _guarded_retry(self) -> None:
        try:
            self.retry_acks()
        except Exception:  # database trouble: the next round tries again
            logger.exception("run_doors: acknowledging commands failed")

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                    _properties: object) -> None:
        if getattr(reason, "is_failure", False):
            logger.warning("run_doors: broker %s:%s refused: %s", self.host, self.port, reason)
            return
        client.subscribe([(topic, 1) for topic in self.filters])
        logger.info("run_doors: subscribed to %s on %s:%s", ", ".join(self.filters), self.host, self.port)

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(Received(message.topic, bytes(message.payload), bool(message.retain), timezone.now()))


def default_filters() -> list[str]:
    """The default subscriptions and those of controllers whose topic is outside hospital_iot/doors/+."""
    filters = list(DEFAULT_FILTERS)
    for controller in DoorController.objects.only("code", "topic"):
        base = controller_topic(controller)
        head, _, _code = base.rpartition("/")
        if head != TOPIC_PREFIX:
            filters += [f"{base}/{STATE}", f"{base}/{EVENT}"]
    return filters
