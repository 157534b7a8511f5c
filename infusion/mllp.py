"""HL7 v2 over MLLP (the Minimal Lower Layer Protocol): <VT> message <FS><CR>, one ACK per message.

    MllpDecoder        sans-IO framing: bytes in, whole frames out; skips garbage between frames, caps
                       a frame's size, and starts over when a new <VT> arrives inside a frame
    MllpServer         asyncio server; each message goes to a handler in a worker thread (the ADT feed:
                       `adt_handler` -> infusion.services.adt_apply) and its ACK is written back
    MllpServerThread   the server on its own event loop in a thread (tests, or inside another command)
    MllpClient / mllp_send    a blocking sender that returns the ACK (the demo, tests, a manual resend)

Character set: MSH-18 when it names one we know, else UTF-8, else Latin-1 (which decodes any byte);
the ACK goes back in the message's character set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType

from django.db import close_old_connections, connections

from infusion.adt import ack_code_of, build_ack, message_header

logger = logging.getLogger(__name__)

START_BLOCK = b"\x0b"  # <VT>
END_BLOCK = b"\x1c\r"  # <FS><CR>
DEFAULT_PORT = 2575  # the IANA port for HL7 over MLLP
HEAD_BYTES = 4096  # what is kept of an oversized frame: enough for its MSH, to NACK it by control id
_READ_BYTES = 65536
_WHITESPACE = b" \t\r\n"

# MSH-18 (HL7 table 0211) -> Python codec
CHARSETS = {
    "ASCII": "ascii", "8859/1": "latin-1", "8859/15": "iso8859-15", "UNICODE UTF-8": "utf-8", "UTF-8": "utf-8",
}

Handler = Callable[[str, str], str]  # (message text, peer "host:port") -> ACK text; runs in a worker thread


@dataclass(frozen=True, slots=True)
class Frame:
    payload: bytes


@dataclass(frozen=True, slots=True)
class OversizedFrame:
    """A frame longer than the limit: dropped, but answered (AR) by the control id in its head."""

    head: bytes
    size: int


class MllpDecoder:
    """Feed it bytes as they arrive; it returns the frames they complete."""

    def __init__(self, *, max_frame_bytes: int = 1_048_576) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.garbage_bytes = 0  # bytes outside any frame (whitespace between frames is not counted)
        self.abandoned_frames = 0  # frames cut short by a new <VT>
        self._buffer = bytearray()
        self._in_frame = False
        self._scanned = 0  # buffer bytes already searched for <VT> / <FS><CR>
        self._head = b""  # set while discarding an oversized frame
        self._discarded = 0

    @property
    def in_frame(self) -> bool:
        return self._in_frame

    @property
    def pending_bytes(self) -> int:
        """Bytes of the frame in progress (what is lost if the peer goes now)."""
        return len(self._buffer) + self._discarded if self._in_frame else 0

    def feed(self, data: bytes) -> list[Frame | OversizedFrame]:
        self._buffer += data
        frames: list[Frame | OversizedFrame] = []
        while self._buffer:
            if not self._in_frame and not self._find_start():
                break
            end = self._buffer.find(END_BLOCK, self._scanned)
            restart = self._buffer.find(START_BLOCK, self._scanned, end if end >= 0 else len(self._buffer))
            if restart >= 0:  # the sender gave up on that frame and began another one
                self.abandoned_frames += 1
                logger.warning("MLLP: a frame of %d bytes was cut short by a new start block",
                               restart + self._discarded)
                del self._buffer[:restart]
                self._in_frame = False
                continue
            if end < 0:
                self._keep_pending()
                break
            frames.append(self._take(end))
        return frames

    def _find_start(self) -> bool:
        start = self._buffer.find(START_BLOCK)
        outside = self._buffer if start < 0 else self._buffer[:start]
        self.garbage_bytes += len(bytes(outside).strip(_WHITESPACE))
        if start < 0:
            self._buffer.clear()
            return False
        del self._buffer[: start + 1]
        self._in_frame, self._scanned, self._head, self._discarded = True, 0, b"", 0
        return True

    def _keep_pending(self) -> None:
        if len(self._buffer) + self._discarded > self.max_frame_bytes:
            if not self._head:
                self._head = bytes(self._buffer[:HEAD_BYTES])
            self._discarded += len(self._buffer) - 1
            del self._buffer[:-1]  # the last byte may be the <FS> of a <FS><CR> split across reads
        self._scanned = max(0, len(self._buffer) - 1)

    def _take(self, end: int) -> Frame | OversizedFrame:
        payload = bytes(self._buffer[:end])
        del self._buffer[: end + len(END_BLOCK)]
        size = self._discarded + len(payload)
        head = self._head or payload[:HEAD_BYTES]
        self._in_frame, self._scanned, self._head, self._discarded = False, 0, b"", 0
        return OversizedFrame(head, size) if size > self.max_frame_bytes else Frame(payload)


def frame(payload: bytes) -> bytes:
    return START_BLOCK + payload + END_BLOCK


def decode_hl7(payload: bytes) -> tuple[str, str]:
    """(text, codec): MSH-18's character set if known, else UTF-8, else Latin-1."""
    declared = CHARSETS.get(message_header(payload[:HEAD_BYTES].decode("latin-1")).charset.upper(), "utf-8")
    for codec in dict.fromkeys((declared, "utf-8")):
        try:
            return payload.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return payload.decode("latin-1"), "latin-1"


