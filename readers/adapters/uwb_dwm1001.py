"""Qorvo/Decawave DWM1001 UART shell output (`lec` CSV and `les` text) -> UWB range TagReads.

A DWM1001 in tag mode prints lines about itself only, and neither format names the tag: the tag id
comes from the adapter's settings (`options["tag_id"]`, the 4-hex-digit id `si` shows). One line
becomes one TagRead per anchor range (`reader_id` = our Reader.code for that anchor short id); the
module's own position estimate is kept in each read's `raw["est"]` as (x_m, y_m, z_m, quality_pct).

What survives a damaged line (drops are counted per range, plus one for a damaged estimate):
* `lec` anchor blocks are positional (`AN<i>,<id>,<x>,<y>,<z>,<range>`), so each block is checked by
  its `AN<i>` marker. A bad number or id costs its block only; a marker out of place means the framing
  is lost, and the rest of the line is dropped as garbled.
* `lec` without its `POS` tail and with fewer blocks than the `DIST` count was cut short: the block
  holding the line's last field may itself be cut (`6.44` -> `6.4`), so it is dropped with the missing
  ones as truncated; the blocks before it survive. A cut exactly at a block end of a line whose count
  is met, or a cut inside the last `les` range, cannot be seen and is accepted.
* A `DIST` count that disagrees with the blocks listed: blocks beyond the count are dropped, missing
  ones are counted; both as garbled. Blocks within the count survive (their markers agree).
* `les` tokens are self-delimiting; a bad token costs itself (truncated if it is the last one).
* Two `lec` lines glued by a lost newline (`…,8.0DIST,4,AN0,…`) are split at `DIST` (parse_dwm_line).
"""

from __future__ import annotations

import logging
import math
import re
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import serial

from readers.adapters.backoff import Backoff
from readers.adapters.base import ReaderAdapter, ReaderError, ReaderSettings, register
from readers.drops import DropCounter, DropReason
from readers.reads import TagRead, Tech, utc_now

logger = logging.getLogger(__name__)

MAX_RANGE_M = 200.0  # DWM1001 two-way ranging reaches ~60 m line of sight; beyond this is garbage
MAX_ANCHORS = 32  # a DIST count above this is a garbled number, not a network
MAX_LINE_CHARS = 1024  # a 4-anchor lec line is ~140 characters
_BLOCK = 6  # AN<i>,<id>,<x>,<y>,<z>,<range>
_ANCHOR_ID = re.compile(r"[0-9A-Fa-f]{4}\Z")
_LES_ANCHOR = re.compile(r"([0-9A-Fa-f]{4})\[([^\[\]]*)\]=(\S+)\Z")
_SHELL_NOISE = ("dwm>", "DWM1001", "Help", "Copyright", "License", "Compiled", "Build")

Estimate = tuple[float, float, float, int]  # x_m, y_m, z_m, quality_pct


def anchor_code(anchors: Mapping[str, str], short_id: str) -> str | None:
    """Our Reader.code for a 4-hex-digit anchor id; mapping keys may be upper or lower case."""
    return anchors.get(short_id.upper()) or anchors.get(short_id.lower())


def anchors_option(settings: ReaderSettings) -> dict[str, str]:
    """`options["anchors"]`: {4-hex-digit anchor id: Reader.code}, keys upper-cased once here."""
    anchors = settings.options.get("anchors", {})
    if not isinstance(anchors, Mapping):
        raise ReaderError(f"{settings.code}: options['anchors'] must map anchor ids to reader codes", permanent=True)
    return {str(k).upper(): str(v) for k, v in anchors.items()}


def range_ok(range_m: float) -> bool:
    return math.isfinite(range_m) and 0.0 <= range_m <= MAX_RANGE_M


def parse_dwm_line(
    line: str, *, tag_id: str, anchors: Mapping[str, str], drops: DropCounter, now: datetime,
    source: str = "dwm1001",
) -> list[TagRead]:
    """Either format, told apart by shape; shell prompts and blank lines are skipped silently.

    Two `lec` lines glued by a lost newline are parsed apart: the first is then cut short, the second whole.
    """
    text = line.strip()
    if text.startswith("DIST"):
        return [
            read
            for piece in text.split("DIST")[1:]
            for read in parse_lec_line("DIST" + piece, tag_id=tag_id, anchors=anchors, drops=drops, now=now,
                                       source=source)
        ]
    if "]=" in text or "est[" in text:
        return parse_les_line(text, tag_id=tag_id, anchors=anchors, drops=drops, now=now, source=source)
    if text and not text.startswith(_SHELL_NOISE):
        drops.drop(DropReason.UNKNOWN_FORMAT, reader_id=source, detail=f"not lec/les: {text[:60]!r}")
    return []


