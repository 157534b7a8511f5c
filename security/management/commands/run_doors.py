"""manage.py run_doors: keep the door controllers' rows, door alerts and floor maps in step with the
broker (state and event topics of every controller; docs/doors.md), until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from security.doors.listener import DoorsListener


class Command(BaseCommand):
    help = "Apply the door controllers' state and event messages from MQTT (rows, alerts, floor maps)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.MQTT_HOST, help="MQTT broker host")
        parser.add_argument("--port", type=int, default=settings.MQTT_PORT, help="MQTT broker port")
        parser.add_argument("--status-every", type=float, default=60.0, help="seconds between status lines")
        parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (0: run on)")

    def handle(self, *args: Any, **options: Any) -> None:
        listener = DoorsListener(host=options["host"], port=options["port"])
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        worker = threading.Thread(target=listener.run, args=(stop,), name="run_doors", daemon=True)
        worker.start()
        self.stdout.write(f"run_doors: {', '.join(listener.filters)} on {options['host']}:{options['port']}; "
                          "Ctrl-C stops")
        deadline = time.monotonic() + options["run_for"] if options["run_for"] else float("inf")
        next_status = time.monotonic() + options["status_every"]
        try:
            while worker.is_alive() and not stop.wait(0.5) and time.monotonic() < deadline:
                if time.monotonic() >= next_status:
                    next_status += options["status_every"]
                    self.stdout.write(_status(listener))
        except KeyboardInterrupt:
            pass
        stop.set()
        worker.join(timeout=5)
        self.stdout.write(_status(listener))
        self.stdout.write("run_doors stopped")


def _status(listener: DoorsListener) -> str:
    drops = ", ".join(f"{reason} {n}" for reason, n in sorted(listener.drops.counts().items())) or "none"
    return (f"run_doors: {listener.received} messages, {listener.applied} applied, {listener.ignored} ignored; "
            f"drops: {drops}")
