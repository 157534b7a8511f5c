"""Upkeep of the current-location table: `current_locations_restore` and `current_locations_vacuum`.

The current-location table is UNLOGGED (tracking.models.CurrentLocation): a PostgreSQL crash empties it.
Every tag that has history gets back, as its current location, its latest history row of the last
`within` (tags with a current row keep it: a newer fix may be there already). run_rtls calls it at start.

Every row of the table is rewritten about once a second. Most rewrites are heap-only and pruned in place,
but a zone change also writes the (floor, zone) index, and those dead rows stay until a VACUUM. Where
autovacuum is off (as on some managed or tuned servers, and on the development machine this was measured
on) the table grew by 0.3 MB a minute at 5,000 tags (bench-e2e's minute log), so the floor snapshots' scan
would slow down over days. run_rtls therefore vacuums it itself every few minutes: a few milliseconds on a
table of thousands of rows, and it takes no lock that blocks the pipeline's upserts (nor the brief exclusive
one that truncating the table's empty tail would take: TRUNCATE false).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction

logger = logging.getLogger(__name__)

_RESTORE_SQL = """
INSERT INTO tracking_currentlocation
    (tag_id, floor_id, zone_id, position, accuracy_m, method, stationary, seen_at, updated_at)
SELECT DISTINCT ON (h.tag_id) h.tag_id, h.floor_id, z.id, h.position, h.accuracy_m, h.method, false, h.seen_at,
       now()
FROM tracking_locationhistory h
JOIN tracking_tag t ON t.id = h.tag_id
JOIN floorplans_floor f ON f.id = h.floor_id
LEFT JOIN floorplans_zone z ON z.id = h.zone_id
WHERE h.seen_at >= now() - make_interval(secs => %s)
  AND NOT EXISTS (SELECT 1 FROM tracking_currentlocation c WHERE c.tag_id = h.tag_id)
ORDER BY h.tag_id, h.seen_at DESC
ON CONFLICT (tag_id) DO NOTHING
"""


def current_locations_vacuum() -> None:
    """VACUUM (ANALYZE, TRUNCATE false) the current-location table. Must run outside a transaction."""
    if connection.in_atomic_block:
        raise RuntimeError("current_locations_vacuum must run outside a transaction")
    with connection.cursor() as cur:
        # TRUNCATE false: never take the exclusive lock that giving back the table's empty tail needs (it would
        # stop the pipeline's upserts for a moment, and the tail fills again within seconds anyway)
        cur.execute("VACUUM (ANALYZE, TRUNCATE false) tracking_currentlocation")


@transaction.atomic
def current_locations_restore(*, within: timedelta = timedelta(days=1)) -> int:
    """Give each tag without a current location its latest history row of the last `within`; returns how many."""
    with connection.cursor() as cur:
        cur.execute(_RESTORE_SQL, [within.total_seconds()])
        restored = int(cur.rowcount)
    if restored:
        logger.info("current locations: %d restored from the history", restored)
    return restored
