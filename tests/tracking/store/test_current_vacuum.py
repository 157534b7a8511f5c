"""run_rtls vacuums the current-location table itself, so it does not bloat where autovacuum is off."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection, transaction

from tracking.store.current import current_locations_vacuum
from tracking.store.fixes import Crossings, ZoneEvents
from tracking.store.writer import locations_write

from .batches import World, fixes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_history")]


def table_stats() -> tuple[int, int]:
    """(vacuum count, dead rows) of the current-location table, as the statistics say now."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT vacuum_count, n_dead_tup FROM pg_stat_user_tables "
                    "WHERE relname = 'tracking_currentlocation'")
        vacuums, dead = cur.fetchone()
    return int(vacuums), int(dead)


def test_vacuum_clears_the_dead_rows_that_zone_changes_leave(world: World) -> None:
    zones = ["3N-C", "3N-101"] * 10  # every change of zone rewrites the (floor, zone) index: not heap-only
    for step, zone in enumerate(zones):
        batch = fixes(world, [(i, 1.0 + i, 2.0, step) for i in range(len(world.tags))], zone=zone)
        locations_write(fixes=batch, history=np.zeros(len(batch), bool), zone_events=ZoneEvents.empty(),
                        crossings=Crossings.empty())
    vacuums_before, _ = table_stats()

    current_locations_vacuum()

    vacuums_after, dead_after = table_stats()
    assert vacuums_after == vacuums_before + 1
    assert dead_after == 0


def test_vacuum_inside_a_transaction_is_refused_with_a_clear_error() -> None:
    with transaction.atomic(), pytest.raises(RuntimeError, match="outside a transaction"):
        current_locations_vacuum()
