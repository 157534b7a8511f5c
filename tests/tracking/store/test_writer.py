"""locations_write: current location (newest wins), history (COPY, SRID, exactly once), stays, crossings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from django.db import connection

from tracking.models import CurrentLocation, PortalCrossing, Tag, ZonePresence
from tracking.store.fixes import Crossings, FixBatch, ZoneEvents
from tracking.store.partitions import history_partitions
from tracking.store.writer import WriteResult, locations_write

from .batches import T0_S, World, crossings, fixes, zone_events

pytestmark = pytest.mark.usefixtures("empty_history")


def write(batch: FixBatch | None = None, *, history: Any = None, events: ZoneEvents | None = None,
          crossed: Crossings | None = None) -> WriteResult:
    batch = batch if batch is not None else FixBatch.empty()
    return locations_write(fixes=batch, history=np.ones(len(batch), bool) if history is None else np.asarray(history),
                           zone_events=events or ZoneEvents.empty(), crossings=crossed or Crossings.empty())


def history_rows() -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute("SELECT tag_id, floor_id, zone_id, ST_X(position), ST_Y(position), ST_SRID(position), accuracy_m,"
                    " method, extract(epoch FROM seen_at)::float8 FROM tracking_locationhistory ORDER BY id")
        return list(cur.fetchall())


def at(offset_s: float) -> datetime:
    return datetime.fromtimestamp(T0_S + offset_s, tz=UTC)


def test_it_upserts_current_locations_and_never_goes_back_in_time(world: World) -> None:
    first = write(fixes(world, [(0, 1.0, 2.0, 10), (1, 3.0, 4.0, 10)]))
    assert (first.current_upserted, first.history_written) == (2, 2)
    # tag 0: an older fix, then a newer; tag 1 twice in one batch: the latest (given first) wins
    assert write(fixes(world, [(0, 9.0, 9.0, 5)])).current_upserted == 0
    result = write(fixes(world, [(1, 7.0, 8.0, 12), (0, 5.0, 6.0, 11), (1, 6.0, 6.0, 11)]))
    assert result.current_upserted == 2
    located = {c.tag_id: c for c in CurrentLocation.objects.all()}
    tag0, tag1 = world.tags[0], world.tags[1]
    assert (located[tag0].position.x, located[tag0].position.y, located[tag0].seen_at) == (5.0, 6.0, at(11))
    assert (located[tag1].position.x, located[tag1].position.y, located[tag1].seen_at) == (7.0, 8.0, at(12))
    assert located[tag1].position.srid == 990001
    assert located[tag1].zone_id == world.zones["3N-C"]


def test_it_copies_history_with_exact_coordinates_times_and_srid(world: World) -> None:
    batch = fixes(world, [(0, 1.25, 19.5, 0.123456), (1, 29.999, 0.001, 1.5)], zone=None,
                  method=np.array([2, 4]), accuracy_m=np.array([0.75, 3.5]))
    batch = FixBatch(**{**batch.__dict__, "zone_id": np.array([world.zones["3N-101"], -1])})
    assert write(batch).history_written == 2
    (a, b) = history_rows()
    assert a[:8] == (world.tags[0], world.floor.pk, world.zones["3N-101"], 1.25, 19.5, 990001, 0.75, 2)
    assert b[:8] == (world.tags[1], world.floor.pk, None, 29.999, 0.001, 990001, 3.5, 4)
    assert [a[8] - T0_S, b[8] - T0_S] == pytest.approx([0.123456, 1.5], abs=1e-6)


def test_it_writes_only_the_fixes_the_mask_selects(world: World) -> None:
    result = write(fixes(world, [(0, 1, 1, 0), (1, 2, 2, 0), (2, 3, 3, 0)]), history=[False, True, False])
    assert (result.current_upserted, result.history_written) == (3, 1)
    assert [row[0] for row in history_rows()] == [world.tags[1]]


def test_it_changes_nothing_when_a_batch_is_written_again(world: World) -> None:
    batch = fixes(world, [(0, 1, 1, 0), (1, 2, 2, 0), (0, 1.5, 1, 0.1)])
    events = zone_events(world, [(0, "3N-101", True, 0), (0, "3N-101", False, 5), (0, "3N-C", True, 5),
                                 (1, "3N-C", True, 0)])
    crossed = crossings(world, [(0, "D-101", False, 5)])
    first = write(batch, events=events, crossed=crossed)
    assert first == WriteResult(current_upserted=2, history_written=3, stays_opened=3, stays_closed=1,
                                crossings_written=1)
    before = (history_rows(), list(ZonePresence.objects.values()), list(PortalCrossing.objects.values()),
              list(CurrentLocation.objects.values("tag_id", "seen_at", "position")))
    assert write(batch, events=events, crossed=crossed) == WriteResult(0, 0, 0, 0, 0)
    after = (history_rows(), list(ZonePresence.objects.values()), list(PortalCrossing.objects.values()),
             list(CurrentLocation.objects.values("tag_id", "seen_at", "position")))
    assert after == before


def test_it_keeps_the_new_rows_of_a_batch_partly_written_before(world: World) -> None:
    write(fixes(world, [(0, 1, 1, 0)]))
    assert write(fixes(world, [(0, 1, 1, 0), (1, 2, 2, 0), (0, 5, 5, 1)])).history_written == 2
    assert len(history_rows()) == 3


def test_it_creates_the_partition_a_batch_needs(world: World) -> None:
    assert history_partitions() == []
    write(fixes(world, [(0, 1, 1, 0), (1, 1, 1, 86_400 * 3)]))
    assert history_partitions() == ["tracking_locationhistory_p20261118", "tracking_locationhistory_p20261121"]
    assert len(history_rows()) == 2


def test_it_opens_and_closes_stays_in_time_order(world: World) -> None:
    tag = world.tags[0]
    write(events=zone_events(world, [(0, "3N-C", True, 0)]))
    # one window: leaves the corridor, enters room 101, leaves it, re-enters the corridor (given out of order)
    result = write(events=zone_events(world, [(0, "3N-C", True, 9), (0, "3N-101", False, 7), (0, "3N-C", False, 2),
                                              (0, "3N-101", True, 2)]))
    assert (result.stays_opened, result.stays_closed) == (2, 2)
    stays = [(z, e, x) for z, e, x in ZonePresence.objects.filter(tag_id=tag).order_by("entered_at", "zone_id")
             .values_list("zone_id", "entered_at", "exited_at")]
    corridor, room = world.zones["3N-C"], world.zones["3N-101"]
    assert stays == [(corridor, at(0), at(2)), (room, at(2), at(7)), (corridor, at(9), None)]


@pytest.mark.parametrize(("events", "opened", "closed"), [
    ([(0, "3N-C", True, 0), (0, "3N-C", True, 3)], 1, 0),  # already there: no second open stay
    ([(0, "3N-C", False, 3)], 0, 0),  # exit with no open stay
    ([(0, "3N-C", True, 5), (0, "3N-C", False, 5)], 1, 1),  # zero-length stay
])
def test_it_handles_odd_event_sequences(world: World, events: list[tuple[int, str, bool, float]], opened: int,
                                        closed: int) -> None:
    result = write(events=zone_events(world, events))
    assert (result.stays_opened, result.stays_closed) == (opened, closed)


def test_it_never_closes_a_stay_before_it_began(world: World) -> None:
    write(events=zone_events(world, [(0, "3N-C", True, 10)]))
    assert write(events=zone_events(world, [(0, "3N-C", False, 4)])).stays_closed == 0
    assert ZonePresence.objects.get().exited_at is None


def test_it_records_crossings_with_their_direction_once(world: World) -> None:
    crossed = crossings(world, [(0, "D-101", True, 1), (0, "D-101", False, 4), (1, "X-1", True, 4)])
    assert write(crossed=crossed).crossings_written == 3
    assert write(crossed=crossings(world, [(0, "D-101", True, 1)])).crossings_written == 0
    got = set(PortalCrossing.objects.values_list("tag_id", "door_id", "direction", "crossed_at"))
    door, exit_door = world.doors["D-101"], world.doors["X-1"]
    assert got == {(world.tags[0], door, "in", at(1)), (world.tags[0], door, "out", at(4)),
                   (world.tags[1], exit_door, "in", at(4))}


def test_it_drops_and_counts_fixes_of_a_deleted_tag_and_writes_the_rest(world: World) -> None:
    gone = world.tags[2]
    Tag.objects.filter(pk=gone).delete()
    result = write(fixes(world, [(0, 1, 1, 0), (2, 2, 2, 0)], zone=None),
                   events=zone_events(world, [(2, "3N-C", True, 0)]), crossed=crossings(world, [(2, "X-1", True, 0)]))
    counts = (result.current_upserted, result.fixes_dropped, result.stays_opened, result.crossings_written)
    assert counts == (1, 1, 0, 0)
    assert list(CurrentLocation.objects.values_list("tag_id", flat=True)) == [world.tags[0]]


def test_it_stores_an_unknown_zone_as_no_zone(world: World) -> None:
    write(fixes(world, [(0, 1, 1, 0)], zone_id=np.array([987_654])))
    assert CurrentLocation.objects.get().zone_id is None


def test_it_refuses_a_history_mask_of_the_wrong_shape(world: World) -> None:
    with pytest.raises(ValueError, match="history"):
        write(fixes(world, [(0, 1, 1, 0)]), history=[True, False])


@pytest.mark.django_db(transaction=True)
def test_it_recreates_a_partition_dropped_behind_its_back(world: World) -> None:
    write(fixes(world, [(0, 1, 1, 0)]))  # committed: this process now knows the day's partition exists
    with connection.cursor() as cur:
        cur.execute("DROP TABLE tracking_locationhistory_p20261118")
    assert write(fixes(world, [(0, 5, 5, 1)])).history_written == 1
    assert history_partitions() == ["tracking_locationhistory_p20261118"]