def parse_lec_line(
    line: str, *, tag_id: str, anchors: Mapping[str, str], drops: DropCounter, now: datetime,
    source: str = "dwm1001",
) -> list[TagRead]:
    """`DIST,<n>,AN0,<id>,<x>,<y>,<z>,<range m>,…[,POS,<x>,<y>,<z>,<quality %>]` -> one read per range.

    `source` is the adapter's Reader.code, under which drops are counted. Pure.
    """
    fields = line.strip().split(",")
    count = _lec_count(fields, line, drops, source)
    if count is None:
        return []
    body = fields[2:]
    pos_at = body.index("POS") if "POS" in body else -1
    blocks = body[:pos_at] if pos_at >= 0 else body
    est = _lec_estimate(body[pos_at + 1 :], drops, source) if pos_at >= 0 else None
    usable = len(blocks) // _BLOCK
    if pos_at < 0 and (len(blocks) % _BLOCK or usable < count):
        usable = max(0, (len(blocks) - 1) // _BLOCK)  # the block holding the last field may be cut
        drops.drop(DropReason.TRUNCATED, reader_id=source, detail=line, count=max(1, count - usable))
    elif usable != count or len(blocks) % _BLOCK:
        drops.drop(DropReason.GARBLED, reader_id=source, detail=f"DIST {count} vs {len(blocks)} fields: {line}",
                   count=max(1, abs(count - usable)))
        usable = min(usable, count)
    return _lec_blocks(blocks, usable, tag_id=tag_id, anchors=anchors, drops=drops, now=now, source=source,
                       est=est)


def _lec_count(fields: list[str], line: str, drops: DropCounter, source: str) -> int | None:
    if fields[0] != "DIST":
        drops.drop(DropReason.UNKNOWN_FORMAT, reader_id=source, detail=line)
        return None
    if len(fields) < 2:
        drops.drop(DropReason.TRUNCATED, reader_id=source, detail=line)
        return None
    try:
        count = int(fields[1])
    except ValueError:
        count = -1
    if not 0 <= count <= MAX_ANCHORS:
        drops.drop(DropReason.GARBLED, reader_id=source, detail=f"DIST count: {line}")
        return None
    return count


def _lec_blocks(
    blocks: list[str], usable: int, *, tag_id: str, anchors: Mapping[str, str], drops: DropCounter,
    now: datetime, source: str, est: Estimate | None,
) -> list[TagRead]:
    reads: list[TagRead] = []
    for i in range(usable):
        block = blocks[i * _BLOCK : (i + 1) * _BLOCK]
        if block[0] != f"AN{i}":  # framing lost: nothing after this can be trusted
            drops.drop(DropReason.GARBLED, reader_id=source, detail=f"AN{i} expected: {block}", count=usable - i)
            break
        read = _anchor_read(block[1], block[2:5], block[5], tag_id=tag_id, anchors=anchors, drops=drops,
                            now=now, source=source, raw_base={"format": "lec", "est": est})
        if read is not None:
            reads.append(read)
    return reads


def _anchor_read(
    short_id: str, xyz: list[str], range_text: str, *, tag_id: str, anchors: Mapping[str, str],
    drops: DropCounter, now: datetime, source: str, raw_base: dict[str, Any],
) -> TagRead | None:
    """One anchor's range (either format) -> a read, or None with the reason counted."""
    try:
        if not _ANCHOR_ID.match(short_id) or len(xyz) != 3:
            raise ValueError(short_id)
        x_m, y_m, z_m = float(xyz[0]), float(xyz[1]), float(xyz[2])
        range_m = float(range_text)
    except ValueError:
        drops.drop(DropReason.GARBLED, reader_id=source, detail=f"anchor {short_id} {xyz} {range_text}")
        return None
    if not range_ok(range_m) or not (math.isfinite(x_m) and math.isfinite(y_m) and math.isfinite(z_m)):
        drops.drop(DropReason.ABSURD_VALUE, reader_id=source, detail=f"anchor {short_id} range {range_m} m")
        return None
    code = anchor_code(anchors, short_id)
    if code is None:
        drops.drop(DropReason.UNKNOWN_READER, reader_id=source, detail=f"anchor {short_id} not configured")
        return None
    raw = {**raw_base, "anchor": short_id.upper(), "anchor_xyz_m": (x_m, y_m, z_m)}
    return TagRead(tag_id=tag_id, reader_id=code, tech=Tech.UWB, seen_at=now, range_m=range_m, raw=raw)


def _lec_estimate(fields: list[str], drops: DropCounter, source: str) -> Estimate | None:
    """`<x>,<y>,<z>,<quality %>` after POS; a damaged estimate costs itself, never the ranges."""
    if len(fields) < 4:
        drops.drop(DropReason.TRUNCATED, reader_id=source, detail=f"POS {fields}")
        return None
    return _estimate(fields, drops, source)


def _estimate(fields: list[str], drops: DropCounter, source: str) -> Estimate | None:
    try:
        if len(fields) != 4:
            raise ValueError(fields)
        x_m, y_m, z_m, quality = float(fields[0]), float(fields[1]), float(fields[2]), int(fields[3])
    except ValueError:
        drops.drop(DropReason.GARBLED, reader_id=source, detail=f"position estimate {fields}")
        return None
    if not (math.isfinite(x_m) and math.isfinite(y_m) and math.isfinite(z_m) and 0 <= quality <= 100):
        drops.drop(DropReason.ABSURD_VALUE, reader_id=source, detail=f"position estimate {fields}")
        return None
    return (x_m, y_m, z_m, quality)


def parse_les_line(
    line: str, *, tag_id: str, anchors: Mapping[str, str], drops: DropCounter, now: datetime,
    source: str = "dwm1001",
) -> list[TagRead]:
    """`1151[5.00,8.00,2.25]=6.48 0CA8[…]=6.51 … le_us=2576 est[2.57,1.98,1.68,100]` -> one read per range.

    `le_us` and `est[…]` are optional (location engine off). Pure.
    """
    tokens = line.split()
    est: Estimate | None = None
    found: list[tuple[str, list[str], str]] = []
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        match = _LES_ANCHOR.match(token)
        if match is not None:
            found.append((match[1], match[2].split(","), match[3]))
        elif token.startswith("est[") and token.endswith("]"):
            est = _estimate(token[4:-1].split(","), drops, source)
        elif not (token.startswith("le_us=") and token[6:].isdigit()):
            reason = DropReason.TRUNCATED if last else DropReason.GARBLED
            drops.drop(reason, reader_id=source, detail=f"les token {token!r}")
    raw_base: dict[str, Any] = {"format": "les", "est": est}
    reads = [
        _anchor_read(short_id, xyz, range_text, tag_id=tag_id, anchors=anchors, drops=drops, now=now,
                     source=source, raw_base=raw_base)
        for short_id, xyz, range_text in found
    ]
    return [read for read in reads if read is not None]


class LineAssembler:
    """Bytes in arbitrary pieces -> complete lines. A line longer than `max_chars` is dropped as
    garbled (and everything up to its end of line); `\\r\\n` and `\\n` both end a line."""

    def __init__(self, *, drops: DropCounter, source: str, max_chars: int = MAX_LINE_CHARS) -> None:
        self._buffer = bytearray()
        self._skipping = False  # inside an overlong line: discard up to the next newline
        self._drops = drops
        self._source = source
        self._max_chars = max_chars

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        *complete, rest = self._buffer.split(b"\n")
        self._buffer = bytearray(rest)
        lines: list[str] = []
        for raw in complete:
            if self._skipping:
                self._skipping = False
            elif len(raw) > self._max_chars:
                self._overlong()
            else:
                lines.append(raw.decode("ascii", errors="replace").rstrip("\r"))
        if len(self._buffer) > self._max_chars:
            if not self._skipping:
                self._overlong()
            self._skipping = True
            self._buffer.clear()
        return lines

    def _overlong(self) -> None:
        self._drops.drop(DropReason.GARBLED, reader_id=self._source, detail=f"line over {self._max_chars} chars")

    def reset(self) -> None:
        """After a reconnect: a half line from the old connection must not glue onto the new one."""
        self._buffer.clear()
        self._skipping = False


def lines_to_reads(
    lines: Iterable[str], *, tag_id: str, anchors: Mapping[str, str], drops: DropCounter,
    now: datetime, source: str,
) -> list[TagRead]:
    reads: list[TagRead] = []
    for line in lines:
        reads += parse_dwm_line(line, tag_id=tag_id, anchors=anchors, drops=drops, now=now, source=source)
    return reads


READ_WINDOW_S = 0.05  # one read call waits at most this long: the batch latency and the stop() latency
UDP_MAX_DATAGRAM = 65535


class _Link(Protocol):
    """One open connection to the module: `read()` waits up to READ_WINDOW_S and may return b""."""

    def read(self) -> bytes: ...
    def close(self) -> None: ...


class _SerialLink:
    """A serial port, or anything pyserial's serial_for_url opens (`socket://host:port`, `rfc2217://…`)."""

    def __init__(self, url: str, *, baudrate: int) -> None:
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=READ_WINDOW_S)
        except ValueError as exc:  # unknown URL scheme or bad parameters: retrying will not help
            raise ReaderError(f"{url}: {exc}", permanent=True) from exc
        except OSError as exc:  # SerialException: refused, no such device yet, busy
            raise ReaderError(f"{url}: {exc}") from exc

    def read(self) -> bytes:
        try:
            return bytes(self._port.read(65536))
        except OSError as exc:  # SerialException('socket disconnected'), device unplugged
            raise ReaderError(f"{self._port.port}: {exc}") from exc

    def close(self) -> None:
        self._port.close()


