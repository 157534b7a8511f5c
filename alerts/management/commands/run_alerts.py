"""`manage.py run_alerts`: run the periodic jobs (alert escalation, reminders, webhooks, workflow timers)
until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from alerts.periodic import PeriodicRunner


class Command(BaseCommand):
    help = "Run the registered periodic jobs (alert escalation and reminders, webhook deliveries, ...)."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        runner = PeriodicRunner()
        self.stdout.write("running " + ", ".join(f"{job.name} (every {job.every_s:g} s)" for job in runner.jobs))
        worker = threading.Thread(target=runner.run, args=(stop,), name="periodic-runner")
        worker.start()
        try:
            while worker.is_alive():
                worker.join(timeout=0.5)
        except KeyboardInterrupt:
            stop.set()
            worker.join()
        for name, stats in runner.stats().items():
            self.stdout.write(f"{name}: {stats['runs']} runs, {stats['failures']} failures")
