"""manage.py run_readers: supervise every enabled reader, record their health, stream their reads.

`--sink floors` sends each read to the Redis stream of its reader's floor, where locate workers
(`manage.py run_rtls --role locate`) pick it up (`run_rtls --role reader` does the same); `run_rtls` alone
runs readers and pipeline in one process. The default, one stream of every read, is a tap for tools.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from readers.drops import DropCounter
from readers.health import HealthTracker
from readers.models import Reader
from readers.selectors import adapter_specs
from readers.services import reader_health_record
from readers.sinks import READS_STREAM, FloorStreamSink, LogSink, RedisStreamSink
from readers.supervisor import Sink, Supervisor


def reader_floors() -> dict[str, int]:
    """Reader code -> floor id, of every reader (the floor stream its reads go to)."""
    return dict(Reader.objects.values_list("code", "floor_id"))


class ReaderRunner:
    """The supervisor with its health tracker and drop counter, and the periodic health record: what
    run_readers runs, and what run_rtls runs in front of its pipeline."""

    def __init__(self, *, sink: Callable[[DropCounter], Sink], offline_after_s: float,
                 warn: Callable[[str], None]) -> None:
        specs, problems = adapter_specs()
        for problem in problems:
            warn(f"skipped {problem}")
        if not specs:
            raise CommandError("no enabled readers with a known protocol; load the demo or add readers first")
        self.reader_ids = [reader_id for spec in specs for reader_id in spec.reader_ids]
        self.drops = DropCounter()
        self.health = HealthTracker(self.reader_ids, offline_after_s=offline_after_s, started_at=timezone.now())
        self.sink = sink(self.drops)
        self.supervisor = Supervisor(specs, sink=self.sink, drops=self.drops, health=self.health)
        self.adapters = len(specs)

    def start(self) -> None:
        self.supervisor.start()

    def record(self) -> str:
        """Write every reader's health (and drops) to the database; returns a one-line summary."""
        self.health.alive(self.supervisor.connected_readers(), at=timezone.now())
        states, changes = self.health.snapshot(timezone.now())
        per_reader = {state.reader_id: self.drops.counts(state.reader_id) for state in states}
        try:
            reader_health_record(states=states, drops=per_reader, changes=changes)
        except DatabaseError as exc:  # the readers go on without the database; health is written next time
            return f"reader health not recorded: {exc}"
        if isinstance(self.sink, FloorStreamSink):
            self.sink.routes(reader_floors())
        online = sum(state.state == "online" for state in states)
        rate = sum(state.reads_per_s for state in states)
        return f"readers online {online}/{len(states)}, {rate:,.0f} reads/s, {self.drops.total()} dropped"

    def stop(self) -> list[str]:
        return self.supervisor.stop()


def stop_on_sigterm() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


class Command(BaseCommand):
    help = "Run an adapter for every enabled reader until Ctrl-C; reads go to a Redis stream (or one per floor)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sink", choices=["redis", "floors", "log"], default="redis",
                            help=f"redis: every read to the one stream {READS_STREAM} (or --stream); floors: each "
                                 "read to its floor's stream hospital_iot:reads:floor:<id>, what locate workers read; "
                                 "log: one log line per read")
        parser.add_argument("--stream", default=READS_STREAM, help="the Redis stream (with --sink redis)")
        parser.add_argument("--health-every", type=float, default=5.0, help="seconds between health records")
        parser.add_argument("--offline-after", type=float, default=60.0, help="seconds without reads = offline")
        parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (0: run on)")

    def handle(self, *args: Any, **options: Any) -> None:
        runner = ReaderRunner(sink=lambda drops: self._sink(options, drops), offline_after_s=options["offline_after"],
                              warn=lambda text: self.stderr.write(text))
        stop = stop_on_sigterm()
        runner.start()
        self.stdout.write(f"run_readers: {runner.adapters} adapters for {len(runner.reader_ids)} readers; "
                          "Ctrl-C stops")
        started = timezone.now()
        try:
            while not stop.wait(options["health_every"]):
                self.stdout.write(runner.record())
                if options["run_for"] and (timezone.now() - started).total_seconds() >= options["run_for"]:
                    break
        except KeyboardInterrupt:
            pass
        stuck = runner.stop()
        self.stdout.write(runner.record())
        self.stdout.write("run_readers stopped" + (f"; threads still ending: {', '.join(stuck)}" if stuck else ""))

    def _sink(self, options: dict[str, Any], drops: DropCounter) -> Sink:
        if options["sink"] == "log":
            return LogSink()
        client = redis.Redis.from_url(settings.REDIS_URL)
        if options["sink"] == "redis":
            return RedisStreamSink(client, stream=options["stream"])
        return FloorStreamSink(client, reader_floor=reader_floors(), drops=drops)
