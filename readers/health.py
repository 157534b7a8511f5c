"""Reader health from the read stream itself: last read, reads per second, online/offline. No Django.

A reader is online while it delivers reads; with none for `offline_after_s` it is offline, and the
change is reported once (the reader-offline condition the alerts build on). Works the same for a
TCP reader, a gateway behind a shared MQTT connection and a UWB anchor.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from readers.reads import TagRead

ONLINE = "online"
OFFLINE = "offline"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class HealthState:
    reader_id: str
    state: str
    state_since: datetime | None
    last_read_at: datetime | None
    reads_per_s: float
    reads_total: int
    last_error: str = ""


@dataclass(frozen=True)
class HealthChange:
    reader_id: str
    state: str  # ONLINE or OFFLINE
    at: datetime
    last_read_at: datetime | None


@dataclass
class _Reader:
    state: str = UNKNOWN
    state_since: datetime | None = None
    last_read_at: datetime | None = None
    total: int = 0
    counted_at_snapshot: int = 0
    rate_per_s: float = 0.0
    last_error: str = ""
    alive_at: datetime | None = None


class HealthTracker:
    """Thread-safe: adapters `record()` from their threads, the supervisor takes `snapshot()`s."""

    def __init__(self, reader_ids: Iterable[str], *, offline_after_s: float = 60.0, started_at: datetime) -> None:
        self._readers = {reader_id: _Reader(state_since=started_at) for reader_id in reader_ids}
        self._offline_after_s = offline_after_s
        self._started_at = started_at
        self._last_snapshot_at = started_at
        self._lock = threading.Lock()

    def record(self, reads: list[TagRead], *, received_at: datetime) -> None:
        with self._lock:
            for read in reads:
                reader = self._readers.get(read.reader_id)
                if reader is not None:
                    reader.total += 1
                    reader.last_read_at = received_at

    def alive(self, reader_ids: Iterable[str], *, at: datetime) -> None:
        """The readers answer (a live connection, a keepalive) though they delivered no read."""
        with self._lock:
            for reader_id in reader_ids:
                if reader_id in self._readers:
                    self._readers[reader_id].alive_at = at

    def error(self, reader_ids: Iterable[str], message: str) -> None:
        with self._lock:
            for reader_id in reader_ids:
                if reader_id in self._readers:
                    self._readers[reader_id].last_error = message[:500]

    def snapshot(self, now: datetime) -> tuple[list[HealthState], list[HealthChange]]:
        """States of every reader, and the online/offline changes since the last snapshot."""
        with self._lock:
            elapsed_s = max((now - self._last_snapshot_at).total_seconds(), 1e-9)
            self._last_snapshot_at = now
            changes = [change for reader_id, reader in self._readers.items()
                       if (change := self._update(reader_id, reader, now, elapsed_s)) is not None]
            states = [
                HealthState(reader_id, r.state, r.state_since, r.last_read_at, r.rate_per_s, r.total, r.last_error)
                for reader_id, r in self._readers.items()
            ]
        return states, changes

    def _update(self, reader_id: str, reader: _Reader, now: datetime, elapsed_s: float) -> HealthChange | None:
        reader.rate_per_s = (reader.total - reader.counted_at_snapshot) / elapsed_s
        reader.counted_at_snapshot = reader.total
        heard = [t for t in (reader.last_read_at, reader.alive_at) if t is not None]
        heard_at = max(heard) if heard else self._started_at
        silent = (now - heard_at).total_seconds() >= self._offline_after_s
        new_state = OFFLINE if silent else ONLINE if heard else reader.state
        if new_state == reader.state:
            return None
        reader.state, reader.state_since = new_state, now
        return HealthChange(reader_id, new_state, now, reader.last_read_at)
