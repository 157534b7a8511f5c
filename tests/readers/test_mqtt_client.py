"""The lean MQTT subscriber against the real Mosquitto (QoS 0 and 1, reconnecting through a proxy that cuts it off)
and against a scripted fake broker for what Mosquitto will not do on demand: refusals, garbage, silence, oversized
packets. Every wait is bounded; subscribers run on daemon threads."""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections.abc import Callable

import pytest

from readers.adapters.backoff import Backoff
from readers.adapters.base import ReaderError
from readers.adapters.mqtt_client import MqttSubscriber
from readers.adapters.mqtt_wire import (
    CONNECT,
    DISCONNECT,
    PINGREQ,
    SUBSCRIBE,
    Message,
    encode_connect,
    encode_publish,
)
from readers.drops import DropCounter

HOST, PORT = "127.0.0.1", 1883


def _subscriber(port: int, topic: str, **kwargs: object) -> MqttSubscriber:
    options: dict[str, object] = {"client_name": "test", "source": "src", "drops": DropCounter(),
                                  "backoff": Backoff(base_s=0.05, cap_s=0.1), "timeout_s": 0.5, "window_s": 0.01}
    return MqttSubscriber(host=HOST, port=port, topic=topic, **(options | kwargs))  # type: ignore[arg-type]


class Running:
    """A subscriber's batches() pumped on a daemon thread into a queue; what it raised is kept."""

    def __init__(self, subscriber: MqttSubscriber) -> None:
        self.subscriber, self.stopping = subscriber, threading.Event()
        self.messages: queue.Queue[Message] = queue.Queue()
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for batch in self.subscriber.batches(self.stopping):
                for message in batch:
                    self.messages.put(message)
        except Exception as exc:  # noqa: BLE001 - handed to the test to look at
            self.error = exc

    def take(self, n: int, timeout_s: float = 5.0, *, probes: bool = False) -> list[Message]:
        """Up to n messages, leaving out the probes that _probe publishes unless asked for them."""
        deadline, out = time.monotonic() + timeout_s, list[Message]()
        while len(out) < n and time.monotonic() < deadline:
            try:
                message = self.messages.get(timeout=0.05)
            except queue.Empty:
                continue
            if probes or not message[0].endswith(b"/probe"):
                out.append(message)
        return out

    def stop(self) -> float:
        started = time.monotonic()
        self.stopping.set()
        self.thread.join(timeout=3)
        assert not self.thread.is_alive()
        return time.monotonic() - started


@pytest.fixture
def prefix() -> str:
    return f"test-mqtt-{os.getpid()}-{time.monotonic_ns()}"


def _publisher() -> socket.socket:
    sock = socket.create_connection((HOST, PORT), timeout=5)
    sock.sendall(encode_connect(f"test-pub-{time.monotonic_ns()}", keepalive_s=30))
    assert _exact(sock, 4) == bytes.fromhex("20020000")
    return sock


def _exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


# --- the real broker ------------------------------------------------------------------------------


def test_it_receives_qos0_and_qos1_in_order_and_acknowledges_qos1(prefix: str) -> None:
    running = Running(_subscriber(PORT, f"{prefix}/#", qos=1))
    publisher = _publisher()
    sent = [(f"{prefix}/d{i % 7}".encode(), f"m{i}".encode()) for i in range(200)]
    try:
        assert _wait_until(lambda: _probe(publisher, prefix, running))  # subscribed
        # 100 QoS 1 messages: Mosquitto holds back all but 20 unacknowledged ones, so all 100 arriving shows PUBACKs
        publisher.sendall(b"".join(encode_publish(t, p, qos=1 if i % 2 else 0, packet_id=1 + i if i % 2 else 0)
                                   for i, (t, p) in enumerate(sent)))
        got = running.take(200)
    finally:
        publisher.close()
        stop_s = running.stop()
    # each QoS in order (MQTT 4.6: the broker may let QoS 0 overtake QoS 1 it holds back)
    for qos in (0, 1):
        assert [m for m in got if int(m[1][1:]) % 2 == qos] == [m for i, m in enumerate(sent) if i % 2 == qos]
    assert running.error is None and stop_s < 1.0


def _probe(publisher: socket.socket, prefix: str, running: Running) -> bool:
    """Publish a probe; True if a probe came back (the subscription is in place)."""
    publisher.sendall(encode_publish(f"{prefix}/probe", b""))
    return bool(running.take(1, timeout_s=0.1, probes=True))


class Proxy:
    """TCP between the subscriber and Mosquitto; cut() drops every connection, as a broker restart would."""

    def __init__(self) -> None:
        self.server = socket.create_server((HOST, 0))
        self.port, self.accepted = self.server.getsockname()[1], 0
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection((HOST, PORT))
            self.accepted += 1
            self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        for pair in self._pairs:
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # FIN now, and wake the piping thread blocked in recv()
                except OSError:
                    pass
                sock.close()
        self._pairs = []

    def close(self) -> None:
        self.cut()
        self.server.close()


def test_it_reconnects_and_resubscribes_after_the_broker_drops_it(prefix: str) -> None:
    proxy = Proxy()
    running = Running(_subscriber(proxy.port, f"{prefix}/#"))
    publisher = _publisher()
    try:
        assert _wait_until(lambda: _probe(publisher, prefix, running))
        proxy.cut()
        assert _wait_until(lambda: _probe(publisher, prefix, running))  # back, through a new connection
    finally:
        publisher.close()
        stop_s = running.stop()
        proxy.close()
    assert proxy.accepted >= 2 and running.error is None and stop_s < 1.0


