"""The /metrics page's content: reader health rows and the pipeline workers' Redis metrics as families.

Metric names and labels are listed in docs/realtime.md ("Operational metrics").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis
from django.db import DatabaseError

from readers.models import Reader, ReaderHealth
from tracking.metrics_text import Family, Kind
from tracking.selectors.operations import (
    WORKER_FRESH_S,
    database_problem,
    pipeline_workers,
    redis_connect,
    worker_age_s,
)

logger = logging.getLogger(__name__)

P = "hospital_iot_"


def _number(value: Any) -> float | None:
    """A JSON number as float; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _by_reason(drops: Any) -> list[tuple[str, Any]]:
    return sorted((str(reason), count) for reason, count in drops.items()) if isinstance(drops, dict) else []


class _Families:
    """Families by name, created on first use, rendered in creation order."""

    def __init__(self) -> None:
        self._by_name: dict[str, Family] = {}

    def __call__(self, name: str, kind: Kind, help_: str) -> Family:
        if name not in self._by_name:
            self._by_name[name] = Family(P + name, kind, help_)
        return self._by_name[name]

    def all(self) -> list[Family]:
        return list(self._by_name.values())


def reader_families(family: _Families) -> None:
    """One sample set per reader (readers that never reported count as state unknown)."""
    enabled = family("reader_enabled", "gauge", "1 if the reader is enabled in the registry.")
    state = family("reader_state", "gauge", "1 for the reader's current state (unknown, online, offline).")
    rate = family("reader_reads_per_second", "gauge", "Tag reads per second from the reader, recent average.")
    total = family("reader_reads_total", "counter", "Tag reads received from the reader.")
    drops = family("reader_drops_total", "counter", "Payloads from the reader dropped, by reason.")
    last = family("reader_last_read_timestamp_seconds", "gauge", "Unix time of the reader's last read.")
    rows = Reader.objects.order_by("code").values(
        "code", "kind", "floor_id", "enabled", "health__state", "health__reads_per_s", "health__reads_total",
        "health__drops", "health__last_read_at",
    )
    for row in rows:
        labels = {"reader": row["code"], "kind": row["kind"], "floor": str(row["floor_id"])}
        enabled.add(int(row["enabled"]), **labels)
        current = row["health__state"] or ReaderHealth.State.UNKNOWN
        for choice in ReaderHealth.State.values:
            state.add(int(choice == current), **labels, state=choice)
        rate.add(row["health__reads_per_s"] or 0.0, **labels)
        total.add(row["health__reads_total"] or 0, **labels)
        for reason, count in _by_reason(row["health__drops"]):
            if (n := _number(count)) is not None:
                drops.add(n, **labels, reason=reason)
        if row["health__last_read_at"] is not None:
            last.add(row["health__last_read_at"].timestamp(), **labels)


_WORKER_COUNTERS = (
    ("reads_total", "Tag reads the worker consumed."),
    ("fixes_total", "Positions (fixes) the worker computed."),
    ("windows_total", "Pipeline windows the worker processed."),
    ("frames_total", "Position frames the worker sent to floor groups."),
    ("waited_fixes_total", "Fixes that waited in the buffer for the database."),
)
_WORKER_GAUGES = (
    ("lag_entries", "Stream entries not yet consumed by the worker."),
    ("lag_s", "Age of the oldest unconsumed stream entry, seconds."),
    ("buffered_fixes", "Fixes held in memory while the database is unavailable."),
    ("db_up", "1 if the worker's last database write succeeded."),
)
_WORKER_HISTOGRAMS = (
    ("window_latency_s", "window_latency_seconds", "Time to process one pipeline window, seconds."),
    ("read_to_fix_latency_s", "read_to_fix_latency_seconds", "From a read's seen_at to its fix, seconds."),
)


def _gauge_name(key: str) -> str:
    return "rtls_lag_seconds" if key == "lag_s" else f"rtls_{key}"


def pipeline_families(family: _Families, workers: list[dict[str, Any]], *, now_s: float) -> None:
    up = family("rtls_worker_up", "gauge", f"1 if the worker published metrics in the last {WORKER_FRESH_S:g} s.")
    updated = family("rtls_worker_last_update_timestamp_seconds", "gauge", "Unix time of the worker's last metrics.")
    for worker in workers:
        name = str(worker["worker"])
        age_s = worker_age_s(worker, now_s=now_s)
        up.add(int(age_s is not None and age_s <= WORKER_FRESH_S), worker=name)
        if (at := _number(worker.get("updated_at"))) is not None:
            updated.add(at, worker=name)
        for key, help_ in _WORKER_COUNTERS:
            if (value := _number(worker.get(key))) is not None:
                family(f"rtls_{key}", "counter", help_).add(value, worker=name)
        for key, help_ in _WORKER_GAUGES:
            if (value := _number(worker.get(key))) is not None:
                family(_gauge_name(key), "gauge", help_).add(value, worker=name)
        drops = family("rtls_drops_total", "counter", "Reads or fixes the worker dropped, by reason.")
        for reason, count in _by_reason(worker.get("drops")):
            if (n := _number(count)) is not None:
                drops.add(n, worker=name, reason=reason)
        for key, metric, help_ in _WORKER_HISTOGRAMS:
            _histogram(family(f"rtls_{metric}", "histogram", help_), worker.get(key), worker=name)


def _histogram(target: Family, data: Any, *, worker: str) -> None:
    if not isinstance(data, dict):
        return
    try:
        target.add_histogram(le=data["le"], counts=data["counts"], sum_=float(data["sum"]), count=int(data["count"]),
                             worker=worker)
    except (KeyError, TypeError, ValueError) as exc:
        logger.warning("worker %s: histogram %s unusable (%s); left out", worker, target.name, exc)


def _guarded(name: str, collect: Callable[[], None]) -> bool:
    try:
        collect()
    except (DatabaseError, redis.RedisError) as exc:
        logger.warning("metrics: %s unavailable: %s", name, exc)
        return False
    return True


def metrics_families(*, now_s: float) -> list[Family]:
    """Everything /metrics shows; a source that is down shows as *_up 0 and its metrics are left out."""
    family = _Families()
    database_up = family("database_up", "gauge", "1 if PostgreSQL answers.")
    redis_up = family("redis_up", "gauge", "1 if Redis answers.")
    db_ok = database_problem() is None and _guarded("readers", lambda: reader_families(family))
    client = redis_connect()
    redis_ok = _guarded("pipeline", lambda: pipeline_families(family, pipeline_workers(client=client), now_s=now_s))
    client.close()
    database_up.add(int(db_ok))
    redis_up.add(int(redis_ok))
    return family.all()
