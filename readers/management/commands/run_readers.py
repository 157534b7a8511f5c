"""manage.py run_readers: supervise every enabled reader, record their health, stream their reads."""

from __future__ import annotations

import signal
import threading
from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from readers.drops import DropCounter
from readers.health import HealthTracker
from readers.selectors import adapter_specs
from readers.services import reader_health_record
from readers.sinks import READS_STREAM, LogSink, RedisStreamSink
from readers.supervisor import Sink, Supervisor


class Command(BaseCommand):
    help = "Run an adapter for every enabled reader until Ctrl-C; reads go to a Redis stream."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sink", choices=["redis", "log"], default="redis",
                            help=f"redis: append reads to the stream {READS_STREAM}; log: one log line per read")
        parser.add_argument("--stream", default=READS_STREAM, help="the Redis stream (with --sink redis)")
        parser.add_argument("--health-every", type=float, default=5.0, help="seconds between health records")
        parser.add_argument("--offline-after", type=float, default=60.0, help="seconds without reads = offline")
        parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (0: run on)")

    def handle(self, *args: Any, **options: Any) -> None:
        specs, problems = adapter_specs()
        for problem in problems:
            self.stderr.write(f"skipped {problem}")
        if not specs:
            raise CommandError("no enabled readers with a known protocol; load the demo or add readers first")
        reader_ids = [reader_id for spec in specs for reader_id in spec.reader_ids]
        drops = DropCounter()
        health = HealthTracker(reader_ids, offline_after_s=options["offline_after"], started_at=timezone.now())
        sink: Sink = (RedisStreamSink(redis.Redis.from_url(settings.REDIS_URL), stream=options["stream"])
                      if options["sink"] == "redis" else LogSink())
        supervisor = Supervisor(specs, sink=sink, drops=drops, health=health)
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        supervisor.start()
        self.stdout.write(f"run_readers: {len(specs)} adapters for {len(reader_ids)} readers; Ctrl-C stops")
        started = timezone.now()
        try:
            while not stop.wait(options["health_every"]):
                health.alive(supervisor.connected_readers(), at=timezone.now())
                self._record(health, drops)
                if options["run_for"] and (timezone.now() - started).total_seconds() >= options["run_for"]:
                    break
        except KeyboardInterrupt:
            pass
        stuck = supervisor.stop()
        self._record(health, drops)
        self.stdout.write("run_readers stopped" + (f"; threads still ending: {', '.join(stuck)}" if stuck else ""))

    def _record(self, health: HealthTracker, drops: DropCounter) -> None:
        states, changes = health.snapshot(timezone.now())
        per_reader = {state.reader_id: drops.counts(state.reader_id) for state in states}
        reader_health_record(states=states, drops=per_reader, changes=changes)
        online = sum(state.state == "online" for state in states)
        rate = sum(state.reads_per_s for state in states)
        self.stdout.write(f"readers online {online}/{len(states)}, {rate:,.0f} reads/s, {drops.total()} dropped")
