"""An emulated UHF RFID reader that speaks real LLRP over TCP (built on pyllrp), for sllurp and our adapter.

It answers the handshake sllurp runs (capabilities, config, events, access/RO spec lifecycle, the Impinj
extension message), sends keepalives, and while a client has an enabled ROSpec it calls the source every
report interval and sends what the source sees as RO_ACCESS_REPORTs. `restart()` behaves like a reader
rebooting: connections drop, the port is closed for a while, then it listens again on the same port.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from pyllrp import pyllrp as llrp

from readers.emulators import llrp_messages as msgs
from readers.emulators.sightings import RfidSighting, RfidSource

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_MESSAGE_BYTES = 1 << 20
TYPE_NAMES = {cls.TypeCode: cls.Name for name, cls in vars(llrp).items()
              if name.endswith("_Message") and cls.TypeCode != msgs.CUSTOM_TYPE}
SIMPLE_OK = {"DELETE_ACCESSSPEC", "ADD_ACCESSSPEC", "ENABLE_ACCESSSPEC", "DISABLE_ACCESSSPEC", "GET_ACCESSSPECS",
             "GET_ROSPECS", "SET_READER_CONFIG"}


class _Session:
    """One client connection: a thread reading requests; reports and keepalives are sent by the ticker."""

    def __init__(self, sock: socket.socket, reader: LlrpReaderEmulator) -> None:
        self.sock = sock
        self.reader = reader
        self.send_lock = threading.Lock()
        self.closed = threading.Event()
        self.rospecs: dict[int, msgs.RoSpecInfo] = {}
        self.active: set[int] = set()  # enabled ROSpec ids (their start trigger is Immediate)
        self.impinj_on = False
        self.keepalive_s = 0.0
        self.next_keepalive_at = 0.0
        self.keepalives_acked = 0

    def run(self) -> None:
        try:
            self.send(msgs.connection_event(_now_us()))
            buffer = b""
            while not self.closed.is_set():
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                buffer = self._consume(buffer + chunk)
        except (OSError, ValueError) as exc:
            logger.debug("llrp emulator: session ended: %s", exc)
        finally:
            self.close()

    def _consume(self, buffer: bytes) -> bytes:
        """Handle every whole message in buffer; return the incomplete rest."""
        while len(buffer) >= msgs.HEADER.size:
            type_word, length, msg_id = msgs.HEADER.unpack_from(buffer)
            if not msgs.HEADER.size <= length <= MAX_MESSAGE_BYTES:
                raise ValueError(f"bad LLRP length {length}")
            if len(buffer) < length:
                break
            self._handle(type_word & 0x3FF, msg_id, buffer[:length])
            buffer = buffer[length:]
        return buffer

    def _handle(self, type_code: int, msg_id: int, data: bytes) -> None:
        if type_code == msgs.CUSTOM_TYPE:
            self._handle_custom(msg_id, data)
            return
        name = TYPE_NAMES.get(type_code, "")
        handler: Callable[[int, bytes], None] | None = getattr(self, f"_on_{name.lower()}", None)
        if handler is not None:
            handler(msg_id, data)
        elif name in SIMPLE_OK:
            self.send(msgs.status_response(f"{name}_RESPONSE", msg_id))
        elif name not in ("ENABLE_EVENTS_AND_REPORTS",):  # that one has no response
            self.send(msgs.status_response("ERROR_MESSAGE", msg_id, code=llrp.StatusCode.M_UnsupportedMessage,
                                           description=f"message type {type_code} not supported"))

    def _handle_custom(self, msg_id: int, data: bytes) -> None:
        vendor, subtype = int.from_bytes(data[10:14], "big"), data[14] if len(data) > 14 else -1
        if vendor == msgs.IMPINJ_VENDOR and subtype == 21 and self.reader.impinj:  # IMPINJ_ENABLE_EXTENSIONS
            self.impinj_on = True
            self.send(msgs.status_response("IMPINJ_ENABLE_EXTENSIONS_RESPONSE", msg_id))
            return
        self.send(msgs.status_response("ERROR_MESSAGE", msg_id, code=llrp.StatusCode.M_UnsupportedMessage,
                                       description=f"custom message {vendor}/{subtype} not supported"))

    def _on_get_reader_capabilities(self, msg_id: int, data: bytes) -> None:
        self.send(msgs.capabilities_response(msg_id, antennas=self.reader.antennas, impinj=self.reader.impinj))

    def _on_get_reader_config(self, msg_id: int, data: bytes) -> None:
        self.send(msgs.reader_config_response(msg_id, antennas=self.reader.antennas,
                                              keepalive_ms=round(self.keepalive_s * 1000)))

    def _on_set_reader_config(self, msg_id: int, data: bytes) -> None:
        period_ms = self._parse(data, msgs.keepalive_ms)
        if period_ms is not None:
            self.keepalive_s = period_ms / 1000
            self.next_keepalive_at = time.monotonic() + self.keepalive_s
        self.send(msgs.status_response("SET_READER_CONFIG_RESPONSE", msg_id))

    def _on_add_rospec(self, msg_id: int, data: bytes) -> None:
        info = self._parse(data, msgs.rospec_info)
        if info is None or info.rospec_id in self.rospecs or info.rospec_id == 0:
            self._fail("ADD_ROSPEC_RESPONSE", msg_id, "bad or duplicate ROSpec")
            return
        self.rospecs[info.rospec_id] = info
        self.send(msgs.status_response("ADD_ROSPEC_RESPONSE", msg_id))

    def _on_delete_rospec(self, msg_id: int, data: bytes) -> None:
        self._spec_op("DELETE_ROSPEC_RESPONSE", msg_id, data, lambda ids: self._forget(ids))

    def _on_enable_rospec(self, msg_id: int, data: bytes) -> None:
        self._spec_op("ENABLE_ROSPEC_RESPONSE", msg_id, data, self.active.update)

    def _on_start_rospec(self, msg_id: int, data: bytes) -> None:
        self._spec_op("START_ROSPEC_RESPONSE", msg_id, data, self.active.update)

    def _on_stop_rospec(self, msg_id: int, data: bytes) -> None:
        self._spec_op("STOP_ROSPEC_RESPONSE", msg_id, data, self.active.difference_update)

    def _on_disable_rospec(self, msg_id: int, data: bytes) -> None:
        self._spec_op("DISABLE_ROSPEC_RESPONSE", msg_id, data, self.active.difference_update)

    def _on_keepalive_ack(self, msg_id: int, data: bytes) -> None:
        self.keepalives_acked += 1

    def _on_close_connection(self, msg_id: int, data: bytes) -> None:
        self.send(msgs.status_response("CLOSE_CONNECTION_RESPONSE", msg_id))
        self.close()

    def _spec_op(self, response: str, msg_id: int, data: bytes, apply: Callable[[set[int]], None]) -> None:
        """ROSpecID 0 means every ROSpec; an unknown id is an error, as on a real reader."""
        rospec_id = self._parse(data, lambda m: int(m.ROSpecID))
        if rospec_id is None or (rospec_id and rospec_id not in self.rospecs):
            self._fail(response, msg_id, f"no ROSpec {rospec_id}")
            return
        ids = {rospec_id} if rospec_id else set(self.rospecs)
        starts = response in ("ENABLE_ROSPEC_RESPONSE", "START_ROSPEC_RESPONSE")
        if not starts:  # stop reporting before saying so
            apply(ids)
        self.send(msgs.status_response(response, msg_id))
        if starts:  # answer first: sllurp ignores reports that arrive before its ENABLE_ROSPEC is answered
            apply(ids)
            self.reader.count("rospecs_enabled")

    def _forget(self, ids: set[int]) -> None:
        self.active.difference_update(ids)
        for rospec_id in ids:
            self.rospecs.pop(rospec_id, None)

    def _parse(self, data: bytes, pick: Callable[[msgs.Message], T]) -> T | None:
        try:
            return pick(msgs.unpack(data))
        except Exception as exc:  # noqa: BLE001 - pyllrp raises assertion, bitstring and attribute errors alike
            logger.info("llrp emulator: cannot read a request (%s)", exc)
            return None

    def _fail(self, response: str, msg_id: int, why: str) -> None:
        self.send(msgs.status_response(response, msg_id, code=llrp.StatusCode.A_Invalid, description=why))

    def report(self, sightings: list[RfidSighting]) -> None:
        """Send what the active ROSpec asks for; called by the ticker thread."""
        specs = [self.rospecs[i] for i in sorted(self.active) if i in self.rospecs]
        if not specs or self.closed.is_set():
            return
        spec = specs[0]
        allowed = spec.antennas or frozenset(range(1, self.reader.antennas + 1))
        seen = [s for s in sightings if s.antenna in allowed]
        step = spec.n_tags or len(seen) or 1
        for start in range(0, len(seen), step):
            chunk = seen[start:start + step]
            data = msgs.ro_access_report(chunk, spec=spec, impinj=self.impinj_on, now_us=_now_us())
            if not self.send(data):
                return
            self.reader.count("reports_sent")
            self.reader.count("tags_reported", len(chunk))

    def keepalive_if_due(self, now: float) -> None:
        if self.keepalive_s > 0 and now >= self.next_keepalive_at:
            self.next_keepalive_at = now + self.keepalive_s
            self.send(msgs.keepalive())

    def send(self, data: bytes) -> bool:
        with self.send_lock:
            if self.closed.is_set():
                return False
            try:
                self.sock.sendall(data)
                return True
            except OSError as exc:
                logger.debug("llrp emulator: send failed: %s", exc)
        self.close()
        return False

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the peer may be gone already
        self.sock.close()


def _now_us() -> int:
    return time.time_ns() // 1000


class LlrpReaderEmulator:
    """A fake Impinj-like reader on host:port. The source is called each report interval while some client
    has an enabled ROSpec (an idle reader has its RF off) and its sightings are reported to every such client.
    """

    def __init__(self, source: RfidSource, *, host: str = "127.0.0.1", port: int = 0, impinj: bool = True,
                 report_interval_s: float = 0.2, antennas: int = 4) -> None:
        self.source, self.host, self.port = source, host, port
        self.impinj, self.report_interval_s, self.antennas = impinj, report_interval_s, antennas
        self.counters: dict[str, int] = dict.fromkeys(
            ("connections", "rospecs_enabled", "reports_sent", "tags_reported", "restarts"), 0)
        self._lock = threading.Lock()
        self._sessions: list[_Session] = []
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def tags_reported(self) -> int:
        return self.counters["tags_reported"]

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] += n

    def start(self) -> int:
        """Listen and serve in background threads; returns the bound port."""
        self._listen()
        for target, name in ((self._accept_loop, "accept"), (self._tick_loop, "tick")):
            thread = threading.Thread(target=target, name=f"llrp-emulator-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.port

    def stop(self) -> None:
        self._stopping.set()
        self._go_down()
        for thread in self._threads:
            thread.join(timeout=2.0)

    def restart(self, down_s: float = 0.5) -> None:
        """Drop every connection and the listening socket, stay down for down_s, listen on the same port."""
        self._go_down()
        self.count("restarts")
        if not self._stopping.wait(down_s):
            self._listen()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        logger.info("llrp emulator: listening on %s:%s", self.host, self.port)

    def _go_down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sessions, self._sessions = self._sessions, []
        if listener is not None:
            listener.close()
        for session in sessions:
            session.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                self._stopping.wait(0.02)
                continue
            try:
                conn, peer = listener.accept()
            except OSError:  # timeout, or closed by restart()/stop()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = _Session(conn, self)
            with self._lock:
                self._sessions = [s for s in self._sessions if not s.closed.is_set()] + [session]
                self.counters["connections"] += 1
            logger.info("llrp emulator: client %s connected", peer)
            threading.Thread(target=session.run, name="llrp-emulator-session", daemon=True).start()

    def _tick_loop(self) -> None:
        next_at = time.monotonic()
        while not self._stopping.wait(max(0.0, next_at - time.monotonic())):
            next_at = max(next_at + self.report_interval_s, time.monotonic() - self.report_interval_s)
            with self._lock:
                sessions = [s for s in self._sessions if not s.closed.is_set()]
            now = time.monotonic()
            for session in sessions:
                session.keepalive_if_due(now)
            inventorying = [s for s in sessions if s.active]
            if inventorying:
                sightings = self.source(time.time())
                for session in inventorying:
                    session.report(sightings)
