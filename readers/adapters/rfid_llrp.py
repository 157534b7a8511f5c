"""UHF RFID readers over LLRP (Impinj Speedway/R700, Zebra FX…) through sllurp 3.0.5.

`parse_tag_report` turns the tag dicts sllurp hands its tag-report callback into TagReads (pure, pinned by
tests/fixtures/llrp/*.json); `LlrpAdapter` is the thin I/O class around sllurp's LLRPReaderClient, whose
RO_ACCESS_REPORTs are decoded by llrp_report (the same dicts, ~4x cheaper) with sllurp's decoder as fallback.

What the parser accepts, per tag dict (each value bare or wrapped in a one-item list/tuple):
  EPC-96 (24 hex digits as ASCII bytes, or 12 raw bytes) else EPC (any whole number of 16-bit words),
  AntennaID, PeakRSSI (dBm), ImpinjPeakRSSI (dBm x 100, preferred), ImpinjRFPhaseAngle (0..4095 -> 0..2 pi),
  LastSeenTimestampUTC else FirstSeenTimestampUTC (microseconds since the epoch).
Decisions: a tag with neither timestamp is seen `now` (the arrival time; sllurp's default selector may leave
timestamps out, and the read is still true); a key present with value None counts as absent; a timestamp
before 2000 (a reader whose clock was never set) is an absurd value; more than 5 s ahead is a future one.
"""

from __future__ import annotations

import logging
import math
import queue
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sllurp.llrp import LLRPReaderClient, LLRPReaderConfig, LLRPReaderState
from sllurp.llrp_errors import LLRPError, ReaderConfigurationError

from readers.adapters.backoff import Backoff
from readers.adapters.base import ReaderAdapter, ReaderError, register
from readers.adapters.llrp_client import ReportClient
from readers.drops import DropCounter, DropReason, rssi_ok, time_ok
from readers.reads import TagRead, Tech

logger = logging.getLogger(__name__)

PHASE_STEPS = 4096  # Impinj RF phase: 12 bits over one turn
MIN_SEEN_AT_US = 946_684_800_000_000  # 2000-01-01T00:00Z
MAX_SEEN_AT_US = 253_402_300_799_000_000  # 9999-12-31T23:59:59Z: the last instant datetime can hold
_HEX_WORDS = re.compile(r"(?:[0-9A-Fa-f]{4}){1,31}")  # an EPC is 1..31 16-bit words (max 496 bits)


