"""Speed of the storage layer (tracking.store) against the obvious per-row ORM loop, on PostGIS.

    python -m bench.bench_storage [--tags 5000 --batch 500 --batches 200 --orm-fixes 3000 --repeats 3]

Database: a scratch database `<POSTGRES_DB>_bench`, dropped and made afresh (PostGIS, migrated) by the bench
and dropped at the end (`--keep` keeps it); nothing else is touched.
Scene (seeded): one 40 x 25 m floor cut into 8 zones; `--tags` tags random-walk (0.3 m steps) and report in
turn, `--batch` fixes per window, 0.1 s apart, so each tag's row is updated again every tags/batch windows.
  bulk write:      locations_write: current-location upsert + every fix to history (binary COPY), one
                   transaction per window; the gate would send fewer, so this is the worst case.
  gated:           the same with the history a HistoryGate (1 m, 30 s) chose, as the pipeline writes
                   (one run: the gate's state carries over).
  history alone:   history_insert: the history part of it (partition check, savepoint, COPY).
  history again:   the same windows written a second time: the exactly-once path (COPY into a temp table,
                   INSERT .. ON CONFLICT DO NOTHING), which a retry after a lost commit takes.
  ORM loop:        per fix LocationHistory(...).save() + CurrentLocation.objects.update_or_create(...), one
                   transaction per window (the baseline; timed on --orm-fixes fixes).
  ORM history:     per fix LocationHistory(...).save() only: the baseline of "history alone".
Two verdicts: the history bulk write (the issue's "binary COPY or equivalent bulk write") against its
save() loop, and the whole window write (with the current-location upsert) against the full ORM loop.
Before each run the tables are emptied, vacuumed and analyzed, then filled once (the current-location rows
exist: steady state is updates). Times: wall clock, best of --repeats runs; CPU: this process plus its
PostgreSQL backend (from /proc), so a busy machine can be told from a slow path.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital_iot.settings")
os.environ["DJANGO_DEBUG"] = "0"  # the ORM baseline must not pay for query logging
BASE_DB = os.environ.get("POSTGRES_DB", "hospital_iot")
BENCH_DB = f"{BASE_DB}_bench"
GOAL_FIXES_PER_S, GOAL_RATIO = 50_000, 20.0
FLOOR_M = (40.0, 25.0)
ZONES = 8  # vertical strips, 5 m wide


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tags", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500, help="fixes per window")
    parser.add_argument("--batches", type=int, default=200, help="windows per timed run")
    parser.add_argument("--orm-fixes", type=int, default=3000, help="fixes the ORM loop is timed on")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help=f"keep the scratch database {BENCH_DB}")
    return parser.parse_args()


def server_params(dbname: str) -> dict[str, Any]:
    params = {k: os.environ.get(f"POSTGRES_{k.upper()}", d) for k, d in
              (("host", "127.0.0.1"), ("port", "5432"), ("user", "hospital_iot"), ("password", "hospital_iot"))}
    return params | {"dbname": dbname, "autocommit": True}


def database_recreate(name: str = BENCH_DB) -> None:
    """An empty scratch database `name` with PostGIS (bench-e2e makes its own with this too)."""
    with psycopg.connect(**server_params("postgres")) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(**server_params(name)) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def database_drop() -> None:
    with psycopg.connect(**server_params("postgres")) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def django_setup() -> None:
    os.environ["POSTGRES_DB"] = BENCH_DB
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    import logging

    logging.getLogger("tracking.store").setLevel(logging.WARNING)


@dataclass(frozen=True)
class World:
    floor_id: int
    zone_pks: np.ndarray[Any, np.dtype[np.int64]]
    tag_pks: np.ndarray[Any, np.dtype[np.int64]]


def world_create(tags: int) -> World:
    from django.contrib.gis.geos import Polygon

    from floorplans.models import Building, Floor, Site, Zone
    from tracking.models import Tag

    site = Site.objects.create(code="bench", name="Bench Hospital")
    building = Building.objects.create(site=site, code="b", name="Block B")
    floor = Floor.objects.create(building=building, code="L1", level=1, name="Bench", width_m=FLOOR_M[0],
                                 height_m=FLOOR_M[1])
    width_m = FLOOR_M[0] / ZONES
    zones = [Zone.objects.create(floor=floor, code=f"Z{i}", name=f"Zone {i}", kind=Zone.Kind.ROOM,
                                 polygon=Polygon.from_bbox((i * width_m, 0, (i + 1) * width_m, FLOOR_M[1])))
             for i in range(ZONES)]
    made = Tag.objects.bulk_create([Tag(tag_id=f"BENCH{i:07d}", tech=Tag.Tech.BLE) for i in range(tags)])
    return World(floor.pk, np.array([z.pk for z in zones]), np.array([t.pk for t in made]))


def windows(world: World, *, batch: int, count: int, seed: int) -> list[Any]:
    """`count` FixBatches: tags in turn, random-walking, their zone the strip they are in."""
    from tracking.store.fixes import FixBatch

    rng = np.random.default_rng(seed)
    n_tags = len(world.tag_pks)
    xy = rng.uniform((0, 0), FLOOR_M, (n_tags, 2))
    t0_s = datetime.now(UTC).timestamp()
    out = []
    for k in range(count):
        idx = (np.arange(batch) + k * batch) % n_tags
        xy[idx] = np.clip(xy[idx] + rng.normal(0, 0.3, (batch, 2)), 0, np.array(FLOOR_M) - 1e-6)
        out.append(FixBatch(
            tag_pk=world.tag_pks[idx], floor_id=np.full(batch, world.floor_id),
            zone_id=world.zone_pks[(xy[idx, 0] // (FLOOR_M[0] / ZONES)).astype(int)],
            x_m=xy[idx, 0], y_m=xy[idx, 1], accuracy_m=rng.uniform(0.2, 2.0, batch),
            method=np.zeros(batch, np.int16), stationary=rng.random(batch) < 0.3,
            seen_at_s=t0_s + 0.1 * k + np.sort(rng.uniform(0, 0.1, batch)),
        ))
    return out


def tables_reset() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE tracking_currentlocation, tracking_locationhistory")
        for table in ("tracking_currentlocation", "tracking_locationhistory", "tracking_tag"):
            cur.execute(f"VACUUM ANALYZE {table}")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    fixes: int
    wall_s: float
    cpu_s: float  # this process + its PostgreSQL backend


def timed(write_one: Callable[[Any], object], batches: list[Any], *, prefill: list[Any], repeats: int,
          again: bool = False) -> Run:
    """Best of `repeats`: reset the tables, bulk-write `prefill`, then time writing `batches` (twice if `again`)."""
    from django.db import connection

    best: Run | None = None
    for _ in range(repeats):
        tables_reset()
        for b in prefill:
            bulk_write(b)
        for b in batches if again else []:
            write_one(b)
        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
        cpu0, t0 = time.process_time() + cpu_s(backend), time.perf_counter()
        for b in batches:
            write_one(b)
        wall = time.perf_counter() - t0
        run = Run(sum(len(b) for b in batches), wall, time.process_time() + cpu_s(backend) - cpu0)
        best = run if best is None or run.wall_s < best.wall_s else best
    assert best is not None
    return best


def bulk_write(batch: Any) -> None:
    from tracking.store.fixes import Crossings, ZoneEvents
    from tracking.store.writer import locations_write

    locations_write(fixes=batch, history=np.ones(len(batch), bool), zone_events=ZoneEvents.empty(),
                    crossings=Crossings.empty())


def gated_write_fn() -> Callable[[Any], None]:
    """locations_write with the history chosen by a HistoryGate (default rules), as the pipeline does."""
    from tracking.store.fixes import Crossings, ZoneEvents
    from tracking.store.gate import HistoryGate
    from tracking.store.writer import locations_write

    gate = HistoryGate()

    def write(batch: Any) -> None:
        locations_write(fixes=batch, history=gate.select(batch), zone_events=ZoneEvents.empty(),
                        crossings=Crossings.empty())

    return write


def history_share(batches: list[Any]) -> float:
    from tracking.store.gate import HistoryGate

    gate = HistoryGate()
    return sum(int(gate.select(b).sum()) for b in batches) / sum(len(b) for b in batches)


def history_alone(batch: Any) -> None:
    from django.db import connection, transaction

    from tracking.store.writer import history_insert

    with transaction.atomic(), psycopg.Cursor(connection.connection) as cur:
        history_insert(cur, batch)


def orm_loop(batch: Any) -> None:
    from django.contrib.gis.geos import Point
    from django.db import transaction
    from django.utils import timezone

    from floorplans.geometry import FLOOR_SRID
    from tracking.models import CurrentLocation, LocationHistory

    with transaction.atomic():
        for i in range(len(batch)):
            position = Point(float(batch.x_m[i]), float(batch.y_m[i]), srid=FLOOR_SRID)
            seen_at = datetime.fromtimestamp(float(batch.seen_at_s[i]), tz=UTC)
            zone_id = int(batch.zone_id[i]) if batch.zone_id[i] >= 0 else None
            common = {"floor_id": int(batch.floor_id[i]), "zone_id": zone_id, "position": position,
                      "accuracy_m": float(batch.accuracy_m[i]), "method": int(batch.method[i])}
            LocationHistory(tag_id=int(batch.tag_pk[i]), seen_at=seen_at, **common).save()
            CurrentLocation.objects.update_or_create(tag_id=int(batch.tag_pk[i]), defaults={
                **common, "stationary": bool(batch.stationary[i]), "seen_at": seen_at, "updated_at": timezone.now()})


def orm_history_loop(batch: Any) -> None:
    """The baseline of the history write alone: one LocationHistory(...).save() per fix."""
    from django.contrib.gis.geos import Point
    from django.db import transaction

    from floorplans.geometry import FLOOR_SRID
    from tracking.models import LocationHistory

    with transaction.atomic():
        for i in range(len(batch)):
            LocationHistory(tag_id=int(batch.tag_pk[i]), floor_id=int(batch.floor_id[i]),
                            zone_id=int(batch.zone_id[i]) if batch.zone_id[i] >= 0 else None,
                            position=Point(float(batch.x_m[i]), float(batch.y_m[i]), srid=FLOOR_SRID),
                            accuracy_m=float(batch.accuracy_m[i]), method=int(batch.method[i]),
                            seen_at=datetime.fromtimestamp(float(batch.seen_at_s[i]), tz=UTC)).save()


def environment() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), current_setting('synchronous_commit'), "
                    "current_setting('autovacuum'), current_setting('shared_buffers')")
        version, sync, autovacuum, shared = cur.fetchone() or ("?", "?", "?", "?")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"PostgreSQL {version} (synchronous_commit {sync}, autovacuum {autovacuum}, shared_buffers {shared}); "
            f"{os.cpu_count()} CPUs, load average {load}; numpy {np.__version__}, psycopg {psycopg.__version__}")


def print_table(rows: list[tuple[str, Run]], baseline: Run) -> None:
    base_rate = baseline.fixes / baseline.wall_s
    print(f"{'path':38s} {'fixes':>8s} {'fixes/s':>10s} {'vs ORM':>7s} {'fixes/CPU-s':>12s} {'vs ORM':>7s}")
    print("-" * 88)
    for name, run in rows:
        rate, cpu_rate = run.fixes / run.wall_s, run.fixes / run.cpu_s
        print(f"{name:38s} {run.fixes:>8,d} {rate:>10,.0f} {rate / base_rate:>6.1f}x {cpu_rate:>12,.0f} "
              f"{cpu_rate / (baseline.fixes / baseline.cpu_s):>6.1f}x")
    print("-" * 88)


def verdict(what: str, run: Run, baseline: Run) -> bool:
    rate, base_rate = run.fixes / run.wall_s, baseline.fixes / baseline.wall_s
    met = rate >= GOAL_FIXES_PER_S and rate / base_rate >= GOAL_RATIO
    print(f"goal {'met' if met else 'NOT met'}: {what} {rate:,.0f} fixes/s (goal >= {GOAL_FIXES_PER_S:,}), "
          f"{rate / base_rate:.1f}x its ORM loop (goal >= {GOAL_RATIO:.0f}x)")
    return met


def main() -> None:
    args = parse_args()
    database_recreate()
    try:
        django_setup()
        from tracking.store.partitions import history_partitions_maintain

        world = world_create(args.tags)
        history_partitions_maintain(now=datetime.now(UTC), days_ahead=1)
        prefill_n = -(-args.tags // args.batch)  # windows to give every tag its current-location row
        orm_n = max(1, args.orm_fixes // args.batch)
        all_windows = windows(world, batch=args.batch, count=prefill_n + args.batches, seed=args.seed)
        prefill, timed_windows = all_windows[:prefill_n], all_windows[prefill_n:]
        print("Storage speed: " + environment())
        print(f"{args.tags:,} tags, {args.batch} fixes per window; best of {args.repeats}; "
              f"scratch database {BENCH_DB}")
        rows = [
            ("bulk write (upsert + history COPY)", timed(bulk_write, timed_windows, prefill=prefill,
                                                          repeats=args.repeats)),
            (f"bulk write, gate: {history_share(timed_windows):.0%} to history", timed(
                gated_write_fn(), timed_windows, prefill=prefill, repeats=1)),
            ("history alone (COPY)", timed(history_alone, timed_windows, prefill=prefill, repeats=args.repeats)),
            ("history again (exactly-once path)", timed(history_alone, timed_windows, prefill=prefill,
                                                         repeats=args.repeats, again=True)),
        ]
        baseline = timed(orm_loop, timed_windows[:orm_n], prefill=prefill, repeats=args.repeats)
        history_baseline = timed(orm_history_loop, timed_windows[:orm_n], prefill=prefill, repeats=args.repeats)
        rows += [("ORM loop: save() + update_or_create()", baseline),
                 ("ORM loop: LocationHistory.save() only", history_baseline)]
        print_table(rows, baseline)
        print("(vs ORM: against the save() + update_or_create() loop; the history rows are also compared with the "
              "save()-only loop below)")
        verdict("history bulk write (binary COPY)", rows[2][1], history_baseline)
        verdict("whole window write (current-location upsert + every fix to history)", rows[0][1], baseline)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop()


if __name__ == "__main__":
    main()
