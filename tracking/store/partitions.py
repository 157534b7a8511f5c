"""Daily partitions of the location history (`tracking_locationhistory`, range-partitioned by `seen_at`).

One partition per UTC day, named `tracking_locationhistory_pYYYYMMDD`, holding [day 00:00Z, next day 00:00Z).
`history_partitions_maintain` runs on a timer (the pipeline calls it; it is idempotent): it creates today's and
the next `days_ahead` days' partitions and drops those whose whole day ended more than the retention ago.
`history_partitions_ensure` is the writer's safety net: a batch holding a day with no partition (a clock
jump, a replay of old fixes, a maintenance timer that did not run) gets that partition created inside the
batch's own transaction, so no fix is refused for want of one.

Creators take a transaction-level advisory lock, so two workers creating the same day do not collide.
The days known to exist are remembered per process (after commit) to spare the catalog lookup per batch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

PARENT = "tracking_locationhistory"
DAY_S = 86_400
_NAME = re.compile(rf"^{PARENT}_p(\d{{8}})$")
_LOCK_KEY = 0x6869_6F74_6869_7374  # b"hiothist" as a bigint: serializes partition DDL between workers
_EPOCH = date(1970, 1, 1)
_known_days: set[date] = set()  # days whose partition exists (learned after commit)


def history_partition_name(day: date) -> str:
    return f"{PARENT}_p{day:%Y%m%d}"


def history_partitions_maintain(
    *, now: datetime, days_ahead: int = 2, retention_days: int | None = None
) -> tuple[list[str], list[str]]:
    """Create the partitions of today .. today + days_ahead and drop the expired ones: (created, dropped).

    A partition is dropped once its whole day ended `retention_days` (default: the setting
    LOCATION_HISTORY_RETENTION_DAYS) or more before `now`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    retention = settings.LOCATION_HISTORY_RETENTION_DAYS if retention_days is None else retention_days
    if retention < 1 or days_ahead < 0:
        raise ValueError(f"retention_days {retention} must be >= 1 and days_ahead {days_ahead} >= 0")
    today = now.astimezone(UTC).date()
    cutoff = now - timedelta(days=retention)
    with transaction.atomic():
        _lock()
        created = _create([today + timedelta(days=d) for d in range(days_ahead + 1)])
        expired = sorted(d for d in _existing_days() if _day_start(d) + timedelta(days=1) <= cutoff)
        dropped = [history_partition_name(d) for d in expired]
        with connection.cursor() as cur:
            for name in dropped:
                cur.execute(f'DROP TABLE IF EXISTS "{name}"')
        _remember_on_commit(created=[today + timedelta(days=d) for d in range(days_ahead + 1)], dropped=expired)
    if created or dropped:
        logger.info("history partitions: created %s, dropped %s (retention %d days)", created, dropped, retention)
    return created, dropped


def history_partitions_ensure(*, seen_at_s: npt.NDArray[np.float64]) -> list[str]:
    """Make sure every UTC day in `seen_at_s` (unix s) has its partition; returns the names created.

    Runs in the caller's transaction (the creation commits or rolls back with the batch).
    """
    if not len(seen_at_s):
        return []
    day_numbers = np.unique(np.floor_divide(seen_at_s, DAY_S).astype(np.int64))
    days = [_EPOCH + timedelta(days=int(n)) for n in day_numbers]
    missing = [d for d in days if d not in _known_days]
    if not missing:
        return []
    with transaction.atomic():
        _lock()
        created = _create(missing)
        _remember_on_commit(created=missing, dropped=[])
    if created:
        logger.warning("history partitions created for a batch that needed them: %s", created)
    return created


def history_partitions_forget() -> None:
    """Forget which partitions this process believes exist (after someone else dropped some)."""
    _known_days.clear()


def history_partitions() -> list[str]:
    """Names of the existing daily partitions, oldest first."""
    return [history_partition_name(d) for d in sorted(_existing_days())]


def _lock() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _create(days: Iterable[date]) -> list[str]:
    """Create the partitions of `days` that do not exist yet (caller holds the lock); returns their names."""
    existing = _existing_days()
    created = []
    with connection.cursor() as cur:
        for day in sorted(set(days) - existing):
            name = history_partition_name(day)
            start, end = _day_start(day), _day_start(day) + timedelta(days=1)
            cur.execute(
                f'CREATE TABLE "{name}" PARTITION OF {PARENT} '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
            created.append(name)
    return created


def _existing_days() -> set[date]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [PARENT],
        )
        names = [row[0] for row in cur.fetchall()]
    days = set()
    for name in names:
        if match := _NAME.match(name):
            days.add(date.fromisoformat(match.group(1)))
        else:
            logger.warning("history partition %s does not follow the daily naming; left alone", name)
    return days


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _remember_on_commit(*, created: list[date], dropped: list[date]) -> None:
    def remember() -> None:
        _known_days.update(created)
        _known_days.difference_update(dropped)

    transaction.on_commit(remember)