class _Bad(Exception):
    def __init__(self, reason: DropReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def parse_tag_report(
    tags: list[dict[str, Any]], *, reader_id: str, drops: DropCounter, now: datetime,
) -> list[TagRead]:
    """One sllurp tag report -> TagReads. Pure; a bad tag is dropped with its reason, the others go on."""
    if not isinstance(tags, list | tuple):
        drops.drop(DropReason.GARBLED, reader_id=reader_id, detail=f"report is a {type(tags).__name__}")
        return []
    reads: list[TagRead] = []
    for tag in tags:
        try:
            reads.append(_tag_read(tag, reader_id=reader_id, now=now))
        except _Bad as bad:
            drops.drop(bad.reason, reader_id=reader_id, detail=f"{bad}: {tag!r}")
    return reads


def _tag_read(tag: Any, *, reader_id: str, now: datetime) -> TagRead:
    if not isinstance(tag, dict):
        raise _Bad(DropReason.WRONG_TYPE, f"tag is a {type(tag).__name__}, not a dict")
    return TagRead(
        tag_id=_epc(tag), reader_id=reader_id, tech=Tech.RFID, seen_at=_seen_at(tag, now),
        rssi_dbm=_rssi_dbm(tag), antenna=_antenna(tag), phase_rad=_phase_rad(tag), raw=tag,
    )


def _scalar(tag: dict[Any, Any], key: str) -> Any:
    """The value under key, unwrapped from a one-item list or tuple (older sllurp versions)."""
    value = tag.get(key)
    if isinstance(value, list | tuple):
        if len(value) != 1:
            raise _Bad(DropReason.WRONG_TYPE, f"{key} is a list of {len(value)}")
        value = value[0]
    return value


def _int(tag: dict[Any, Any], key: str) -> int | None:
    value = tag.get(key)
    if value is None or type(value) is int:  # the bare value sllurp 3 hands us, told apart without a call
        return value
    value = _scalar(tag, key)  # a one-item list (older sllurp), or a wrong type
    if value is None or type(value) is int:  # not isinstance: True is not an antenna
        return value
    raise _Bad(DropReason.WRONG_TYPE, f"{key} is a {type(value).__name__}, not an int")


def _epc(tag: dict[Any, Any]) -> str:
    """EPC as upper-case hex: EPC-96 first (sllurp copies it to EPC as well), else EPC."""
    key = "EPC-96" if tag.get("EPC-96") is not None else "EPC"
    value = tag.get(key)
    if type(value) is not bytes:  # bytes: the bare value sllurp 3 hands us, told apart without a call
        value = _scalar(tag, key)
    if value is None:
        raise _Bad(DropReason.MISSING_FIELD, "no EPC-96 or EPC")
    if isinstance(value, bytes | bytearray):
        if key == "EPC-96" and len(value) == 12:  # raw bits, not hexlified
            return value.hex().upper()
        value = value.decode("latin-1")
    if not isinstance(value, str):
        raise _Bad(DropReason.WRONG_TYPE, f"{key} is a {type(value).__name__}")
    if not _HEX_WORDS.fullmatch(value):
        raise _Bad(DropReason.GARBLED, f"{key} is not whole 16-bit words of hex")
    return value.upper()


def _seen_at(tag: dict[Any, Any], now: datetime) -> datetime:
    seen_us = _int(tag, "LastSeenTimestampUTC")
    if seen_us is None:
        seen_us = _int(tag, "FirstSeenTimestampUTC")
    if seen_us is None:
        return now
    if not MIN_SEEN_AT_US <= seen_us <= MAX_SEEN_AT_US:
        raise _Bad(DropReason.ABSURD_VALUE, f"timestamp {seen_us} us is not a reader clock time")
    seen_at = datetime.fromtimestamp(seen_us / 1e6, tz=UTC)
    if not time_ok(seen_at, now):
        raise _Bad(DropReason.FUTURE_TIMESTAMP, f"seen {seen_at.isoformat()}, now {now.isoformat()}")
    return seen_at


def _rssi_dbm(tag: dict[Any, Any]) -> float | None:
    """ImpinjPeakRSSI (dBm x 100) is preferred: PeakRSSI is whole dBm."""
    centi = _int(tag, "ImpinjPeakRSSI")
    if centi is not None:
        rssi = centi / 100
    else:
        whole = _int(tag, "PeakRSSI")
        if whole is None:
            return None
        rssi = float(whole)
    if not rssi_ok(rssi):
        raise _Bad(DropReason.ABSURD_VALUE, f"RSSI {rssi} dBm")
    return rssi


def _antenna(tag: dict[Any, Any]) -> int | None:
    antenna = _int(tag, "AntennaID")
    if antenna is not None and not 1 <= antenna <= 0xFFFF:
        raise _Bad(DropReason.ABSURD_VALUE, f"antenna {antenna}")
    return antenna


def _phase_rad(tag: dict[Any, Any]) -> float | None:
    steps = _int(tag, "ImpinjRFPhaseAngle")
    if steps is None:
        return None
    if not 0 <= steps < PHASE_STEPS:
        raise _Bad(DropReason.ABSURD_VALUE, f"phase {steps} of {PHASE_STEPS}")
    return steps * (2 * math.pi / PHASE_STEPS)


# ---------------------------------------------------------------------------------------------- I/O


POLL_S = 0.1  # how often the stream loop looks at stop(); bounds the time stop() takes to end batches()
DISCONNECT_S = 0.5  # polite disconnect (sllurp deletes its specs) before closing the socket hard
DEFAULTS: dict[str, Any] = {
    "tx_power_dbm": None,  # None: the reader's maximum
    "mode_identifier": None,  # None: the reader's default mode
    "session": 2, "tag_population": 4,
    "report_every_n_tags": 100, "report_timeout_ms": 100,
    "impinj": "auto",  # True, False, or "auto": ask, and go on without when the reader refuses
    "impinj_search_mode": None,
    "keepalive_ms": 5000,
    "connect_timeout_s": 1.0,
    "handshake_timeout_s": 5.0,  # connected but not inventorying after this: start again
    "backoff_base_s": 0.5, "backoff_cap_s": 30.0,
}
IMPINJ_CONTENT = {"EnableRFPhaseAngle": True, "EnablePeakRSSI": True, "EnableRFDopplerFrequency": False}


def tag_content(*, impinj: bool) -> dict[str, bool]:
    """What each tag report carries: only the fields parse_tag_report takes a value from, as sllurp spends ~1 us
    per field per tag decoding them. Off: TagSeenCount (never read), FirstSeenTimestamp (LastSeen wins when both
    are sent; sllurp's own default sends LastSeen alone), PeakRSSI while ImpinjPeakRSSI (preferred) is asked for.
    The fields that make a tag's reads separate entries of a report (antenna on, channel off) are unchanged.
    """
    return {"EnableAntennaID": True, "EnablePeakRSSI": not impinj, "EnableFirstSeenTimestamp": False,
            "EnableLastSeenTimestamp": True, "EnableTagSeenCount": False, "EnableChannelIndex": False}


@dataclass
class _Link:
    """One connection: sllurp's client and what its callbacks (in sllurp's thread) tell the stream loop."""

    client: LLRPReaderClient
    events: queue.SimpleQueue[tuple[str, Any]] = field(default_factory=queue.SimpleQueue)
    state: int = LLRPReaderState.STATE_DISCONNECTED
    inventorying: bool = False
    connected_at: float = field(default_factory=time.monotonic)
    heard_at: float = field(default_factory=time.monotonic)


def _address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":") if ":" in address else (address, ":", "5084")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ReaderError(f"LLRP address {address!r} is not host:port", permanent=True)
    return host, int(port)