class _UdpLink:
    """Listens on host:port; each datagram holds whole lines (its end ends the last one)."""

    def __init__(self, host: str, port: int) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise ReaderError(f"udp://{host}:{port}: {exc}") from exc
        self._sock.settimeout(READ_WINDOW_S)

    def read(self) -> bytes:
        try:
            data = self._sock.recv(UDP_MAX_DATAGRAM)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise ReaderError(f"udp: {exc}") from exc
        return data if data.endswith(b"\n") else data + b"\n"

    def close(self) -> None:
        self._sock.close()


def open_link(address: str, *, baudrate: int = 115200) -> _Link:
    """`udp://host:port` (listen), else a pyserial URL or device path (`/dev/ttyACM0`, `socket://h:p`)."""
    if not address:
        raise ReaderError("no address: need a serial device, socket://host:port or udp://host:port", permanent=True)
    if address.startswith("udp://"):
        url = urlsplit(address)
        try:
            port = url.port
        except ValueError as exc:
            raise ReaderError(f"{address}: {exc}", permanent=True) from exc
        if port is None:
            raise ReaderError(f"{address}: no port", permanent=True)
        return _UdpLink(url.hostname or "0.0.0.0", port)
    return _SerialLink(address, baudrate=baudrate)


@register
class Dwm1001Adapter(ReaderAdapter):
    """A DWM1001 tag's `lec`/`les` output over a serial port, TCP (`socket://`) or UDP (`udp://`).

    settings.options: `tag_id` (required: the module's id, e.g. "1A2B"), `anchors` ({short id: Reader.code}),
    `baudrate` (serial only, default 115200). The module must already be in shell mode printing
    `lec` or `les` (press Enter twice, then type `lec`; ser2net keeps that state).
    """

    protocol = "uwb_dwm1001"
    tech = Tech.UWB

    def __init__(
        self, settings: ReaderSettings, *, drops: DropCounter | None = None,
        clock: Callable[[], datetime] = utc_now, backoff: Backoff | None = None,
    ) -> None:
        super().__init__(settings, drops=drops, clock=clock)
        tag_id = settings.options.get("tag_id")
        if not isinstance(tag_id, str) or not tag_id.strip():
            raise ReaderError(f"{settings.code}: options['tag_id'] (the DWM1001's own id) is required", permanent=True)
        self.tag_id = tag_id.strip().upper()
        self.anchors = anchors_option(settings)
        self.backoff = backoff or Backoff()
        self._lines = LineAssembler(drops=self.drops, source=settings.code)

    def batches(self) -> Iterator[list[TagRead]]:
        while not self.stopping.is_set():
            try:
                yield from self._session()
            except ReaderError as exc:
                if exc.permanent:
                    raise
                logger.warning("reader %s: %s; reconnecting", self.settings.code, exc)
            self.stopping.wait(self.backoff.next_delay_s())

    def _session(self) -> Iterator[list[TagRead]]:
        link = open_link(self.settings.address, baudrate=int(self.settings.options.get("baudrate", 115200)))
        logger.info("reader %s: connected to %s", self.settings.code, self.settings.address)
        self._lines.reset()
        self.connected.set()
        try:
            while not self.stopping.is_set():
                data = link.read()
                if not data:
                    continue
                self.backoff.reset()
                reads = lines_to_reads(self._lines.feed(data), tag_id=self.tag_id, anchors=self.anchors,
                                       drops=self.drops, now=self.clock(), source=self.settings.code)
                if reads:
                    yield reads
        finally:
            self.connected.clear()
            link.close()
