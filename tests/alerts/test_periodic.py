"""The periodic-job registry and runner: jobs run on their period, a failing job is counted and the
others go on, stop ends it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from alerts import periodic
from alerts.periodic import PeriodicJob, PeriodicRunner, register, registered, unregister


def _wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def runner_thread() -> Iterator[Callable[[PeriodicRunner], threading.Event]]:
    started: list[tuple[threading.Thread, threading.Event]] = []

    def start(runner: PeriodicRunner) -> threading.Event:
        stop = threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
        thread.start()
        started.append((thread, stop))
        return stop

    yield start
    for thread, stop in started:
        stop.set()
        thread.join(timeout=5)


def test_alerts_registers_its_escalation_and_webhook_jobs() -> None:
    jobs = registered()
    assert jobs["alerts.escalation"].every_s == 1.0 and jobs["alerts.webhooks"].every_s == 1.0


def test_register_replaces_by_name_and_refuses_a_zero_period() -> None:
    register("test.job", 5.0, lambda now: None)
    register("test.job", 2.0, lambda now: None)
    assert registered()["test.job"].every_s == 2.0
    unregister("test.job")
    assert "test.job" not in registered()
    with pytest.raises(ValueError):
        register("test.job", 0, lambda now: None)


@pytest.mark.django_db
def test_a_failing_job_is_counted_and_never_stops_the_others(runner_thread: Callable[..., threading.Event]) -> None:
    calls: list[datetime] = []

    def broken(now: datetime) -> None:
        raise RuntimeError("disk on fire")

    good = PeriodicJob(name="good", every_s=0.02, job=calls.append)
    bad = PeriodicJob(name="bad", every_s=0.02, job=broken)
    runner = PeriodicRunner([good, bad])
    stop = runner_thread(runner)
    assert _wait_until(lambda: len(calls) >= 5 and bad.failures >= 5)
    stop.set()
    stats = runner.stats()
    assert stats["bad"]["last_error"] == "RuntimeError: disk on fire"
    assert stats["good"]["failures"] == 0
    assert all(call.tzinfo is not None for call in calls)  # given an aware now


@pytest.mark.django_db
def test_a_slow_job_does_not_delay_a_fast_one(runner_thread: Callable[..., threading.Event]) -> None:
    release = threading.Event()
    fast_calls: list[datetime] = []
    slow = PeriodicJob(name="slow", every_s=0.01, job=lambda now: release.wait(5))
    fast = PeriodicJob(name="fast", every_s=0.01, job=fast_calls.append)
    stop = runner_thread(PeriodicRunner([slow, fast]))
    assert _wait_until(lambda: len(fast_calls) >= 10)
    release.set()
    stop.set()


def test_the_runner_takes_every_registered_job_by_default() -> None:
    assert {job.name for job in PeriodicRunner().jobs} == set(periodic.registered())
