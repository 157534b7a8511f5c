"""A lean MQTT 3.1.1 subscriber on a plain socket, for adapters that take thousands of messages a second.

paho-mqtt costs ~27 µs of Python per message (four recv() calls, a message object, callback dispatch and
topic matching for each); this client reads the socket in large chunks every few milliseconds and splits
every PUBLISH out of a chunk in one loop (`mqtt_wire.PacketReader`), ~1 µs a message. It does only what a
subscriber needs: CONNECT, one SUBSCRIBE (of one topic filter, or a few), PUBACK for QoS 1, PINGREQ keepalive,
a clean DISCONNECT, and a new connection (clean session, fresh client id) with backoff whenever one is lost.

The socket is read on a thread of its own, so parsing a batch and handing it on (the supervisor's sink
runs between batches) never leave it unread: Mosquitto keeps at most 1,000 QoS 0 messages for a
subscriber whose socket is full and drops the rest, and at 30,000 messages/s that is 33 ms.
"""

from __future__ import annotations

import itertools
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Iterator, Sequence

from readers.adapters.backoff import Backoff
from readers.adapters.base import ReaderError
from readers.adapters.mqtt_wire import (
    CONNACK,
    CONNACK_REFUSALS,
    DISCONNECT_PACKET,
    MAX_PACKET_BYTES,
    PINGREQ_PACKET,
    PINGRESP,
    SUBACK,
    SUBACK_FAILURE,
    MalformedPacket,
    Message,
    PacketReader,
    decode_connack,
    decode_suback,
    encode_connect,
    encode_puback,
    encode_subscribe,
)
from readers.drops import DropCounter, DropReason

logger = logging.getLogger(__name__)

POLL_S = 0.1  # longest wait for bytes (or for a batch) before looking at stop() and the keepalive
DRAIN_EVERY_S = 0.005  # read the socket at most this often: a few large reads, not one per message
RECV_BYTES = 256 * 1024
MAX_DRAIN_BYTES = 1024 * 1024  # read at most this much at once, so a backlog comes out in bounded pieces
MAX_PENDING_MESSAGES = 100_000  # received, not yet taken (~3 s at 30,000/s): past it, reading pauses
_REFUSED_FOR_GOOD = {1, 2, 4, 5}  # protocol version, client id, credentials, not authorized: retrying won't help
_client_ids = itertools.count(1)


class ConnectionLost(Exception):
    """The broker closed the connection, stopped answering, or refused us for now; connect again later."""


