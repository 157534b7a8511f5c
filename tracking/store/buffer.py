"""Keep writing through a database outage: `BufferedLocationWriter`.

The pipeline calls `submit(...)` once per window. The batch joins a FIFO and the FIFO is written, oldest
first, while the database answers. When it does not (OperationalError / InterfaceError, from Django or
psycopg: refused connection, terminated backend, server restart), `submit` returns quietly: the batches wait,
Django's connection is closed so the next try opens a new one, and the next try comes after a backoff
(`retry_initial_s`, doubling up to `retry_max_s`) instead of on every window. When the database is back, the
waiting batches are written in order, then the new one. `retry()` gives the waiting batches their chance when
no new window comes (a batch with nothing in it and no `on_commit` is not queued, only triggers that);
`flush(timeout_s=)` tries until the FIFO is empty.

Learning about commits: each batch may carry `on_commit`, a callable that receives the batch's `WriteResult`
right after its transaction committed (in the thread that called `submit` or `flush`). The pipeline
broadcasts frames and domain events from there, so nothing is announced that is not stored. A callback that
raises is logged; it does not undo the write or stop the others.

Waiting is bounded by `max_pending_fixes`: past it the *oldest* batches are dropped (logged with counts,
counted in `dropped_fixes_total`), since the newest positions matter most. A batch the database refuses for
another reason (a constraint, a bug) is tried twice, then dropped, logged with its traceback, and counted in
`failed_fixes_total`, so it cannot block the batches behind it. A retried batch is harmless even if its first
commit did land (the acknowledgement lost with the connection): `locations_write` is idempotent.

Counters: buffered_fixes (waiting now), waited_fixes_total (fixes that were not written on their first try),
dropped_fixes_total, failed_fixes_total, committed_batches_total, db_up, last_error.
Thread-safe: one lock around the FIFO and the writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from .fixes import Bool, Crossings, FixBatch, ZoneEvents
from .writer import WriteResult, locations_write

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
OnCommit = Callable[[WriteResult], object]
Write = Callable[..., WriteResult]


@dataclass
class _Pending:
    fixes: FixBatch
    history: Bool
    zone_events: ZoneEvents
    crossings: Crossings
    on_commit: OnCommit | None
    waited: bool = False
    failures: int = 0


class BufferedLocationWriter:
    def __init__(
        self, *, max_pending_fixes: int = 1_000_000, write: Write = locations_write,
        clock: Callable[[], float] = time.monotonic, retry_initial_s: float = 0.5, retry_max_s: float = 30.0,
    ) -> None:
        self.max_pending_fixes = max_pending_fixes
        self._write, self._clock = write, clock
        self._retry_initial_s, self._retry_max_s = retry_initial_s, retry_max_s
        self._pending: deque[_Pending] = deque()
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._backoff_s = retry_initial_s
        self.buffered_fixes = 0
        self.waited_fixes_total = 0
        self.dropped_fixes_total = 0
        self.failed_fixes_total = 0
        self.committed_batches_total = 0
        self.db_up = True
        self.last_error: str | None = None

    def submit(
        self, *, fixes: FixBatch, history: Bool, zone_events: ZoneEvents, crossings: Crossings,
        on_commit: OnCommit | None = None,
    ) -> None:
        """Queue one window's batch and write what the database will take now. Never raises on an outage."""
        history = np.asarray(history)
        if history.dtype != np.bool_ or history.shape != (len(fixes),):
            raise ValueError(f"history: expected a ({len(fixes)},) bool mask, got {history.dtype} {history.shape}")
        with self._lock:
            if on_commit is not None or len(fixes) or len(zone_events) or len(crossings):
                self._pending.append(_Pending(fixes, history, zone_events, crossings, on_commit))
                self.buffered_fixes += len(fixes)
                self._bound()
            self._try()

    def retry(self) -> None:
        """Write what waits if the backoff allows it now (for a caller with no new batch); never raises."""
        with self._lock:
            self._try()

    def _try(self) -> None:
        if self._pending and (self.db_up or self._clock() >= self._retry_at):
            self._drain()
        self._mark_waiting()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Write everything waiting, retrying (with backoff) for up to `timeout_s`; True if nothing is left."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                self._drain()
                self._mark_waiting()
                if not self._pending:
                    return True
                wait_s = min(self._backoff_s, deadline - time.monotonic())
            if wait_s <= 0:
                return False
            time.sleep(wait_s)

    def _drain(self) -> None:
        """Write pending batches in order until one meets an outage (or all are written)."""
        while self._pending:
            batch = self._pending[0]
            try:
                result = self._write(fixes=batch.fixes, history=batch.history, zone_events=batch.zone_events,
                                     crossings=batch.crossings)
            except OUTAGE_ERRORS as exc:
                self._outage(exc)
                return
            except Exception as exc:  # noqa: BLE001 - refused otherwise: retried once, then given up, never blocking
                if not self._refused(batch, exc):
                    continue
            else:
                self._committed(batch, result)
            self._pending.popleft()
            self.buffered_fixes -= len(batch.fixes)

    def _outage(self, exc: Exception) -> None:
        if self.db_up:
            logger.warning("database unreachable, buffering location batches: %s", exc)
        self.db_up, self.last_error = False, f"{type(exc).__name__}: {exc}"
        self._retry_at = self._clock() + self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self._retry_max_s)
        _connection_reset()

    def _refused(self, batch: _Pending, exc: Exception) -> bool:
        """Count a non-outage failure; True when the batch is given up."""
        batch.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        if batch.failures < 2:
            return False
        logger.error("location batch of %d fixes dropped after %d failures", len(batch.fixes), batch.failures,
                     exc_info=exc)
        self.failed_fixes_total += len(batch.fixes)
        return True

    def _committed(self, batch: _Pending, result: WriteResult) -> None:
        if not self.db_up:
            logger.warning("database back; %d fixes waiting", self.buffered_fixes)
        self.db_up, self._backoff_s = True, self._retry_initial_s
        self.committed_batches_total += 1
        if batch.on_commit is not None:
            try:
                batch.on_commit(result)
            except Exception:  # the write stands; a bad callback must not stop the stream
                logger.exception("on_commit callback failed for a batch of %d fixes", len(batch.fixes))

    def _mark_waiting(self) -> None:
        for batch in self._pending:
            if not batch.waited:
                batch.waited = True
                self.waited_fixes_total += len(batch.fixes)

    def _bound(self) -> None:
        """Drop the oldest batches while more than `max_pending_fixes` wait (the newest batch always stays)."""
        dropped = batches = 0
        while self.buffered_fixes > self.max_pending_fixes and len(self._pending) > 1:
            old = self._pending.popleft()
            self.buffered_fixes -= len(old.fixes)
            dropped, batches = dropped + len(old.fixes), batches + 1
        if dropped:
            self.dropped_fixes_total += dropped
            logger.error("location buffer full (%d fixes max): dropped the oldest %d batches, %d fixes; "
                         "%d dropped so far", self.max_pending_fixes, batches, dropped, self.dropped_fixes_total)


def _connection_reset() -> None:
    """Close Django's connection so the next write opens a fresh one (a dead socket is not reused)."""
    try:
        connection.close()
    except DatabaseError as exc:
        logger.debug("closing a broken connection: %s", exc)
