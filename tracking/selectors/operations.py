"""The operational state of the system: database and Redis reachable, pipeline workers alive.

Pipeline workers publish their counters to Redis (`METRICS_KEY_PREFIX<worker>`, JSON, EX 30, every
2 s; the shape is in docs/realtime.md). A worker whose key was refreshed in the last WORKER_FRESH_S
seconds is alive.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

METRICS_KEY_PREFIX = "hospital_iot:metrics:rtls:"
WORKER_FRESH_S = 10.0
REDIS_TIMEOUT_S = 1.0


def redis_connect() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )


def database_problem() -> str | None:
    """None when a query goes through, else what went wrong."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def redis_problem(client: redis.Redis) -> str | None:
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    return None


def pipeline_workers(*, client: redis.Redis) -> list[dict[str, Any]]:
    """Every worker's last published metrics (by worker name); unreadable entries are logged and skipped."""
    keys = sorted(client.scan_iter(match=f"{METRICS_KEY_PREFIX}*", count=200))
    workers = []
    for key, raw in zip(keys, client.mget(keys) if keys else [], strict=True):
        if raw is None:  # expired between SCAN and MGET
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            logger.warning("metrics key %s holds no JSON; skipped", key)
            continue
        if not isinstance(data, dict):
            logger.warning("metrics key %s holds %s, not an object; skipped", key, type(data).__name__)
            continue
        name = data.get("worker")
        data["worker"] = name if isinstance(name, str) and name else key.decode()[len(METRICS_KEY_PREFIX):]
        workers.append(data)
    return sorted(workers, key=lambda worker: str(worker["worker"]))


def worker_age_s(worker: dict[str, Any], *, now_s: float) -> float | None:
    updated_at = worker.get("updated_at")
    if not isinstance(updated_at, int | float) or isinstance(updated_at, bool):
        return None
    return max(0.0, now_s - float(updated_at))


def health_report(*, now_s: float) -> tuple[dict[str, Any], bool]:
    """What /healthz says, and whether the service can work at all (database and Redis up).

    status: "ok"; "degraded" when no pipeline worker is alive (positions are not being computed);
    "error" when the database or Redis is down.
    """
    db_error = database_problem()
    client = redis_connect()
    redis_error = redis_problem(client)
    workers: list[dict[str, Any]] = []
    if redis_error is None:
        try:
            for worker in pipeline_workers(client=client):
                age_s = worker_age_s(worker, now_s=now_s)
                alive = age_s is not None and age_s <= WORKER_FRESH_S
                workers.append({"worker": worker["worker"], "age_s": None if age_s is None else round(age_s, 1),
                                "alive": alive, "floors": worker.get("floors", [])})
        except redis.RedisError as exc:
            redis_error = str(exc) or type(exc).__name__
    client.close()
    for name, error in (("database", db_error), ("redis", redis_error)):
        if error is not None:
            logger.warning("health: %s down: %s", name, error)
    up = db_error is None and redis_error is None
    alive_count = sum(worker["alive"] for worker in workers)
    report = {
        "status": "error" if not up else ("ok" if alive_count else "degraded"),
        "database": {"ok": db_error is None},  # the reasons go to the log, not to anonymous callers
        "redis": {"ok": redis_error is None},
        "pipeline": {"alive": alive_count, "workers": workers},
    }
    return report, up