class _Inbox:
    """Messages handed from the reading thread to the consumer, and the error that ended the reading."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Message] = []
        self.first_at = 0.0  # when the oldest message waiting arrived
        self.arrived = threading.Event()
        self.error: Exception | None = None

    def put(self, messages: list[Message]) -> None:
        if not messages:
            return
        with self._lock:
            if not self._messages:
                self.first_at = time.monotonic()
            self._messages += messages
            self.arrived.set()

    def take(self) -> list[Message]:
        with self._lock:
            messages, self._messages = self._messages, []
            self.arrived.clear()
            return messages

    def __len__(self) -> int:
        return len(self._messages)


class MqttSubscriber:
    """Subscribes to a topic filter (and `extra_topics`) and yields what arrives, one list of (topic, payload)
    per window.

    batches(stopping) reads on a thread of its own: it connects, subscribes, and after a lost connection
    waits `backoff` and connects again. The caller gets a batch `window_s` after the first message of it
    (at once when `max_batch_messages` wait); batches() returns within ~0.1 s of `stopping` being set.
    A refusal that retrying cannot fix raises ReaderError(permanent=True) from batches(). Packets over
    `max_packet_bytes` are skipped and counted in `drops` as garbled under `source`.
    """

    def __init__(
        self, *, host: str, port: int, topic: str, extra_topics: Sequence[str] = (), qos: int = 0,
        client_name: str, source: str,
        drops: DropCounter, backoff: Backoff, username: str | None = None, password: str | None = None,
        keepalive_s: int = 30, timeout_s: float = 1.0, window_s: float = 0.05, max_batch_messages: int = 2000,
        max_packet_bytes: int = MAX_PACKET_BYTES,
    ) -> None:
        if qos not in (0, 1):
            raise ReaderError(f"{source}: MQTT QoS {qos}: this subscriber takes 0 or 1", permanent=True)
        self.host, self.port, self.topic, self.qos = host, port, topic, qos
        self.topics = [topic, *(t for t in extra_topics if t != topic)]
        self.client_name, self.source, self.drops, self.backoff = client_name, source, drops, backoff
        self.username, self.password = username, password
        self.keepalive_s, self.timeout_s = keepalive_s, timeout_s
        self.window_s, self.max_batch_messages, self.max_packet_bytes = window_s, max_batch_messages, max_packet_bytes
        self._sock: socket.socket | None = None
        self._reader = PacketReader(max_packet_bytes=max_packet_bytes)
        self._held: list[Message] = []  # arrived while waiting for CONNACK / SUBACK
        self._last_sent_at = self._ping_sent_at = 0.0

    def batches(self, stopping: threading.Event) -> Iterator[list[Message]]:
        inbox, halt = _Inbox(), threading.Event()
        thread = threading.Thread(target=self._run, args=(inbox, halt), name=f"mqtt-{self.source}", daemon=True)
        thread.start()
        try:
            while not stopping.is_set() and thread.is_alive():
                if not inbox.arrived.wait(POLL_S):
                    continue
                window_left_s = inbox.first_at + self.window_s - time.monotonic()
                if len(inbox) < self.max_batch_messages and window_left_s > 0 and stopping.wait(window_left_s):
                    break
                yield inbox.take()
            if inbox.error is not None:
                raise inbox.error
        finally:
            halt.set()
            thread.join(self.timeout_s + POLL_S)

    def _run(self, inbox: _Inbox, halt: threading.Event) -> None:
        """The reading thread: connection after connection until halted or refused for good."""
        try:
            while not halt.is_set():
                try:
                    self._open()
                    self._pump(inbox, halt)
                except (OSError, MalformedPacket, ConnectionLost) as exc:
                    logger.warning("%s: MQTT %s:%s: %s", self.source, self.host, self.port,
                                   str(exc) or type(exc).__name__)
                finally:
                    self._close()
                if not halt.is_set():
                    delay_s = self.backoff.next_delay_s()
                    logger.info("%s: reconnecting to MQTT in %.1f s", self.source, delay_s)
                    halt.wait(delay_s)
        except Exception as exc:  # noqa: BLE001 - refused for good, or a bug: batches() re-raises it
            inbox.error = exc

    # --- one connection ---------------------------------------------------------------------------

    def _open(self) -> None:
        self._sock = sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(0.0)  # reads never block: we wait in select() or in stopping.wait()
        self._reader = PacketReader(max_packet_bytes=self.max_packet_bytes)
        self._held, self._ping_sent_at = [], 0.0
        client_id = f"hospital_iot-{self.client_name}-{os.getpid()}-{next(_client_ids)}"[:128]
        self._send(encode_connect(client_id, keepalive_s=self.keepalive_s, username=self.username,
                                  password=self.password))
        deadline = time.monotonic() + self.timeout_s
        _present, code = decode_connack(self._await(CONNACK, deadline))
        if code:
            refusal = CONNACK_REFUSALS.get(code, f"return code {code}")
            if code in _REFUSED_FOR_GOOD:
                raise ReaderError(f"{self.source}: broker {self.host}:{self.port} refused: {refusal}", permanent=True)
            raise ConnectionLost(f"broker refused the connection: {refusal}")
        self._send(encode_subscribe(1, [(topic, self.qos) for topic in self.topics]))
        packet_id, granted = decode_suback(self._await(SUBACK, deadline))
        refused = [topic for topic, code in zip(self.topics, granted, strict=False) if code == SUBACK_FAILURE]
        if packet_id != 1 or len(granted) != len(self.topics) or refused:
            names = ", ".join(repr(topic) for topic in refused or self.topics)
            raise ReaderError(f"{self.source}: broker refused the subscription to {names}", permanent=True)
        self.backoff.reset()
        logger.info("%s: subscribed to %s on %s:%s", self.source, ", ".join(self.topics), self.host, self.port)

    def _await(self, kind: int, deadline: float) -> bytes:
        """The body of the next `kind` packet; messages that come first are held for the first batch."""
        while (left_s := deadline - time.monotonic()) > 0:
            for control_kind, body in self._receive(wait_s=left_s, into=self._held):
                if control_kind == kind:
                    return body
        raise ConnectionLost(f"no answer from the broker in {self.timeout_s} s")

    def _close(self) -> None:
        if self._sock is None:
            return
        try:
            self._send(DISCONNECT_PACKET)
        except OSError:
            pass  # it is gone already
        self._sock.close()
        self._sock = None

    def _send(self, data: bytes) -> None:
        assert self._sock is not None
        self._sock.settimeout(self.timeout_s)
        try:
            self._sock.sendall(data)
        finally:
            self._sock.settimeout(0.0)
        self._last_sent_at = time.monotonic()

    # --- reading ----------------------------------------------------------------------------------

    def _pump(self, inbox: _Inbox, halt: threading.Event) -> None:
        """Read the socket into the inbox until halted: wait for bytes, take all there are, then pause a
        little so the next read finds many messages. Paused while MAX_PENDING_MESSAGES wait untaken."""
        inbox.put(self._held)
        while not halt.is_set():
            messages: list[Message] = []
            if len(inbox) < MAX_PENDING_MESSAGES:
                self._control(self._receive(wait_s=POLL_S, into=messages))
            inbox.put(messages)
            halt.wait(DRAIN_EVERY_S)

    def _receive(self, *, wait_s: float, into: list[Message]) -> list[tuple[int, bytes]]:
        """Wait up to wait_s for bytes, then read what the socket holds: messages go `into`, QoS 1 ones
        are acknowledged, oversized ones counted; returns the other packets. Sends PINGREQ when due."""
        assert self._sock is not None
        control: list[tuple[int, bytes]] = []
        if wait_s > 0 and not select.select([self._sock], [], [], wait_s)[0]:
            self._keepalive()
            return control
        read = 0
        while read < MAX_DRAIN_BYTES:
            try:
                data = self._sock.recv(RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                break
            if not data:
                raise ConnectionLost("the broker closed the connection")
            read += len(data)
            got = self._reader.feed(data)
            into += got.messages
            control += got.control
            if got.puback_ids:
                self._send(b"".join(encode_puback(packet_id) for packet_id in got.puback_ids))
            for size in got.skipped:
                self.drops.drop(DropReason.GARBLED, reader_id=self.source,
                                detail=f"MQTT packet of {size:,} bytes, over the {self.max_packet_bytes:,} limit")
            if len(data) < RECV_BYTES:
                break
        self._keepalive()
        return control

    def _control(self, packets: list[tuple[int, bytes]]) -> None:
        for kind, _body in packets:
            if kind == PINGRESP:
                self._ping_sent_at = 0.0

    def _keepalive(self) -> None:
        """PINGREQ when we have sent nothing for keepalive_s (3.1.2.10); no PINGRESP within it: lost."""
        now = time.monotonic()
        if self._ping_sent_at and now - self._ping_sent_at > self.keepalive_s:
            raise ConnectionLost(f"no PINGRESP in {self.keepalive_s} s")
        if self.keepalive_s and not self._ping_sent_at and now - self._last_sent_at >= self.keepalive_s:
            self._send(PINGREQ_PACKET)
            self._ping_sent_at = now