@register
class LlrpAdapter(ReaderAdapter):
    """One LLRP reader: connect, configure, inventory, reconnect with backoff, disconnect politely on stop().

    settings.address is host[:port] (5084 by default); settings.antennas empty means all antennas;
    settings.options override DEFAULTS (tx power, reader mode, report every N tags / ms, Impinj, keepalive).
    """

    protocol = "rfid_llrp"
    tech = Tech.RFID

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = {**DEFAULTS, **self.settings.options}
        self.impinj: bool = self.options["impinj"] is not False
        self.connections = 0

    def batches(self) -> Iterator[list[TagRead]]:
        host, port = _address(self.settings.address)
        self._config()  # a bad option is a permanent error, found before the first connection
        backoff = Backoff(base_s=float(self.options["backoff_base_s"]), cap_s=float(self.options["backoff_cap_s"]))
        while not self.stopping.is_set():
            link = self._connect(host, port)
            if link is not None:
                try:
                    yield from self._stream(link, backoff)
                finally:
                    self._close(link)
            if not self.stopping.is_set():
                delay_s = backoff.next_delay_s()
                logger.info("reader %s: reconnecting to %s:%s in %.2f s", self.settings.code, host, port, delay_s)
                self.stopping.wait(delay_s)

    def _config(self) -> LLRPReaderConfig:
        o = self.options
        impinj = self.impinj
        try:
            return LLRPReaderConfig({
                "antennas": list(self.settings.antennas) or [0],  # 0: every antenna the reader has
                **({"tx_power_dbm": float(o["tx_power_dbm"])} if o["tx_power_dbm"] is not None else {}),
                "mode_identifier": o["mode_identifier"], "session": o["session"],
                "tag_population": o["tag_population"],
                "report_every_n_tags": o["report_every_n_tags"], "report_timeout_ms": o["report_timeout_ms"],
                "tag_content_selector": tag_content(impinj=impinj),
                "impinj_tag_content_selector": IMPINJ_CONTENT if impinj else None,
                "impinj_search_mode": o["impinj_search_mode"] if impinj else None,
                "keepalive_interval": int(o["keepalive_ms"]),
                "reconnect": False,  # ours, with backoff and stop(); sllurp's waits 60 s between tries
                "start_inventory": True, "reset_on_connect": True,
            })
        except (LLRPError, TypeError, ValueError) as exc:
            raise ReaderError(f"reader {self.settings.code}: bad LLRP options: {exc}", permanent=True) from exc

    def _connect(self, host: str, port: int) -> _Link | None:
        client = ReportClient(host, port, self._config(), timeout=float(self.options["connect_timeout_s"]))
        link = _Link(client)
        client.add_tag_report_callback(lambda _client, tags: link.events.put(("tags", tags)))
        client.add_disconnected_callback(lambda _client: link.events.put(("down", None)))
        client.add_message_callback("KEEPALIVE", lambda _client, _msg: link.events.put(("heard", None)))
        for _name, state in LLRPReaderState.getStates():
            client.add_state_callback(state, lambda _client, new: link.events.put(("state", new)))
        try:
            client.connect()
        except (OSError, ReaderConfigurationError) as exc:
            logger.warning("reader %s: cannot connect to %s:%s: %s", self.settings.code, host, port, exc)
            return None
        self.connections += 1
        return link

    def _stream(self, link: _Link, backoff: Backoff) -> Iterator[list[TagRead]]:
        """Yield the reads of one connection until it drops, goes silent, or stop() is called."""
        while not self.stopping.is_set():
            try:
                kind, payload = link.events.get(timeout=POLL_S)
            except queue.Empty:
                if self._stale(link):
                    return
                continue
            link.heard_at = time.monotonic()
            if kind == "tags":
                reads = self._parse(self._drain(link, payload))
                if reads:
                    yield reads
            elif kind == "state":
                self._on_state(link, payload, backoff)
            elif kind == "down":
                self._on_down(link, backoff)
                return

    def _drain(self, link: _Link, tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every tag report already queued joins this batch; other events wait for the next get()."""
        batch = list(tags)
        while True:
            try:
                kind, payload = link.events.get_nowait()
            except queue.Empty:
                return batch
            if kind != "tags":
                link.events.put((kind, payload))  # order against tags does not matter for state/down
                return batch
            batch.extend(payload)

    def _parse(self, tags: list[dict[str, Any]]) -> list[TagRead]:
        code = self.settings.code
        try:
            return parse_tag_report(tags, reader_id=code, drops=self.drops, now=self.clock())
        except Exception:  # a parser bug costs this batch (logged with its traceback), never the stream
            logger.exception("reader %s: parse_tag_report failed on %d tags", code, len(tags))
            self.drops.drop(DropReason.GARBLED, reader_id=code, detail="parser failed", count=len(tags))
            return []

    def _on_state(self, link: _Link, state: int, backoff: Backoff) -> None:
        link.state = state
        if state == LLRPReaderState.STATE_INVENTORYING and not link.inventorying:
            link.inventorying = True
            self.connected.set()
            backoff.reset()
            logger.info("reader %s: inventorying (Impinj extensions %s)", self.settings.code,
                        "on" if self.impinj else "off")

    def _on_down(self, link: _Link, backoff: Backoff) -> None:
        self.connected.clear()
        if link.state == LLRPReaderState.STATE_SENT_ENABLE_IMPINJ_EXTENSIONS and self.options["impinj"] == "auto":
            logger.info("reader %s: no Impinj extensions; going on without them", self.settings.code)
            self.impinj = False
            backoff.reset()
        else:
            logger.warning("reader %s: connection lost", self.settings.code)

    def _stale(self, link: _Link) -> bool:
        """A reader that never finishes the handshake, or stops talking (no keepalive), is reconnected."""
        now = time.monotonic()
        if not link.inventorying and now - link.connected_at > float(self.options["handshake_timeout_s"]):
            logger.warning("reader %s: handshake did not finish; starting again", self.settings.code)
            return True
        silent_s = 3 * int(self.options["keepalive_ms"]) / 1000 + 1.0
        if link.inventorying and self.options["keepalive_ms"] and now - link.heard_at > silent_s:
            logger.warning("reader %s: silent for %.1f s; reconnecting", self.settings.code, now - link.heard_at)
            return True
        return False

    def _close(self, link: _Link) -> None:
        """Polite first (sllurp deletes its access specs and ROSpecs), then hard within DISCONNECT_S."""
        self.connected.clear()
        client = link.client
        try:
            client.disconnect(timeout=DISCONNECT_S)
        except (OSError, LLRPError, ReaderConfigurationError) as exc:
            logger.debug("reader %s: polite disconnect failed: %s", self.settings.code, exc)
        if client.is_alive():
            client.hard_disconnect()
            client.join(DISCONNECT_S)