# --- a scripted fake broker -----------------------------------------------------------------------


def _read_packet(conn: socket.socket) -> tuple[int, bytes]:
    first = _exact(conn, 1)[0]
    length, shift = 0, 0
    while True:
        byte = _exact(conn, 1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return first, _exact(conn, length)


class FakeBroker:
    """Runs `script(conn)` on each connection after answering CONNECT with `connack` and SUBSCRIBE with
    `suback` (None: stay silent); records the type of every packet the client sends."""

    def __init__(self, script: Callable[[socket.socket], None] = lambda conn: None, *, connack: str | None = "00",
                 suback: str | None = "00", before_suback: bytes = b"") -> None:
        self.script, self.connack, self.suback, self.before_suback = script, connack, suback, before_suback
        self.server = socket.create_server((HOST, 0))
        self.port, self.connections = self.server.getsockname()[1], 0
        self.packets: list[int] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                assert self.read(conn) == CONNECT
                if self.connack is None:
                    time.sleep(5)
                    return
                conn.sendall(bytes.fromhex(f"2002 00 {self.connack}"))
                if self.read(conn) != SUBSCRIBE or self.suback is None:
                    return
                conn.sendall(self.before_suback + bytes.fromhex(f"9003 0001 {self.suback}"))
                self.script(conn)
                while True:
                    self.read(conn)
        except (OSError, ConnectionError):
            pass

    def read(self, conn: socket.socket) -> int:
        first, _body = _read_packet(conn)
        self.packets.append(first >> 4)
        return first >> 4

    def close(self) -> None:
        self.server.close()


@pytest.mark.parametrize(("broker", "why"), [
    (lambda: FakeBroker(connack="05"), "not authorized"),
    (lambda: FakeBroker(connack="04"), "bad user name or password"),
    (lambda: FakeBroker(suback="80"), "refused the subscription"),
])
def test_it_gives_up_for_good_when_the_broker_refuses_what_retrying_cannot_fix(
    broker: Callable[[], FakeBroker], why: str
) -> None:
    fake = broker()
    running = Running(_subscriber(fake.port, "t/#"))
    running.thread.join(timeout=3)
    assert isinstance(running.error, ReaderError) and running.error.permanent and why in str(running.error)
    assert fake.connections == 1
    fake.close()


@pytest.mark.parametrize("broker", [
    lambda: FakeBroker(connack="03"),  # server unavailable: try again later
    lambda: FakeBroker(connack=None),  # accepts TCP, never answers
    lambda: FakeBroker(lambda conn: conn.sendall(b"\xff\xff\xff\xff\xff\xff")),  # garbage after SUBACK
    lambda: FakeBroker(lambda conn: conn.close()),  # hangs up
])
def test_it_reconnects_with_backoff_after_a_transient_failure(broker: Callable[[], FakeBroker]) -> None:
    fake = broker()
    running = Running(_subscriber(fake.port, "t/#", timeout_s=0.3))
    assert _wait_until(lambda: fake.connections >= 2, timeout_s=3)
    assert running.stop() < 1.0 and running.error is None
    fake.close()


def test_it_keeps_messages_that_arrive_before_the_suback_in_order() -> None:
    fake = FakeBroker(lambda conn: conn.sendall(encode_publish("t/b", b"2")), before_suback=encode_publish("t/a", b"1"))
    running = Running(_subscriber(fake.port, "t/#"))
    assert running.take(2) == [(b"t/a", b"1"), (b"t/b", b"2")]
    running.stop()
    fake.close()


def test_it_pings_when_idle_and_disconnects_cleanly_on_stop() -> None:
    def answer_pings(conn: socket.socket) -> None:
        while fake.read(conn) == PINGREQ:
            conn.sendall(bytes.fromhex("d000"))

    fake = FakeBroker(answer_pings)
    running = Running(_subscriber(fake.port, "t/#", keepalive_s=1))
    assert _wait_until(lambda: fake.packets.count(PINGREQ) >= 2, timeout_s=4)
    assert running.stop() < 1.0
    assert _wait_until(lambda: fake.packets[-1] == DISCONNECT, timeout_s=1)
    assert fake.connections == 1
    fake.close()


def test_it_reconnects_when_a_ping_goes_unanswered() -> None:
    fake = FakeBroker()  # reads the PINGREQ, never answers
    running = Running(_subscriber(fake.port, "t/#", keepalive_s=1))
    assert _wait_until(lambda: fake.connections >= 2, timeout_s=4)
    assert PINGREQ in fake.packets
    running.stop()
    fake.close()


def test_it_skips_an_oversized_packet_counts_it_and_reads_on() -> None:
    big = encode_publish("t/big", b"z" * 5_000)
    fake = FakeBroker(lambda conn: conn.sendall(big + encode_publish("t/small", b"ok")))
    drops = DropCounter()
    running = Running(_subscriber(fake.port, "t/#", max_packet_bytes=1_000, drops=drops))
    assert running.take(1) == [(b"t/small", b"ok")]
    assert drops.counts("src") == {"garbled": 1}
    running.stop()
    fake.close()


def test_it_refuses_qos_2_subscriptions_up_front() -> None:
    with pytest.raises(ReaderError) as refused:
        _subscriber(PORT, "t/#", qos=2)
    assert refused.value.permanent
