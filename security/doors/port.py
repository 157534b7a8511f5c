"""The seam to the door hardware: DoorControllerPort sends commands; MqttDoorPort is the implementation
over the broker. One process-wide port (door_port()) serves every caller, from any thread.

Sending never waits on the network: send() puts the command on a bounded queue and returns; a worker
thread hands it to paho (QoS 1). The first send() starts the worker and connects; paho reconnects by
itself after a lost connection and keeps unsent QoS 1 commands (up to MAX_QUEUED) until it is back. A
command carries its own time (`at`), so a controller may ignore one that arrives too late to matter.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
from typing import Final, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from security.doors.protocol import CMD, Command, command_encode, topic_of

logger = logging.getLogger(__name__)

MAX_QUEUED: Final = 10_000
_client_ids = itertools.count(1)


class DoorControllerPort(Protocol):
    """Where door commands go. send() must not block: it returns False if the command could not even be
    queued (the caller records that as the command's error)."""

    def send(self, *, topic: str, command: Command) -> bool: ...


class MqttDoorPort:
    """Publishes commands to `<topic>/cmd` on an MQTT broker; thread-safe, lazily connected, reconnecting."""

    def __init__(self, *, host: str, port: int, keepalive_s: int = 30, max_queued: int = MAX_QUEUED) -> None:
        self.host, self.port, self.keepalive_s = host, port, keepalive_s
        self.sent = self.acked = self.refused = 0  # handed to paho / confirmed by the broker / not sent
        self._count_lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=max_queued)
        self._start_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()

    def send(self, *, topic: str, command: Command) -> bool:
        payload = command_encode(command)  # a bad command fails in the caller, not in the worker
        self.start()
        try:
            self._queue.put_nowait((topic_of(topic, CMD), payload))
        except queue.Full:
            self.refused += 1
            logger.error("door port: %d commands waiting; %s %s to %s not sent", self._queue.qsize(), command.cmd,
                         command.id, topic)
            return False
        return True

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every queued command has reached the broker (QoS 1 PUBACK); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._count_lock:
                if not self._queue.unfinished_tasks and self.acked >= self.sent:
                    return True
            time.sleep(0.005)
        return False

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def close(self) -> None:
        """Stop the worker after the commands already queued, and disconnect."""
        with self._start_lock:
            worker, client = self._worker, self._client
            self._worker = self._client = None
        if worker is None or client is None:
            return
        self._queue.put(None)
        worker.join(timeout=5)
        self._connected.clear()  # a deliberate disconnect: not worth a warning
        client.disconnect()
        client.loop_stop()

    def start(self) -> None:
        """Start the worker and begin connecting (send() does it on first use; a process that wants its
        first command out without the connection delay calls this early). Returns at once."""
        if self._worker is not None:
            return
        with self._start_lock:
            if self._worker is not None:
                return
            client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                 client_id=f"hospital_iot-doors-{os.getpid()}-{next(_client_ids)}")
            client.max_queued_messages_set(MAX_QUEUED)
            client.reconnect_delay_set(min_delay=1, max_delay=10)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_publish = self._on_publish
            client.connect_async(self.host, self.port, keepalive=self.keepalive_s)
            client.loop_start()  # paho's thread connects, and retries until the broker is there
            self._client = client
            self._worker = threading.Thread(target=self._run, args=(client,), name="door-port", daemon=True)
            self._worker.start()

    def _run(self, client: mqtt.Client) -> None:
        while (item := self._queue.get()) is not None:
            topic, payload = item
            try:
                info = client.publish(topic, payload, qos=1)
                if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                    self.refused += 1
                    logger.error("door port: paho's queue is full; command to %s dropped", topic)
                else:
                    with self._count_lock:
                        self.sent += 1
            except Exception:  # one bad publish must not end the worker
                logger.exception("door port: publishing to %s failed", topic)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _on_connect(self, _client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                    _properties: object) -> None:
        if getattr(reason, "is_failure", False):
            logger.warning("door port: broker %s:%s refused the connection: %s", self.host, self.port, reason)
            return
        self._connected.set()
        logger.info("door port: connected to %s:%s", self.host, self.port)

    def _on_publish(self, _client: mqtt.Client, _userdata: object, _mid: int, _reason: object,
                    _properties: object) -> None:
        with self._count_lock:
            self.acked += 1

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                       _properties: object) -> None:
        if self._connected.is_set():
            logger.warning("door port: lost the broker %s:%s (%s); reconnecting", self.host, self.port, reason)
        self._connected.clear()


_port: DoorControllerPort | None = None
_port_lock = threading.Lock()


def door_port() -> DoorControllerPort:
    """The process-wide port: the one installed, else an MqttDoorPort on settings.MQTT_HOST/PORT."""
    global _port
    if _port is None:
        with _port_lock:
            if _port is None:
                from django.conf import settings  # only the default needs Django

                _port = MqttDoorPort(host=settings.MQTT_HOST, port=settings.MQTT_PORT)
    return _port


def door_port_install(port: DoorControllerPort | None) -> DoorControllerPort | None:
    """Use `port` from now on (None: the default again); returns the previous one (tests put it back)."""
    global _port
    with _port_lock:
        previous, _port = _port, port
    return previous
