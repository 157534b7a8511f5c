"""Run many adapters at once, one thread each; restart a failing one with backoff; never let one
reader's trouble stop the others. No Django: `manage.py run_readers` wires it to the database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from readers.adapters.backoff import Backoff
from readers.adapters.base import ReaderAdapter, ReaderError, ReaderSettings
from readers.drops import DropCounter
from readers.health import HealthTracker
from readers.reads import TagRead, utc_now

logger = logging.getLogger(__name__)

Sink = Callable[[list[TagRead]], None]


@dataclass(frozen=True)
class AdapterSpec:
    """One adapter to run, and the readers whose reads it delivers (one TCP reader, or every gateway
    of one format behind an MQTT broker)."""

    adapter: type[ReaderAdapter]
    settings: ReaderSettings
    reader_ids: tuple[str, ...]


class Supervisor:
    def __init__(
        self, specs: list[AdapterSpec], *, sink: Sink, drops: DropCounter, health: HealthTracker,
        backoff: Callable[[], Backoff] = Backoff,
    ) -> None:
        self.specs = specs
        self.sink = sink
        self.drops = drops
        self.health = health
        self.sink_failures = 0
        self._backoff = backoff
        self._stopping = threading.Event()
        self._running: dict[str, ReaderAdapter] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for spec in self.specs:
            thread = threading.Thread(target=self._run, args=(spec,), name=f"reader-{spec.settings.code}", daemon=True)
            thread.start()
            self._threads.append(thread)
        logger.info("supervising %d adapters for %d readers", len(self.specs),
                    sum(len(spec.reader_ids) for spec in self.specs))

    def stop(self, timeout_s: float = 5.0) -> list[str]:
        """Stop every adapter; returns the names of threads that did not end within timeout_s."""
        self._stopping.set()
        with self._lock:
            for adapter in self._running.values():
                adapter.stop()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0.0))
        return [thread.name for thread in self._threads if thread.is_alive()]

    def connected_readers(self) -> list[str]:
        """Readers whose adapter holds a working link right now (online even with no tag in the field)."""
        with self._lock:
            adapters = list(self._running.values())
        by_code = {spec.settings.code: spec.reader_ids for spec in self.specs}
        return [reader_id for adapter in adapters if adapter.connected.is_set()
                for reader_id in by_code.get(adapter.settings.code, ())]

    def _run(self, spec: AdapterSpec) -> None:
        backoff = self._backoff()
        while not self._stopping.is_set():
            try:
                adapter = spec.adapter(spec.settings, drops=self.drops)  # may refuse its settings
                adapter.alive = self._alive
                with self._lock:
                    self._running[spec.settings.code] = adapter
                if self._stopping.is_set():
                    return
                for batch in adapter.batches():
                    self.health.record(batch, received_at=utc_now())
                    self._deliver(batch)
                    backoff.reset()
                if self._stopping.is_set():
                    return
                problem = "the adapter ended on its own"
            except ReaderError as exc:
                problem = str(exc)
                if exc.permanent:
                    logger.error("reader %s: %s; not retrying", spec.settings.code, exc)
                    self.health.error(spec.reader_ids, problem)
                    return
            except Exception as exc:  # one adapter's bug must not stop the other readers
                logger.exception("reader %s: adapter failed", spec.settings.code)
                problem = f"{type(exc).__name__}: {exc}"
            self.health.error(spec.reader_ids, problem)
            delay_s = backoff.next_delay_s()
            logger.warning("reader %s: %s; restarting in %.1f s", spec.settings.code, problem, delay_s)
            self._stopping.wait(delay_s)

    def _alive(self, reader_ids: Collection[str]) -> None:
        """An adapter heard from these readers without a read (a BLE gateway's idle upload): they are up."""
        self.health.alive(reader_ids, at=utc_now())

    def _deliver(self, batch: list[TagRead]) -> None:
        try:
            self.sink(batch)
        except Exception:  # a failing consumer is counted and logged; the readers go on
            self.sink_failures += 1
            logger.exception("sink failed on %d reads", len(batch))
