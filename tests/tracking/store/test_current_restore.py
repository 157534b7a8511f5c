"""current_locations_restore: after a crash empties the unlogged current locations, the history refills them."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.db import connection

from tracking.models import CurrentLocation
from tracking.store.current import current_locations_restore
from tracking.store.fixes import Crossings, ZoneEvents
from tracking.store.writer import locations_write

from .batches import T0_S, World, fixes

pytestmark = pytest.mark.usefixtures("empty_history")
LONG_AGO = timedelta(days=100 * 365)  # the batches are dated T0_S: all of the history counts


def test_the_current_location_table_writes_no_wal() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT relpersistence FROM pg_class WHERE relname = 'tracking_currentlocation'")
        assert cur.fetchone() == ("u",)  # unlogged


def test_it_gives_each_tag_its_latest_history_row_and_keeps_newer_current_rows(world: World) -> None:
    batch = fixes(world, [(0, 1.0, 2.0, 0), (0, 3.0, 4.0, 5), (1, 7.0, 8.0, 1), (2, 9.0, 9.0, 2)])
    locations_write(fixes=batch, history=np.ones(len(batch), bool), zone_events=ZoneEvents.empty(),
                    crossings=Crossings.empty())
    moved_on = CurrentLocation.objects.get(tag_id=world.tags[2])  # tag 2 still has its row (a newer fix, say)
    CurrentLocation.objects.exclude(tag_id=world.tags[2]).delete()  # what a crash leaves: nothing of tags 0, 1

    assert current_locations_restore(within=LONG_AGO) == 2
    located = {c.tag_id: c for c in CurrentLocation.objects.all()}
    assert (located[world.tags[0]].position.x, located[world.tags[0]].position.y) == (3.0, 4.0)  # its latest
    assert located[world.tags[0]].seen_at.timestamp() == pytest.approx(T0_S + 5)
    assert located[world.tags[1]].zone_id == world.zones["3N-C"]
    assert located[world.tags[2]].updated_at == moved_on.updated_at  # untouched
    assert current_locations_restore(within=LONG_AGO) == 0  # nothing missing any more


def test_it_leaves_out_history_older_than_asked(world: World) -> None:
    batch = fixes(world, [(0, 1.0, 2.0, 0)])
    locations_write(fixes=batch, history=np.ones(1, bool), zone_events=ZoneEvents.empty(), crossings=Crossings.empty())
    CurrentLocation.objects.all().delete()
    assert current_locations_restore(within=timedelta(hours=1)) == 0  # T0_S is weeks ago
