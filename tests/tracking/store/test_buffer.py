"""BufferedLocationWriter through a real outage: batches wait, then arrive once each, in order."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from django.db import OperationalError, connection

from tracking.models import CurrentLocation
from tracking.store.buffer import BufferedLocationWriter
from tracking.store.fixes import Crossings, FixBatch, ZoneEvents
from tracking.store.writer import WriteResult, locations_write

from .batches import T0_S, World, fixes


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


class Outage:
    """Kills the Django connection's server process and points the connection at a port nobody listens on."""

    def __init__(self) -> None:
        self.port = connection.settings_dict["PORT"]

    def start(self) -> None:
        connection.ensure_connection()
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        connection.settings_dict["PORT"] = str(closed_port)

    def end(self) -> None:
        connection.settings_dict["PORT"] = self.port


@pytest.fixture
def outage() -> Iterator[Outage]:
    outage = Outage()
    yield outage
    outage.end()
    connection.close()


def batch(world: World, k: int) -> FixBatch:
    """Window k: tags 0-2, k seconds after T0, each 2 m further than in window k - 1."""
    return fixes(world, [(i, 2.0 * k, float(i), k + 0.1 * i) for i in range(3)], zone=None)


def submit(writer: BufferedLocationWriter, world: World, k: int, committed: list[int]) -> None:
    b = batch(world, k)
    writer.submit(fixes=b, history=np.ones(len(b), bool), zone_events=ZoneEvents.empty(),
                  crossings=Crossings.empty(), on_commit=lambda result: committed.append(k))


def history_in_write_order() -> list[tuple[int, float]]:
    with connection.cursor() as cur:
        cur.execute("SELECT tag_id, extract(epoch FROM seen_at)::float8 FROM tracking_locationhistory ORDER BY id")
        return [(tag, round(t - T0_S, 3)) for tag, t in cur.fetchall()]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("empty_history")
def test_it_writes_every_batch_once_and_in_order_after_an_outage(world: World, outage: Outage) -> None:
    clock, attempts, committed = Clock(), list[float](), list[int]()

    def counted_write(**kwargs: Any) -> WriteResult:
        attempts.append(clock.now_s)
        return locations_write(**kwargs)

    writer = BufferedLocationWriter(write=counted_write, clock=clock, retry_initial_s=1.0, retry_max_s=4.0)
    submit(writer, world, 0, committed)
    assert (committed, writer.db_up, writer.waited_fixes_total) == ([0], True, 0)

    outage.start()
    for k in range(1, 11):  # ten windows, 0.5 s apart, with the database gone: submit never raises
        clock.now_s = k * 0.5
        submit(writer, world, k, committed)
    assert committed == [0]
    assert (writer.db_up, writer.buffered_fixes, writer.waited_fixes_total) == (False, 30, 30)
    assert writer.last_error is not None and "Error" in writer.last_error
    assert attempts[1:] == [0.5, 1.5, 3.5]  # tried after 1 s, 2 s, 4 s of backoff, not on every window
    with pytest.raises(OperationalError):
        connection.ensure_connection()  # really unreachable

    outage.end()
    assert writer.flush(timeout_s=10)
    assert committed == list(range(11))
    assert (writer.db_up, writer.buffered_fixes, writer.waited_fixes_total, writer.dropped_fixes_total) == (
        True, 0, 30, 0)
    assert history_in_write_order() == [(world.tags[i], k + 0.1 * i) for k in range(11) for i in range(3)]
    current = sorted((c.tag_id, c.position.x) for c in CurrentLocation.objects.all())
    assert current == [(tag, 20.0) for tag in world.tags[:3]]  # window 10's positions


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("empty_history")
def test_it_drops_the_oldest_batches_when_the_bound_overflows(world: World, outage: Outage) -> None:
    committed: list[int] = []
    writer = BufferedLocationWriter(max_pending_fixes=7, clock=Clock())
    outage.start()
    for k in range(4):
        submit(writer, world, k, committed)
    assert (writer.buffered_fixes, writer.dropped_fixes_total, writer.waited_fixes_total) == (6, 6, 12)
    outage.end()
    assert writer.flush(timeout_s=10)
    assert committed == [2, 3]
    assert history_in_write_order() == [(world.tags[i], k + 0.1 * i) for k in (2, 3) for i in range(3)]


@pytest.mark.usefixtures("empty_history")
def test_it_gives_up_a_batch_the_database_refuses_and_writes_the_next(world: World) -> None:
    committed: list[int] = []
    writer = BufferedLocationWriter(clock=Clock())
    poison = fixes(world, [(0, 1, 1, 0)])
    out_of_range = Crossings(tag_pk=np.array([world.tags[0]]), door_id=np.array([world.doors["X-1"]]),
                             inward=np.array([True]), at_s=np.array([1e13]))  # year 318,857: no timestamp
    writer.submit(fixes=poison, history=np.ones(1, bool), zone_events=ZoneEvents.empty(), crossings=out_of_range,
                  on_commit=lambda result: committed.append(0))
    submit(writer, world, 1, committed)
    assert committed == [1]
    assert (writer.failed_fixes_total, writer.buffered_fixes, writer.db_up) == (1, 0, True)
    assert writer.last_error is not None and "DataError" in writer.last_error
    assert history_in_write_order() == [(world.tags[i], 1 + 0.1 * i) for i in range(3)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("empty_history")
def test_it_retries_waiting_batches_without_a_new_one(world: World, outage: Outage) -> None:
    clock, committed = Clock(), list[int]()
    writer = BufferedLocationWriter(clock=clock, retry_initial_s=1.0)
    outage.start()
    submit(writer, world, 0, committed)
    outage.end()
    writer.retry()  # backoff not over: the database is not asked
    assert (committed, writer.db_up) == ([], False)
    clock.now_s = 1.0
    writer.retry()
    assert (committed, writer.db_up, writer.buffered_fixes) == ([0], True, 0)