@dataclass(frozen=True)
class MllpLimits:
    max_frame_bytes: int = 1_048_576
    frame_timeout_s: float = 30.0  # a frame begun but not finished within this: the connection is dropped
    max_connections: int = 64
    workers: int = 4  # threads running the handler (each message holds one until its ACK is ready)


@dataclass
class MllpStats:
    connections_total: int = 0
    connections_open: int = 0
    connections_refused: int = 0
    messages: int = 0
    acks: Counter[str] = field(default_factory=Counter)
    oversized: int = 0
    abandoned_frames: int = 0  # cut short: the peer went, stalled, or began another frame
    garbage_bytes: int = 0

    def line(self) -> str:
        acks = ", ".join(f"{code} {count}" for code, count in sorted(self.acks.items())) or "none"
        return (f"adt: {self.messages} messages (acks: {acks}), {self.connections_open} connections open "
                f"({self.connections_total} in all, {self.connections_refused} refused), {self.oversized} "
                f"oversized, {self.abandoned_frames} cut short, {self.garbage_bytes} garbage bytes")


class MllpServer:
    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 limits: MllpLimits | None = None) -> None:
        self.handler, self.host, self.requested_port = handler, host, port
        self.limits = limits or MllpLimits()
        self.stats = MllpStats()
        self._server: asyncio.Server | None = None
        self._executor = ThreadPoolExecutor(max_workers=self.limits.workers, thread_name_prefix="mllp")
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port listened on (the real one when asked for port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the MLLP server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, self.requested_port)
        logger.info("MLLP server listening on %s:%d", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        self._executor.shutdown(wait=True)
        logger.info("MLLP server stopped: %s", self.stats.line())

    async def serve(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = writer.get_extra_info("peername")
        peer = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)
        if self.stats.connections_open >= self.limits.max_connections:
            self.stats.connections_refused += 1
            logger.warning("MLLP: refused %s: already %d connections", peer, self.stats.connections_open)
            writer.close()
            return
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        self.stats.connections_total += 1
        self.stats.connections_open += 1
        logger.info("MLLP: %s connected", peer)
        decoder = MllpDecoder(max_frame_bytes=self.limits.max_frame_bytes)
        try:
            await self._converse(reader, writer, decoder, peer)
        except ConnectionError as exc:
            logger.info("MLLP: %s: %s", peer, exc)
        finally:
            self.stats.connections_open -= 1
            self.stats.garbage_bytes += decoder.garbage_bytes
            self.stats.abandoned_frames += decoder.abandoned_frames
            if decoder.garbage_bytes:
                logger.warning("MLLP: %s sent %d bytes outside any frame", peer, decoder.garbage_bytes)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._connections.discard(task)
            logger.info("MLLP: %s disconnected", peer)

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, decoder: MllpDecoder,
                        peer: str) -> None:
        while True:
            timeout = self.limits.frame_timeout_s if decoder.in_frame else None
            try:
                data = await asyncio.wait_for(reader.read(_READ_BYTES), timeout)
            except TimeoutError:
                self.stats.abandoned_frames += 1
                logger.warning("MLLP: %s stalled mid-frame for %.0f s (%d bytes dropped); closing", peer,
                               self.limits.frame_timeout_s, decoder.pending_bytes)
                return
            if not data:
                if decoder.in_frame:
                    self.stats.abandoned_frames += 1
                    logger.warning("MLLP: %s closed mid-frame (%d bytes dropped)", peer, decoder.pending_bytes)
                return
            for item in decoder.feed(data):
                writer.write(frame(await self._answer(item, peer)))
                await writer.drain()

    async def _answer(self, item: Frame | OversizedFrame, peer: str) -> bytes:
        self.stats.messages += 1
        if isinstance(item, OversizedFrame):
            self.stats.oversized += 1
            text, codec = decode_hl7(item.head)
            reason = f"message too large: {item.size} bytes, the limit is {self.limits.max_frame_bytes}"
            logger.warning("MLLP: %s: %s (control id %r)", peer, reason, message_header(text).control_id)
            ack = build_ack(text, "AR", reason, error_code="207")
        else:
            text, codec = decode_hl7(item.payload)
            ack = await asyncio.get_running_loop().run_in_executor(self._executor, self._handle, text, peer)
        self.stats.acks[ack_code_of(ack) or "?"] += 1
        return ack.encode(codec, errors="replace")

    def _handle(self, text: str, peer: str) -> str:
        try:
            return self.handler(text, peer)
        except Exception:  # the handler's bug must not cost the connection: NACK so the sender resends
            logger.exception("MLLP: the handler failed on a message from %s", peer)
            return build_ack(text, "AE", "internal error; please resend", error_code="207")


