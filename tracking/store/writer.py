"""One window of the pipeline into PostGIS, in one transaction: `locations_write`.

    current location   one INSERT .. SELECT FROM unnest(arrays) ON CONFLICT (tag_id) DO UPDATE for the batch,
                       only where the fix is newer than the stored one (an older fix never overwrites a newer);
                       a tag with several fixes in the batch contributes its latest.
    history            the rows the gate chose, as one binary COPY (records and EWKB points built with numpy)
                       straight into the partitioned table, in a savepoint; a day with no partition gets one
                       first. If a row is already there (a batch written again: the unique (tag_id, seen_at)
                       index of migration 0003 says so), the savepoint is rolled back and the batch goes
                       COPY -> session temp table -> INSERT .. ON CONFLICT DO NOTHING. Measured with
                       bench/bench_storage.py: the direct COPY is about twice as fast as always staging.
    zone presence      entered -> open a stay (unless one is open, or a stay of that tag and zone already
                       covers that time); exited -> close the open stay, if it began at or before the exit.
    portal crossings   INSERT .. ON CONFLICT DO NOTHING (unique tag, door, crossed_at).

Writing the same batch twice changes nothing, so a batch whose commit acknowledgement was lost can simply be
written again (exactly once in effect).

Rows that name what is gone (a tag deleted while its fixes were in flight):
  * current location: fixes whose tag or floor no longer exists are left out and counted (`fixes_dropped`);
    an unknown zone is stored as "no zone". The rest of the batch is written.
  * history has no foreign keys (it is partitioned and kept for the retention period): such rows are written
    like the others and expire with their partition.
  * stays and crossings of a missing tag, zone or door are left out (they would break a foreign key).

Parameters travel in binary through a server-side-binding psycopg cursor on Django's connection, inside
Django's transaction and error translation (a lost server raises django.db.OperationalError).
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import psycopg.errors
from django.db import connection, transaction

from floorplans.geometry import FLOOR_SRID

from .fixes import Bool, Crossings, FixBatch, ZoneEvents
from .partitions import PARENT, history_partitions_ensure, history_partitions_forget

logger = logging.getLogger(__name__)

STAGING = "tracking_history_staging"
_PG_EPOCH_S = 946_684_800.0  # 2000-01-01T00:00Z, PostgreSQL's timestamp zero, in unix seconds
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no header extension
_COPY_TRAILER = b"\xff\xff"
_EWKB_POINT_SRID = 0x2000_0001  # EWKB type word: point, with an SRID
_staged_connections: weakref.WeakSet[Any] = weakref.WeakSet()  # psycopg connections holding STAGING


@dataclass(frozen=True)
class WriteResult:
    current_upserted: int  # current-location rows inserted or moved on
    history_written: int  # history rows added (0 for rows already there)
    stays_opened: int
    stays_closed: int
    crossings_written: int
    fixes_dropped: int = 0  # fixes left out of the current location: their tag or floor is gone


def locations_write(*, fixes: FixBatch, history: Bool, zone_events: ZoneEvents, crossings: Crossings) -> WriteResult:
    """Write one window; `history` (n,) bool marks the fixes that also go to the history."""
    history = np.asarray(history)
    if history.dtype != np.bool_ or history.shape != (len(fixes),):
        raise ValueError(f"history: expected a ({len(fixes)},) bool mask, got {history.dtype} {history.shape}")
    try:
        with transaction.atomic(), connection.wrap_database_errors:
            with psycopg.Cursor(connection.connection) as cur:
                # Positions are rewritten every second: waiting for the WAL flush on every window would cap the
                # write rate at the disk's fsync rate. A PostgreSQL crash may lose the last ~0.6 s of windows
                # (3 x wal_writer_delay), never half of one; a client-side outage is covered by the buffer.
                cur.execute("SET LOCAL synchronous_commit = off")
                upserted, dropped = _current_upsert(cur, fixes)
                written = history_insert(cur, fixes.take(history))
                opened, closed = _presence_apply(cur, zone_events)
                crossed = _crossings_insert(cur, crossings)
    except BaseException:
        history_partitions_forget()  # the batch may have failed on a partition someone else dropped
        raise
    return WriteResult(upserted, written, opened, closed, crossed, dropped)


_CURRENT_SQL = f"""
WITH u AS (
    SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[], %b::float8[], %b::float8[], %b::float8[],
                         %b::int2[], %b::bool[], %b::float8[])
        AS u(tag_id, floor_id, zone_id, x_m, y_m, accuracy_m, method, stationary, seen_at_s)
), known AS (
    SELECT u.*, z.id AS known_zone_id FROM u
    JOIN tracking_tag t ON t.id = u.tag_id
    JOIN floorplans_floor f ON f.id = u.floor_id
    LEFT JOIN floorplans_zone z ON z.id = u.zone_id
), written AS (
    INSERT INTO tracking_currentlocation AS c
        (tag_id, floor_id, zone_id, position, accuracy_m, method, stationary, seen_at, updated_at)
    SELECT tag_id, floor_id, known_zone_id, ST_SetSRID(ST_MakePoint(x_m, y_m), {FLOOR_SRID}), accuracy_m, method,
           stationary, to_timestamp(seen_at_s), now()
    FROM known
    ON CONFLICT (tag_id) DO UPDATE SET
        floor_id = excluded.floor_id, zone_id = excluded.zone_id, position = excluded.position,
        accuracy_m = excluded.accuracy_m, method = excluded.method, stationary = excluded.stationary,
        seen_at = excluded.seen_at, updated_at = excluded.updated_at
    WHERE excluded.seen_at > c.seen_at
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM u) - (SELECT count(*) FROM known)
"""


def _current_upsert(cur: psycopg.Cursor[Any], fixes: FixBatch) -> tuple[int, int]:
    """(rows upserted, fixes dropped for a missing tag or floor)."""
    if not len(fixes):
        return 0, 0
    latest = _latest_per_tag(fixes.tag_pk, fixes.seen_at_s)  # in tag order: two workers lock rows alike
    f = fixes.take(latest)
    columns = (f.tag_pk, f.floor_id, f.zone_id, f.x_m, f.y_m, f.accuracy_m, f.method, f.stationary, f.seen_at_s)
    cur.execute(_CURRENT_SQL, [c.tolist() for c in columns])
    upserted, dropped = cur.fetchone() or (0, 0)
    if dropped:
        logger.warning("current location: %d of %d fixes dropped, their tag or floor is gone", dropped, len(f))
    return int(upserted), int(dropped)


def _latest_per_tag(tag_pk: npt.NDArray[np.int64], seen_at_s: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Index of each tag's latest fix (the last one given, on equal times)."""
    order = np.lexsort((np.arange(len(tag_pk)), seen_at_s, tag_pk))
    tags = tag_pk[order]
    return order[np.r_[tags[1:] != tags[:-1], True]]


