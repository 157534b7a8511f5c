"""A tiny registry of periodic jobs, so workflows add timers without owning a thread.

    # infusion/apps.py
    def ready(self) -> None:
        from alerts.periodic import register
        register("infusion", 5.0, infusion_tick)

`PeriodicRunner(...).run(stop)` runs every registered job on its own thread (a slow webhook endpoint
never delays escalation), calls it with timezone.now() every `every_s` seconds, closes stale database
connections around each run, logs and counts failures, and never dies. `manage.py run_alerts` runs it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import close_old_connections, connection
from django.utils import timezone

logger = logging.getLogger(__name__)

Job = Callable[[datetime], object]


@dataclass
class PeriodicJob:
    name: str
    every_s: float
    job: Job
    runs: int = 0
    failures: int = 0
    last_error: str = ""
    last_duration_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


_jobs: dict[str, PeriodicJob] = {}
_registry_lock = threading.Lock()


def register(name: str, every_s: float, job: Job) -> None:
    """Add (or replace, by name) a job run every `every_s` seconds."""
    if every_s <= 0:
        raise ValueError(f"every_s must be > 0, got {every_s}")
    with _registry_lock:
        _jobs[name] = PeriodicJob(name=name, every_s=every_s, job=job)


def unregister(name: str) -> None:
    with _registry_lock:
        _jobs.pop(name, None)


def registered() -> dict[str, PeriodicJob]:
    with _registry_lock:
        return dict(_jobs)


class PeriodicRunner:
    """Runs jobs (default: every registered one) until `stop` is set."""

    def __init__(self, jobs: list[PeriodicJob] | None = None) -> None:
        self.jobs = list(registered().values()) if jobs is None else jobs

    def run_once(self, job: PeriodicJob) -> bool:
        """One run of one job; True if it succeeded. Never raises."""
        close_old_connections()
        started = time.monotonic()
        try:
            job.job(timezone.now())
        except Exception as error:  # a failing job is logged and counted; the runner goes on
            with job.lock:
                job.failures += 1
                job.last_error = f"{type(error).__name__}: {error}"[:500]
            logger.exception("periodic job %s failed", job.name)
            return False
        finally:
            with job.lock:
                job.runs += 1
                job.last_duration_s = time.monotonic() - started
            close_old_connections()
        return True

    def _loop(self, job: PeriodicJob, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                self.run_once(job)
                stop.wait(max(0.0, job.every_s - (time.monotonic() - started)))
        finally:
            connection.close()  # this thread's own connection

    def run(self, stop: threading.Event) -> None:
        """Blocks until `stop` is set, then waits for the jobs' threads to finish their current run."""
        threads = [threading.Thread(target=self._loop, args=(job, stop), name=f"periodic-{job.name}", daemon=True)
                   for job in self.jobs]
        for thread in threads:
            thread.start()
        logger.info("periodic runner started: %s", ", ".join(f"{j.name} every {j.every_s:g} s" for j in self.jobs))
        stop.wait()
        for thread in threads:
            thread.join(timeout=30)

    def stats(self) -> dict[str, dict[str, object]]:
        return {job.name: {"every_s": job.every_s, "runs": job.runs, "failures": job.failures,
                           "last_error": job.last_error, "last_duration_s": round(job.last_duration_s, 4)}
                for job in self.jobs}
