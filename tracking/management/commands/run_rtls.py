"""manage.py run_rtls: the real-time location system, from tag reads to stored, announced positions.

    run_rtls                         one machine: the readers' supervisor and the pipeline in one process
                                     (reads pass through an in-process queue)
    run_rtls --role reader           readers only: each read to its floor's Redis stream
    run_rtls --role locate --name w1 a locate worker: leases floors, consumes their streams (group "rtls")

Ctrl-C or SIGTERM stops it cleanly: readers first, then the reads already taken are located, written
(buffered writes get a last chance) and acknowledged. History partitions are maintained at start and
hourly; a one-line status is logged every --status-every seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from alerts.periodic import PeriodicRunner
from hospital_iot.runtime import gc_tune
from readers.drops import DropCounter
from readers.management.commands.run_readers import ReaderRunner, reader_floors, stop_on_sigterm
from readers.sinks import FloorStreamSink
from readers.supervisor import Sink
from tracking.pipeline.bus import Bus, InProcessBus, RedisStreamBus
from tracking.pipeline.commit import StoreCommitter, ThreadedCommitter
from tracking.pipeline.config import ConfigSource, floor_seed_load
from tracking.pipeline.frames import FrameSender
from tracking.pipeline.metrics import MetricsReporter, PipelineMetrics
from tracking.pipeline.worker import PipelineWorker, WorkerSettings
from tracking.store.buffer import BufferedLocationWriter
from tracking.store.current import current_locations_restore, current_locations_vacuum
from tracking.store.partitions import history_partitions_maintain

logger = logging.getLogger(__name__)

PARTITIONS_EVERY_S = 3600.0
VACUUM_EVERY_S = 300.0  # the current-location table (tracking.store.current)


@dataclass
class Pipeline:
    """A worker in its thread, with its frame sender and metrics reporter."""

    worker: PipelineWorker
    committer: ThreadedCommitter
    sender: FrameSender
    reporter: MetricsReporter
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.sender.start()
        self.reporter.start()
        self.thread = threading.Thread(target=self._run, name="rtls-pipeline", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.worker.run(self.stop)
        finally:
            connections.close_all()

    def close(self, timeout_s: float = 20.0) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout_s)
        self.committer.close()
        self.sender.stop()
        self.reporter.stop()


class Command(BaseCommand):
    help = "Run the RTLS: readers and the location pipeline (in one process, or as reader / locate roles)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", choices=["all", "reader", "locate"], default="all")
        parser.add_argument("--name", default="", help="worker name (metrics, consumer and lease owner); "
                                                       "default: host-pid")
        parser.add_argument("--window-ms", type=float, default=100.0, help="longest window of reads")
        parser.add_argument("--quiet-ms", type=float, default=20.0,
                            help="a window also closes after this long without a read (0: windows last --window-ms)")
        parser.add_argument("--reload-every", type=float, default=30.0, help="seconds between configuration reloads")
        parser.add_argument("--lease-ttl", type=float, default=10.0, help="seconds a dead worker keeps its floors")
        parser.add_argument("--health-every", type=float, default=5.0, help="seconds between reader health records")
        parser.add_argument("--offline-after", type=float, default=60.0, help="seconds without reads = offline")
        parser.add_argument("--status-every", type=float, default=10.0, help="seconds between status lines")
        parser.add_argument("--no-timers", action="store_true",
                            help="do not run the workflows' periodic jobs here (alert escalation, webhooks, infusion "
                                 "timers): another process runs `manage.py run_alerts`")
        parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (0: run on)")

    def handle(self, *args: Any, **options: Any) -> None:
        role, name = options["role"], options["name"] or f"{socket.gethostname()}-{os.getpid()}"
        client = redis.Redis.from_url(settings.REDIS_URL)
        bus: Bus | None = None
        readers = pipeline = None
        if role in ("all", "reader"):
            in_process = InProcessBus() if role == "all" else None
            bus = in_process
            readers = ReaderRunner(sink=lambda drops: self._reader_sink(client, in_process, drops),
                                   offline_after_s=options["offline_after"], warn=lambda text: self.stderr.write(text))
        if role in ("all", "locate"):
            bus = bus or RedisStreamBus(client, worker=name, lease_ttl_s=options["lease_ttl"])
            pipeline = self._pipeline(bus, client, name, options)
            self._partitions()
            self._restore()
        stop = stop_on_sigterm()
        timers = None
        if role in ("all", "locate") and not options["no_timers"]:
            timers = threading.Thread(target=PeriodicRunner().run, args=(stop,), name="rtls-timers", daemon=True)
        gc_tune()
        if pipeline is not None:
            pipeline.start()
        if timers is not None:
            timers.start()
        if readers is not None:
            readers.start()
        self.stdout.write(f"run_rtls ({role}) {name}: running; Ctrl-C stops")
        try:
            self._loop(stop, readers, pipeline, options)
        except KeyboardInterrupt:
            pass
        stop.set()  # the timers end their current run
        if readers is not None:
            stuck = readers.stop()
            self.stdout.write(readers.record() + (f"; threads still ending: {', '.join(stuck)}" if stuck else ""))
        if pipeline is not None:
            pipeline.close()
            self.stdout.write(self._status(pipeline))
        self.stdout.write("run_rtls stopped")

    def _reader_sink(self, client: redis.Redis, bus: InProcessBus | None, drops: DropCounter) -> Sink:
        return bus if bus is not None else FloorStreamSink(client, reader_floor=reader_floors(), drops=drops)

    def _pipeline(self, bus: Bus, client: redis.Redis, name: str, options: dict[str, Any]) -> Pipeline:
        metrics = PipelineMetrics(name)
        sender = FrameSender()
        committer = ThreadedCommitter(StoreCommitter(BufferedLocationWriter()))
        worker = PipelineWorker(
            bus=bus, source=ConfigSource(reload_s=options["reload_every"]), metrics=metrics, sender=sender,
            committer=committer,
            seed=lambda floor_id: floor_seed_load(floor_id=floor_id),
            settings=WorkerSettings(name=name, window_s=options["window_ms"] / 1000.0,
                                    quiet_s=options["quiet_ms"] / 1000.0 if options["quiet_ms"] > 0 else None),
        )
        return Pipeline(worker, committer, sender, MetricsReporter(metrics, client))

    def _loop(self, stop: threading.Event, readers: ReaderRunner | None, pipeline: Pipeline | None,
              options: dict[str, Any]) -> None:
        started = time.monotonic()
        next_status = started + options["status_every"]
        next_partitions = started + PARTITIONS_EVERY_S
        next_vacuum = started + VACUUM_EVERY_S
        while not stop.wait(options["health_every"]):
            now = time.monotonic()
            close_old_connections()
            health = readers.record() if readers is not None else ""
            if now >= next_status:
                next_status = now + options["status_every"]
                self.stdout.write(" | ".join(p for p in (health, self._status(pipeline) if pipeline else "") if p))
            if pipeline is not None and now >= next_partitions:
                next_partitions = now + PARTITIONS_EVERY_S
                self._partitions()
            if pipeline is not None and now >= next_vacuum:
                next_vacuum = now + VACUUM_EVERY_S
                self._vacuum()
            if pipeline is not None and pipeline.thread is not None and not pipeline.thread.is_alive():
                self.stderr.write("the pipeline thread ended; stopping")
                break
            if options["run_for"] and now - started >= options["run_for"]:
                break

    def _restore(self) -> None:
        """After a PostgreSQL crash the (unlogged) current locations are empty: refill them from the history
        before the pipeline seeds its floors from them."""
        try:
            restored = current_locations_restore()
        except DatabaseError as exc:  # the database is away: the pipeline's buffer and retries take over
            logger.warning("current locations not restored from the history: %s", exc)
            return
        if restored:
            self.stdout.write(f"current locations: {restored} restored from the history")

    def _partitions(self) -> None:
        try:
            created, dropped = history_partitions_maintain(now=timezone.now())
        except DatabaseError as exc:  # tried again in an hour; the writer creates a missing day itself
            logger.warning("history partitions not maintained: %s", exc)
            return
        if created or dropped:
            self.stdout.write(f"history partitions: created {len(created)}, dropped {len(dropped)}")

    def _vacuum(self) -> None:
        try:
            current_locations_vacuum()
        except DatabaseError as exc:  # tried again next time
            logger.warning("current locations not vacuumed: %s", exc)

    def _status(self, pipeline: Pipeline | None) -> str:
        if pipeline is None:
            return ""
        snapshot = pipeline.worker.metrics.snapshot()
        previous = getattr(self, "_previous", None)
        self._previous = (time.monotonic(), snapshot["reads_total"], snapshot["fixes_total"])
        if previous is None:
            rates = (0.0, 0.0)
        else:
            dt_s = max(self._previous[0] - previous[0], 1e-9)
            rates = ((snapshot["reads_total"] - previous[1]) / dt_s, (snapshot["fixes_total"] - previous[2]) / dt_s)
        db = "db up" if snapshot["db_up"] else "DB DOWN"
        return (f"rtls: {rates[0]:,.0f} reads/s, {rates[1]:,.0f} fixes/s, lag {snapshot['lag_entries']} entries / "
                f"{snapshot['lag_s']:.2f} s, buffered {snapshot['buffered_fixes']} fixes ({db}), "
                f"floors {snapshot['floors']}, dropped {sum(snapshot['drops'].values())}")