def adt_handler(raw: str, peer: str) -> str:
    """The ADT feed's handler: `adt_apply` in this worker thread, with its own database connection."""
    from infusion.services import adt_apply  # Django models: import once the apps are ready

    close_old_connections()
    try:
        _, ack = adt_apply(raw=raw, sender=peer)
        return ack
    finally:
        connections.close_all()  # this thread's connection; ADT is a few messages a second at most


class MllpServerThread:
    """An MllpServer on its own event loop in a daemon thread; `with MllpServerThread(server) as port: ...`."""

    def __init__(self, server: MllpServer) -> None:
        self.server = server
        self._thread = threading.Thread(target=self._run, name="mllp-server", daemon=True)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self, timeout_s: float = 10.0) -> int:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"the MLLP server did not start within {timeout_s} s")
        if self._error is not None:
            raise self._error
        return self.server.port

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)

    def __enter__(self) -> int:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            await self.server.start()
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.server.close()


class MllpClient:
    """A blocking MLLP connection: send a message, get its ACK (one at a time, as MLLP wants)."""

    def __init__(self, host: str, port: int, *, timeout_s: float = 10.0) -> None:
        self._socket = socket.create_connection((host, port), timeout=timeout_s)
        self._decoder = MllpDecoder()
        self._frames: list[Frame | OversizedFrame] = []

    def send(self, raw: str, *, codec: str | None = None) -> str:
        """Send `raw` (segments separated by CR; LF is turned into CR) and return the ACK text."""
        text = raw.replace("\r\n", "\r").replace("\n", "\r")
        codec = codec or CHARSETS.get(message_header(text).charset.upper(), "utf-8")
        self._socket.sendall(frame(text.encode(codec)))
        while not self._frames:
            data = self._socket.recv(_READ_BYTES)
            if not data:
                raise ConnectionError("the MLLP peer closed the connection before acknowledging")
            self._frames.extend(self._decoder.feed(data))
        answer = self._frames.pop(0)
        payload = answer.payload if isinstance(answer, Frame) else answer.head
        return decode_hl7(payload)[0]

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> MllpClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def mllp_send(host: str, port: int, raw: str, *, timeout_s: float = 10.0) -> str:
    """Send one message over a new MLLP connection and return the ACK it gets."""
    with MllpClient(host, port, timeout_s=timeout_s) as client:
        return client.send(raw)
