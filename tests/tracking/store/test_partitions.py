"""Daily history partitions: created ahead, dropped after the retention, idempotent, made on demand."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection

from tracking.store.partitions import (
    history_partition_name,
    history_partitions,
    history_partitions_ensure,
    history_partitions_maintain,
)

NOW = datetime(2026, 11, 22, 3, 40, tzinfo=UTC)
P = "tracking_locationhistory_p"


def unix_s(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


@pytest.mark.usefixtures("empty_history")
def test_it_creates_today_and_the_days_ahead_once() -> None:
    created, dropped = history_partitions_maintain(now=NOW, days_ahead=2, retention_days=30)
    assert (created, dropped) == ([f"{P}20261122", f"{P}20261123", f"{P}20261124"], [])
    assert history_partitions_maintain(now=NOW, days_ahead=2, retention_days=30) == ([], [])
    assert history_partitions() == created


@pytest.mark.usefixtures("empty_history")
def test_it_drops_only_days_wholly_older_than_the_retention() -> None:
    history_partitions_ensure(seen_at_s=np.array([unix_s(2026, 11, d, 12) for d in (10, 11, 12, 13)]))
    # retention 10 days before 2026-11-22T03:40 = 2026-11-12T03:40: the 10th and 11th ended before it, the 12th not
    created, dropped = history_partitions_maintain(now=NOW, days_ahead=0, retention_days=10)
    assert created == [f"{P}20261122"]
    assert dropped == [f"{P}20261110", f"{P}20261111"]
    assert history_partitions() == [f"{P}20261112", f"{P}20261113", f"{P}20261122"]


def test_it_uses_the_retention_setting_by_default(empty_history: None, settings: object) -> None:
    settings.LOCATION_HISTORY_RETENTION_DAYS = 1  # type: ignore[attr-defined]
    history_partitions_ensure(seen_at_s=np.array([unix_s(2026, 11, 20, 23, 59)]))
    assert history_partitions_maintain(now=NOW, days_ahead=0)[1] == [f"{P}20261120"]


@pytest.mark.usefixtures("empty_history")
def test_it_bounds_partitions_by_utc_day() -> None:
    edge = [unix_s(2026, 11, 21, 23, 59, 59) + 0.999999, unix_s(2026, 11, 22)]
    assert history_partitions_ensure(seen_at_s=np.array(edge)) == [f"{P}20261121", f"{P}20261122"]
    with connection.cursor() as cur:
        for seen_at_s in edge:
            cur.execute("INSERT INTO tracking_locationhistory (tag_id, floor_id, position, accuracy_m, method, seen_at)"
                        " VALUES (1, 1, 'SRID=990001;POINT(0 0)', 1, 0, to_timestamp(%s))", [seen_at_s])
        cur.execute("SELECT tableoid::regclass::text FROM tracking_locationhistory ORDER BY seen_at")
        assert [row[0] for row in cur.fetchall()] == [f"{P}20261121", f"{P}20261122"]


@pytest.mark.usefixtures("empty_history")
def test_it_ensures_nothing_for_days_that_exist() -> None:
    history_partitions_maintain(now=NOW, days_ahead=1, retention_days=30)
    assert history_partitions_ensure(seen_at_s=np.array([NOW.timestamp(), NOW.timestamp() + 86_400])) == []
    assert history_partitions_ensure(seen_at_s=np.array([])) == []


@pytest.mark.parametrize(("now", "kwargs"), [
    (datetime(2026, 11, 22), {}),  # noqa: DTZ001 - a naive time is the input being refused
    (NOW, {"retention_days": 0}),
    (NOW, {"days_ahead": -1}),
])
def test_it_refuses_bad_arguments(db: None, now: datetime, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        history_partitions_maintain(now=now, **kwargs)


def test_it_names_partitions_by_day() -> None:
    assert history_partition_name(NOW.date()) == f"{P}20261122"