def history_copy_bytes(fixes: FixBatch) -> bytes:
    """The fixes as a PostgreSQL binary COPY stream of the columns `HISTORY_COLUMNS` (no id).

    Each row is a numpy record: big-endian field lengths and values; the point as little-endian EWKB
    (byte order 1, type point|SRID, SRID, x, y), which geometry's binary input reads as is. Rows without a
    zone have a NULL there, so they use a record type of their own (shorter by the value) and come after
    the others: within a batch, ids do not follow the given order (read trails by seen_at).
    """
    has_zone = fixes.zone_id >= 0
    parts = [_COPY_HEADER]
    for zoned in (True, False):
        rows = np.flatnonzero(has_zone == zoned)
        rec = np.empty(len(rows), dtype=_record_dtype(zoned=zoned))
        rec["n"], rec["tag_len"], rec["floor_len"], rec["pos_len"] = 7, 8, 8, 25
        rec["tag"], rec["floor"] = fixes.tag_pk[rows], fixes.floor_id[rows]
        rec["zone_len"] = 8 if zoned else -1
        if zoned:
            rec["zone"] = fixes.zone_id[rows]
        rec["byte_order"], rec["geom_type"], rec["srid"] = 1, _EWKB_POINT_SRID, FLOOR_SRID
        rec["x"], rec["y"] = fixes.x_m[rows], fixes.y_m[rows]
        rec["acc_len"], rec["acc"] = 8, fixes.accuracy_m[rows]
        rec["method_len"], rec["method"] = 2, fixes.method[rows]
        # µs since 2000-01-01, rounded as PostgreSQL's to_timestamp rounds, so both paths agree
        rec["seen_len"], rec["seen"] = 8, np.rint((fixes.seen_at_s[rows] - _PG_EPOCH_S) * 1e6)
        parts.append(rec.tobytes())
    parts.append(_COPY_TRAILER)
    return b"".join(parts)


