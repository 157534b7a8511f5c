"""Pipeline counters and latency histograms, published to Redis for the Prometheus endpoint.

Every worker SETs "hospital_iot:metrics:rtls:<worker>" (EX 30) every 2 s to one JSON document (the
contract's shape); /metrics sums them. Thread-safe: the pipeline thread counts, a reporter thread
publishes.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import redis

logger = logging.getLogger(__name__)

METRICS_KEY = "hospital_iot:metrics:rtls:{worker}"
METRICS_TTL_S = 30
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Histogram:
    """Cumulative-bucket histogram, Prometheus style: counts[i] = observations <= le[i], then +Inf."""

    def __init__(self, le: tuple[float, ...] = LATENCY_BUCKETS_S) -> None:
        self.le = le
        self._buckets = [0] * (len(le) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self._buckets[bisect.bisect_left(self.le, value)] += 1
        self.sum += value
        self.count += 1

    def observe_many(self, values: Iterable[float]) -> None:
        """Many observations at once (one searchsorted, not a loop)."""
        arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float64)
        if not len(arr):
            return
        counts = np.bincount(np.searchsorted(self.le, arr, side="left"), minlength=len(self._buckets))
        for i, n in enumerate(counts.tolist()):
            self._buckets[i] += n
        self.sum += float(arr.sum())
        self.count += len(arr)

    def as_json(self) -> dict[str, Any]:
        cumulative, total = [], 0
        for n in self._buckets:
            total += n
            cumulative.append(total)
        return {"le": list(self.le), "counts": cumulative, "sum": round(self.sum, 6), "count": self.count}


class PipelineMetrics:
    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.reads_total = 0
        self.fixes_total = 0
        self.windows_total = 0
        self.frames_total = 0
        self.redelivered_total = 0  # reads taken over from another consumer (a dead or departed worker)
        self.event_handler_failures_total = 0
        self.window_latency_s = Histogram()
        self.read_to_fix_latency_s = Histogram()
        self.drops: Counter[str] = Counter()
        self.lag_entries = 0
        self.lag_s = 0.0
        self.buffered_fixes = 0
        self.waited_fixes_total = 0
        self.db_up = True
        self.floors: list[int] = []
        self.lock = threading.Lock()

    def drop(self, reasons: Counter[str]) -> None:
        with self.lock:
            self.drops.update(reasons)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "worker": self.worker, "updated_at": round(time.time(), 3), "reads_total": self.reads_total,
                "fixes_total": self.fixes_total, "windows_total": self.windows_total,
                "frames_total": self.frames_total, "redelivered_total": self.redelivered_total,
                "event_handler_failures_total": self.event_handler_failures_total,
                "window_latency_s": self.window_latency_s.as_json(),
                "read_to_fix_latency_s": self.read_to_fix_latency_s.as_json(),
                "lag_entries": self.lag_entries, "lag_s": round(self.lag_s, 3), "drops": dict(self.drops),
                "buffered_fixes": self.buffered_fixes, "waited_fixes_total": self.waited_fixes_total,
                "db_up": int(self.db_up), "floors": sorted(self.floors),
            }


class MetricsReporter:
    """Publishes a snapshot every every_s seconds (and once more on stop) from a thread of its own;
    `refresh` runs first each time (to read gauges such as the bus lag)."""

    def __init__(self, metrics: PipelineMetrics, client: redis.Redis, *, every_s: float = 2.0,
                 refresh: Callable[[], None] | None = None) -> None:
        self.metrics, self.client, self.every_s, self.refresh = metrics, client, every_s, refresh
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtls-metrics", daemon=True)
        self._failing = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self.publish()

    def publish(self) -> None:
        try:
            if self.refresh is not None:
                self.refresh()
            key = METRICS_KEY.format(worker=self.metrics.worker)
            self.client.set(key, json.dumps(self.metrics.snapshot()), ex=METRICS_TTL_S)
            self._failing = False
        except (redis.RedisError, OSError) as exc:
            if not self._failing:
                logger.warning("could not publish pipeline metrics: %s", exc)
            self._failing = True

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.publish()
