"""Counting and logging what adapters drop: a bad payload costs itself, never the reads around it."""

from __future__ import annotations

import enum
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

logger = logging.getLogger(__name__)

RSSI_MIN_DBM = -130.0  # below the noise floor of any reader we know
RSSI_MAX_DBM = 10.0  # above what a tag can deliver at the antenna
MAX_FUTURE = timedelta(seconds=5)  # reader clocks drift; more than this ahead is a broken clock


class DropReason(enum.StrEnum):
    GARBLED = "garbled"  # not parseable at all (bad JSON, bad hex, bad framing)
    TRUNCATED = "truncated"  # parseable but cut short
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    ABSURD_VALUE = "absurd_value"  # RSSI or range outside physics
    FUTURE_TIMESTAMP = "future_timestamp"
    UNKNOWN_READER = "unknown_reader"
    UNKNOWN_FORMAT = "unknown_format"  # valid frame of a kind we do not read (e.g. not a beacon)


class DropCounter:
    """Thread-safe counts of drops by (reader, reason), with a log line per reason at most every
    `log_every_s` seconds per reader so a flood of garbage cannot flood the log."""

    def __init__(self, *, log_every_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._counts: Counter[tuple[str, DropReason]] = Counter()
        self._last_log: dict[tuple[str, DropReason], float] = {}
        self._lock = threading.Lock()
        self._log_every_s = log_every_s
        self._clock = clock

    def drop(self, reason: DropReason, *, reader_id: str, detail: str, count: int = 1) -> None:
        key = (reader_id, reason)
        now = self._clock()
        with self._lock:
            self._counts[key] += count
            total = self._counts[key]
            last = self._last_log.get(key)
            due = last is None or now - last >= self._log_every_s
            if due:
                self._last_log[key] = now
        if due:
            logger.warning("reader %s: dropped %s (%s; %d so far)", reader_id, reason.value, detail[:200], total)

    def counts(self, reader_id: str | None = None) -> dict[str, int]:
        """Drops by reason, for one reader or all."""
        with self._lock:
            out: Counter[str] = Counter()
            for (reader, reason), n in self._counts.items():
                if reader_id is None or reader == reader_id:
                    out[reason.value] += n
            return dict(out)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


def rssi_ok(value: float) -> bool:
    return math.isfinite(value) and RSSI_MIN_DBM <= value <= RSSI_MAX_DBM


def time_ok(seen_at: datetime, now: datetime) -> bool:
    return seen_at - now <= MAX_FUTURE