HISTORY_COLUMNS = "tag_id, floor_id, zone_id, position, accuracy_m, method, seen_at"


def _record_dtype(*, zoned: bool) -> np.dtype[np.void]:
    zone = [("zone_len", ">i4")] + ([("zone", ">i8")] if zoned else [])
    return np.dtype(
        [("n", ">i2"), ("tag_len", ">i4"), ("tag", ">i8"), ("floor_len", ">i4"), ("floor", ">i8"), *zone,
         ("pos_len", ">i4"), ("byte_order", "u1"), ("geom_type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8"),
         ("acc_len", ">i4"), ("acc", ">f8"), ("method_len", ">i4"), ("method", ">i2"),
         ("seen_len", ">i4"), ("seen", ">i8")]
    )


def history_copy(cur: psycopg.Cursor[Any], fixes: FixBatch, *, table: str) -> None:
    """Binary COPY of the fixes into `table` (the staging table, or the history table itself)."""
    with cur.copy(f"COPY {table} ({HISTORY_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(history_copy_bytes(fixes))


def history_insert(cur: psycopg.Cursor[Any], fixes: FixBatch) -> int:
    """Add the fixes to the history (none twice for a tag and instant); returns the rows added.

    Fast path: COPY straight into the partitioned table, in a savepoint. If that meets a row already there
    (a batch written again) or a day without partition (dropped behind this process's back), roll back to
    the savepoint and go through the staging table: COPY there, then INSERT .. ON CONFLICT DO NOTHING.
    """
    if not len(fixes):
        return 0
    history_partitions_ensure(seen_at_s=fixes.seen_at_s)
    try:
        with transaction.atomic():
            history_copy(cur, fixes, table=PARENT)
        return len(fixes)
    except (psycopg.errors.UniqueViolation, psycopg.errors.CheckViolation) as exc:
        logger.info("history: %s; writing %d rows through staging", type(exc).__name__, len(fixes))
    history_partitions_forget()
    history_partitions_ensure(seen_at_s=fixes.seen_at_s)
    _staging_ensure(cur)
    history_copy(cur, fixes, table=STAGING)
    cur.execute(f"INSERT INTO {PARENT} ({HISTORY_COLUMNS}) SELECT {HISTORY_COLUMNS} FROM {STAGING} "
                f"ON CONFLICT DO NOTHING")
    written = cur.rowcount
    cur.execute(f"TRUNCATE {STAGING}")
    return written


def _staging_ensure(cur: psycopg.Cursor[Any]) -> None:
    """The session's temp table for COPY, created once per connection."""
    if cur.connection in _staged_connections:
        return
    cur.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (tag_id bigint, floor_id bigint, zone_id bigint, "
        f"position geometry(Point, {FLOOR_SRID}), accuracy_m float8, method int2, seen_at timestamptz)"
    )
    pg_connection = cur.connection
    transaction.on_commit(lambda: _staged_connections.add(pg_connection))  # a rollback takes the table away


_OPEN_SQL = """
INSERT INTO tracking_zonepresence (tag_id, zone_id, entered_at)
SELECT u.tag_id, u.zone_id, to_timestamp(u.at_s)
FROM unnest(%b::bigint[], %b::bigint[], %b::float8[]) AS u(tag_id, zone_id, at_s)
JOIN tracking_tag t ON t.id = u.tag_id
JOIN floorplans_zone z ON z.id = u.zone_id
LEFT JOIN LATERAL (
    SELECT p.entered_at, p.exited_at FROM tracking_zonepresence p
    WHERE p.tag_id = u.tag_id AND p.zone_id = u.zone_id ORDER BY p.entered_at DESC LIMIT 1
) last ON true
WHERE last.entered_at IS NULL
   OR (last.exited_at <= to_timestamp(u.at_s) AND last.entered_at <> to_timestamp(u.at_s))
ON CONFLICT DO NOTHING
"""

_CLOSE_SQL = """
UPDATE tracking_zonepresence p SET exited_at = to_timestamp(u.at_s)
FROM unnest(%b::bigint[], %b::bigint[], %b::float8[]) AS u(tag_id, zone_id, at_s)
WHERE p.tag_id = u.tag_id AND p.zone_id = u.zone_id AND p.exited_at IS NULL
  AND p.entered_at <= to_timestamp(u.at_s)
"""


def _presence_apply(cur: psycopg.Cursor[Any], events: ZoneEvents) -> tuple[int, int]:
    """(stays opened, stays closed). Events of one tag and zone apply in time order, one round each."""
    if not len(events):
        return 0, 0
    opened = closed = 0
    for rows in _rounds(events.tag_pk, events.zone_id, events.at_s):
        for entered, sql in ((True, _OPEN_SQL), (False, _CLOSE_SQL)):
            pick = rows[events.entered[rows] == entered]
            if len(pick):
                cur.execute(sql, [events.tag_pk[pick].tolist(), events.zone_id[pick].tolist(),
                                  events.at_s[pick].tolist()])
                if entered:
                    opened += cur.rowcount
                else:
                    closed += cur.rowcount
    return opened, closed


def _rounds(tag_pk: npt.NDArray[np.int64], zone_id: npt.NDArray[np.int64],
            at_s: npt.NDArray[np.float64]) -> list[npt.NDArray[np.intp]]:
    """Row indices split into rounds: round r holds each (tag, zone) pair's r-th event in time order."""
    order = np.lexsort((np.arange(len(at_s)), at_s, zone_id, tag_pk))
    t, z = tag_pk[order], zone_id[order]
    starts = np.flatnonzero(np.r_[True, (t[1:] != t[:-1]) | (z[1:] != z[:-1])])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return [order[rank == r] for r in range(int(rank.max()) + 1)]


_CROSSINGS_SQL = """
INSERT INTO tracking_portalcrossing (tag_id, door_id, direction, crossed_at)
SELECT u.tag_id, u.door_id, CASE WHEN u.inward THEN 'in' ELSE 'out' END, to_timestamp(u.at_s)
FROM unnest(%b::bigint[], %b::bigint[], %b::bool[], %b::float8[]) AS u(tag_id, door_id, inward, at_s)
JOIN tracking_tag t ON t.id = u.tag_id
JOIN floorplans_door d ON d.id = u.door_id
ON CONFLICT DO NOTHING
"""


def _crossings_insert(cur: psycopg.Cursor[Any], crossings: Crossings) -> int:
    if not len(crossings):
        return 0
    c = crossings
    cur.execute(_CROSSINGS_SQL, [c.tag_pk.tolist(), c.door_id.tolist(), c.inward.tolist(), c.at_s.tolist()])
    return cur.rowcount
