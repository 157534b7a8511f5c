"""The pipeline's side of the store: hand a window's write over, run its `after` once it committed.

`after` acknowledges the window's reads on the bus, sends its frames and publishes its events: all of
that waits for the commit, so nothing is acknowledged or announced that is not in the database. While the
database is away the writes wait in tracking.store.BufferedLocationWriter (bounded, written in order when
it returns); `retry()` lets them go out even when no new window comes along.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from django.db import connections

from tracking.localization._arrays import Bool
from tracking.store.buffer import BufferedLocationWriter
from tracking.store.fixes import Crossings, FixBatch, ZoneEvents
from tracking.store.writer import WriteResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowWrite:
    fixes: FixBatch
    history: Bool  # (n,) which fixes also go to the history
    zone_events: ZoneEvents
    crossings: Crossings
    after: Callable[[], None]

    def __bool__(self) -> bool:
        return bool(len(self.fixes) or len(self.zone_events) or len(self.crossings))


class Committer(Protocol):
    @property
    def buffered_fixes(self) -> int: ...

    @property
    def waited_fixes_total(self) -> int: ...

    @property
    def db_up(self) -> bool: ...

    def submit(self, write: WindowWrite) -> None: ...

    def retry(self) -> None: ...

    def flush(self, timeout_s: float) -> bool: ...


class StoreCommitter:
    """Committer over a BufferedLocationWriter. A window with nothing to store runs `after` at once, unless
    earlier windows are still waiting (their frames and events go first)."""

    def __init__(self, writer: BufferedLocationWriter | None = None) -> None:
        self.writer = writer or BufferedLocationWriter()
        self.in_flight = 0  # writes submitted and not yet committed

    @property
    def buffered_fixes(self) -> int:
        return self.writer.buffered_fixes

    @property
    def waited_fixes_total(self) -> int:
        return self.writer.waited_fixes_total

    @property
    def db_up(self) -> bool:
        return self.writer.db_up

    def submit(self, write: WindowWrite) -> None:
        if not write and self.in_flight == 0:  # nothing to store, nothing before it waiting: at once
            write.after()
            return
        self.in_flight += 1

        def committed(_result: WriteResult) -> None:
            self.in_flight -= 1
            write.after()

        self.writer.submit(fixes=write.fixes, history=write.history, zone_events=write.zone_events,
                           crossings=write.crossings, on_commit=committed)

    def retry(self) -> None:
        """Give waiting writes a chance (the writer's backoff decides whether it tries the database now)."""
        if self.in_flight > 0:
            self.writer.submit(fixes=FixBatch.empty(), history=np.zeros(0, dtype=bool),
                               zone_events=ZoneEvents.empty(), crossings=Crossings.empty())

    def flush(self, timeout_s: float) -> bool:
        return self.writer.flush(timeout_s=timeout_s)


class ThreadedCommitter:
    """Writes from a thread of its own, so the next window is located while this one is written (a write
    mostly waits for PostgreSQL). Order is kept: one thread, first in first out. At most max_queued windows
    wait; then submit() waits too, which holds the worker back and shows as bus lag, not as lost reads.
    `after` callbacks (acks, frames, events) run in the writing thread."""

    def __init__(self, inner: Committer, *, max_queued: int = 4) -> None:
        self.inner = inner
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=max_queued)
        self._thread = threading.Thread(target=self._run, name="rtls-writer", daemon=True)
        self._thread.start()

    @property
    def buffered_fixes(self) -> int:
        return self.inner.buffered_fixes

    @property
    def waited_fixes_total(self) -> int:
        return self.inner.waited_fixes_total

    @property
    def db_up(self) -> bool:
        return self.inner.db_up

    def submit(self, write: WindowWrite) -> None:
        self._jobs.put(lambda: self.inner.submit(write))

    def retry(self) -> None:
        with contextlib.suppress(queue.Full):  # the writer is busy anyway: it will drain the buffer
            self._jobs.put_nowait(self.inner.retry)

    def flush(self, timeout_s: float) -> bool:
        """Write everything queued and buffered (within timeout_s)."""
        deadline = time.monotonic() + timeout_s
        done = threading.Event()
        result: list[bool] = []

        def flush() -> None:
            result.append(self.inner.flush(max(deadline - time.monotonic(), 0.0)))
            done.set()

        try:
            self._jobs.put(flush, timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Full:
            return False
        return done.wait(max(deadline - time.monotonic(), 0.0) + 1.0) and all(result)

    def close(self, timeout_s: float = 5.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    job()
                except Exception:  # a failing write job is logged; the next window is written all the same
                    logger.exception("a window's write failed")
        finally:
            connections.close_all()
