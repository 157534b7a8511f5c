"""Writing behind: windows are written in their order from a thread of their own; flush waits for them."""

from __future__ import annotations

import threading
import time

import numpy as np

from tracking.pipeline.commit import ThreadedCommitter, WindowWrite
from tracking.store.fixes import Crossings, FixBatch, ZoneEvents


class SlowStore:
    """Takes 20 ms per write, records the order and the thread."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.threads: set[str] = set()
        self.buffered_fixes = self.waited_fixes_total = 0
        self.db_up = True

    def submit(self, write: WindowWrite) -> None:
        time.sleep(0.02)
        self.threads.add(threading.current_thread().name)
        write.after()

    def retry(self) -> None:
        pass

    def flush(self, timeout_s: float) -> bool:
        return True


def write(n: int, done: list[int]) -> WindowWrite:
    return WindowWrite(FixBatch.empty(), np.zeros(0, dtype=bool), ZoneEvents.empty(), Crossings.empty(),
                       after=lambda: done.append(n))


def test_it_writes_windows_in_order_from_its_own_thread_and_flush_waits_for_them() -> None:
    store, done = SlowStore(), list[int]()
    committer = ThreadedCommitter(store, max_queued=2)
    started = time.monotonic()
    for n in range(6):
        committer.submit(write(n, done))
    queued_s = time.monotonic() - started
    assert committer.flush(5.0)
    assert done == list(range(6)) and store.threads == {"rtls-writer"}
    assert queued_s >= 0.02 * (6 - 2 - 1)  # at most 2 wait: submit held the caller back (back-pressure)
    committer.close()
