"""The pipeline loop: windows of reads -> engines per floor -> store -> (after commit) acks, frames, events.

One thread runs it. Every window: take what the bus delivers for at most window_s, turn it into arrays
once, route it by floor, run each floor's engine, build the store batches, frames and events, and hand
them to the committer; acknowledging the reads, sending the frames and publishing the events wait for
the commit. A failing stage is logged with its name and the window goes on without it (STYLE
"run_window"); a failing floor costs that floor's part of the window only.

Housekeeping, about once a second: reload the configuration when due, renew/take/hand over floor leases,
build or drop engines to match, age out silent tags, measure the lag, retry buffered writes, and send each
floor's heartbeat every heartbeat_s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import redis

from readers.reads import TagRead
from tracking.pipeline.bus import Bus, Delivery, FloorChanges
from tracking.pipeline.commit import Committer, WindowWrite
from tracking.pipeline.config import ConfigSource, FloorSeed
from tracking.pipeline.engine import EngineConfig, FloorEngine, FloorStep
from tracking.pipeline.events import DomainEvent, StatusWatch, publish
from tracking.pipeline.floorchoice import floors_choose
from tracking.pipeline.frames import Sender, floor_group, heartbeat_text
from tracking.pipeline.layout import RtlsConfig
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.outputs import WindowOutput, window_output
from tracking.pipeline.windows import FloorReads, ReadArrays, collect_window, route, time_slices
from tracking.store.gate import HistoryGate

logger = logging.getLogger(__name__)

T = TypeVar("T")
DROP_LOG_EVERY_S = 10.0


@dataclass(frozen=True)
class WorkerSettings:
    name: str = "rtls"
    window_s: float = 0.1
    # a window also closes when no read came for this long (None: it always lasts window_s)
    quiet_s: float | None = 0.02
    max_window_reads: int = 50_000
    housekeeping_s: float = 1.0
    heartbeat_s: float = 5.0
    floor_margin_db: float = 6.0
    history_min_move_m: float = 1.0
    history_still_every_s: float = 30.0
    engine: EngineConfig = field(default_factory=EngineConfig)


class PipelineWorker:
    def __init__(self, *, bus: Bus, source: ConfigSource, committer: Committer, metrics: PipelineMetrics,
                 sender: Sender | None = None, settings: WorkerSettings | None = None,
                 seed: Callable[[int], FloorSeed] | None = None) -> None:
        self.bus, self.source, self.committer, self.metrics, self.sender = bus, source, committer, metrics, sender
        self.settings = settings or WorkerSettings()
        self.seed = seed
        self.engines: dict[int, FloorEngine] = {}
        self.tag_floor: dict[str, int] = {}  # the floor each tag was last located on
        self.seq: dict[int, int] = {}
        self.described: dict[int, dict[str, float]] = {}  # per floor: tag -> when its frames last named it
        self.status = StatusWatch()
        self.gate = HistoryGate(min_move_m=self.settings.history_min_move_m,
                                still_every_s=self.settings.history_still_every_s)
        self.stage_failures: Counter[str] = Counter()
        self._carried: list[FloorStep] = []  # age-outs and departures found between windows
        self._unlogged: Counter[str] = Counter()
        self._drops_logged_at = -DROP_LOG_EVERY_S
        self._next_housekeeping_s = 0.0
        self._next_heartbeat_s = 0.0

    def run(self, stop: threading.Event) -> None:
        """Windows until `stop` is set; then the reads already taken are committed and acknowledged."""
        logger.info("pipeline worker %s running (window %.0f ms)", self.settings.name, self.settings.window_s * 1000)
        while not stop.is_set():
            self.tick()
        self.drain()

    def tick(self) -> None:
        if time.monotonic() >= self._next_housekeeping_s:
            self._stage("housekeeping", self.housekeeping)
        try:
            deliveries = collect_window(self.bus.poll, window_s=self.settings.window_s,
                                        max_size=self.settings.max_window_reads, size=lambda d: len(d.reads),
                                         queued_at_s=lambda d: d.queued_at_s, quiet_s=self.settings.quiet_s)
        except (redis.RedisError, OSError) as exc:  # the bus is away: wait a little, try again
            self.stage_failures["poll"] += 1
            logger.warning("could not read the bus (%s); retrying in 1 s", exc)
            time.sleep(1.0)
            return
        if deliveries or self._carried:
            self._stage("window", lambda: self.run_window(deliveries))

    def drain(self, timeout_s: float = 10.0) -> None:
        """On the way out: process what is still queued in-process (the readers stopped first), write what is
        buffered (within timeout_s). Stream entries not yet read stay for the floor's next owner."""
        deadline = time.monotonic() + timeout_s
        in_process = self.bus.owned() is None
        while in_process and time.monotonic() < deadline and (deliveries := self.bus.poll(0.0)):
            self.run_window(deliveries)
        if not self.committer.flush(max(deadline - time.monotonic(), 0.5)):
            logger.warning("stopping with %d fixes not written (the database is away)", self.committer.buffered_fixes)
        self._stage("gauges", self._final_gauges)
        self.bus.close()

    def _stage(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a failing stage is logged and counted; the pipeline goes on
            self.stage_failures[name] += 1
            logger.exception("stage %s failed; going on", name)

    # -- one window -------------------------------------------------------------------------------------

    def _guarded(self, name: str, fn: Callable[[], list[T]], what: int) -> list[T]:
        try:
            return fn()
        except Exception:  # the window goes on without this stage's results
            self.stage_failures[name] += 1
            logger.exception("stage %s failed on %d reads; the window goes on without it", name, what)
            return []

    def run_window(self, deliveries: list[Delivery]) -> None:
        started_s = time.perf_counter()
        config = self.source.config
        reads = [read for d in deliveries for read in d.reads]
        steps, self._carried = self._carried, []
        events: list[DomainEvent] = []
        if reads:
            steps += self._guarded("locate", lambda: self._locate(reads, config), len(reads))
            events += self._guarded("status", lambda: self._statuses(reads, config), len(reads))
        deliveries, steps = self._fence(deliveries, steps)
        self._count(deliveries, reads)
        try:
            output = window_output(steps, tags=config.tags, pk_of=config.tag_pk, seq=self.seq, now_s=time.time(),
                                   described=self.described)
            output.events += events
            history = self.gate.select(output.fixes)
        except Exception:  # a window that cannot be written is dropped, counted and acknowledged: no poison
            self.stage_failures["output"] += 1
            self.metrics.drop(Counter({"window_failed": len(reads)}))
            logger.exception("stage output failed; %d reads dropped", len(reads))
            self._stage("ack", lambda: self.bus.ack(deliveries))
            return
        self.committer.submit(WindowWrite(
            fixes=output.fixes, history=history, zone_events=output.zone_events, crossings=output.crossings,
            after=lambda: self._committed(deliveries, output, started_s),
        ))

    def _locate(self, reads: list[TagRead], config: RtlsConfig) -> list[FloorStep]:
        """Route and locate the window's reads, in slices of at most window_s of read time taken in time
        order: a backlog (a floor taken over, a restart) is stepped through as it happened, not as one window."""
        arrays = ReadArrays.from_reads(reads)
        layouts = {f: engine.layout for f, engine in self.engines.items()}
        steps: list[FloorStep] = []
        for rows in time_slices(arrays.t_s, self.settings.window_s):
            routed, drops = route(arrays.take(rows), config, floors=layouts)
            self._dropped(drops)
            routed, _ = floors_choose(routed, self.tag_floor, margin_db=self.settings.floor_margin_db)
            for step in self._step_floors(routed):
                steps.append(step)
                steps += self._moved(step)
        return steps

    def _step_floors(self, routed: dict[int, FloorReads]) -> list[FloorStep]:
        """Each floor's engine on its reads; one floor's failure costs that floor's reads of this slice only.
        (Floors side by side in threads gained nothing on a loaded 2-core machine; measured, left out.)"""
        steps = []
        for floor_id, floor_reads in sorted(routed.items()):
            try:
                steps.append(self.engines[floor_id].step(floor_reads))
            except Exception:
                self.stage_failures[f"engine:{floor_id}"] += 1
                logger.exception("floor %s: engine failed on %d reads", floor_id, len(floor_reads))
        return steps

    def _dropped(self, drops: Counter[str]) -> None:
        """Count reads that cannot be used; log them, at most once every DROP_LOG_EVERY_S."""
        if not drops:
            return
        self.metrics.drop(drops)
        self._unlogged.update(drops)
        if time.monotonic() - self._drops_logged_at >= DROP_LOG_EVERY_S:
            self._drops_logged_at = time.monotonic()
            logger.warning("reads dropped since the last report: %s",
                           ", ".join(f"{reason} {n}" for reason, n in sorted(self._unlogged.items())))
            self._unlogged.clear()

    def _moved(self, step: FloorStep) -> list[FloorStep]:
        """Tags located on this floor that were on another floor of this worker leave that floor."""
        departed: dict[int, list[str]] = {}
        for tag in step.fixes.tag_id.tolist():
            previous = self.tag_floor.get(tag)
            if previous != step.floor_id:
                self.tag_floor[tag] = step.floor_id
                if previous is not None and previous in self.engines:
                    departed.setdefault(previous, []).append(tag)
        return [self.engines[f].depart(tags) for f, tags in departed.items()]

    def _statuses(self, reads: list[TagRead], config: RtlsConfig) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for read in reads:
            if read.status is not None and (pk := config.tag_pk.get(read.tag_id)) is not None:
                event = self.status.update(read.tag_id, pk, read.status, read.seen_at)
                if event is not None:
                    events.append(event)
        return events

    def _fence(self, deliveries: list[Delivery], steps: list[FloorStep]) -> tuple[list[Delivery], list[FloorStep]]:
        """Leave out floors whose lease was lost since the window began: their results are not written and
        their reads not acknowledged (the floor's new owner processes them)."""
        if self.bus.owned() is None:
            return deliveries, steps
        floors = {d.floor_id for d in deliveries if d.floor_id is not None} | {s.floor_id for s in steps}
        lost = {f for f in floors if not self.bus.still_owns(f)}
        if not lost:
            return deliveries, steps
        logger.warning("floors %s changed owner during a window; leaving their reads to the new owner", sorted(lost))
        self._floors_drop(lost)
        return [d for d in deliveries if d.floor_id not in lost], [s for s in steps if s.floor_id not in lost]

    def _count(self, deliveries: list[Delivery], reads: list[TagRead]) -> None:
        with self.metrics.lock:
            self.metrics.reads_total += len(reads)
            self.metrics.redelivered_total += sum(len(d.reads) for d in deliveries if d.redelivered)
            bad = sum(d.bad for d in deliveries)
            if bad:
                self.metrics.drops["undecodable"] += bad

    def _committed(self, deliveries: list[Delivery], output: WindowOutput, started_s: float) -> None:
        """After the window's write committed: acknowledge, announce, count."""
        self._stage("ack", lambda: self.bus.ack(deliveries))
        if self.sender is not None:
            for group, text in output.frames:
                self.sender.send(group, text)
        failed = publish(output.events)
        now_s = time.time()
        with self.metrics.lock:
            self.metrics.windows_total += 1
            self.metrics.fixes_total += len(output.fixes)
            self.metrics.frames_total += len(output.frames)
            self.metrics.event_handler_failures_total += failed
            self.metrics.window_latency_s.observe(time.perf_counter() - started_s)
            self.metrics.read_to_fix_latency_s.observe_many(now_s - output.fixes.seen_at_s)

    # -- housekeeping ---------------------------------------------------------------------------------

    def housekeeping(self) -> None:
        self._next_housekeeping_s = time.monotonic() + self.settings.housekeeping_s
        config = self.source.get()
        changes = self.bus.maintain(config.floors)
        self._floors_sync(config, changes)
        self.committer.retry()
        lag_s = self._gauges()
        # silence is judged as of the oldest read not yet processed: a worker catching up on a backlog does
        # not take the tags of the backlog for silent ones
        now_s = time.time()
        for engine in list(self.engines.values()):
            step = engine.age_out(now_s - lag_s)
            if step:
                self._carried.append(step)
                self._forget(step)
        if self.sender is not None and time.monotonic() >= self._next_heartbeat_s:
            self._next_heartbeat_s = time.monotonic() + self.settings.heartbeat_s
            for floor_id in sorted(self.engines):
                self.sender.send(floor_group(floor_id), heartbeat_text(floor_id=floor_id, at_s=now_s, lag_s=lag_s))

    def _final_gauges(self) -> None:
        self._gauges()

    def _gauges(self) -> float:
        """Measure the lag and the buffer for the metrics; returns the lag in seconds."""
        lag_entries, lag_s = self.bus.lag()
        with self.metrics.lock:
            self.metrics.lag_entries, self.metrics.lag_s = lag_entries, lag_s
            self.metrics.buffered_fixes = self.committer.buffered_fixes
            self.metrics.waited_fixes_total = self.committer.waited_fixes_total
            self.metrics.db_up = self.committer.db_up
            self.metrics.floors = sorted(self.engines)
        return lag_s

    def _floors_sync(self, config: RtlsConfig, changes: FloorChanges) -> None:
        """Engines for exactly the floors this worker owns, each built from the floor's current layout."""
        owned = self.bus.owned()
        wanted = set(config.floors) if owned is None else owned & set(config.floors)
        if changes.surplus and self.committer.buffered_fixes == 0:  # hand over only with nothing in flight
            self.bus.release(changes.surplus)
            wanted -= changes.surplus
        self._floors_drop(set(self.engines) - wanted)
        for floor_id in sorted(wanted):
            layout = config.floors[floor_id]
            engine = self.engines.get(floor_id)
            if engine is None or engine.layout.fingerprint != layout.fingerprint:
                self.engines[floor_id] = self._engine(layout.floor_id, config)

    def _engine(self, floor_id: int, config: RtlsConfig) -> FloorEngine:
        engine = FloorEngine(config.floors[floor_id], self.settings.engine)
        if self.seed is not None:
            try:
                seed = self.seed(floor_id)
                engine.seed(tag_id=seed.tag_id, tech=seed.tech, zone_pk=seed.zone_pk, seen_at_s=seed.seen_at_s)
            except Exception:  # the database may be away: start without the committed state
                logger.exception("floor %s: could not load its committed state; starting fresh", floor_id)
        logger.info("floor %s: engine ready (%d tags carried over)", floor_id, len(engine.last_seen_s))
        return engine

    def _floors_drop(self, floors: set[int]) -> None:
        for floor_id in floors:
            self.engines.pop(floor_id, None)
            self.described.pop(floor_id, None)
        if floors:
            self.tag_floor = {tag: f for tag, f in self.tag_floor.items() if f not in floors}

    def _forget(self, step: FloorStep) -> None:
        for tag in step.left.tolist():
            if self.tag_floor.get(tag) == step.floor_id:
                del self.tag_floor[tag]
        pks = [pk for tag in step.left.tolist() if (pk := self.source.config.tag_pk.get(tag)) is not None]
        self.gate.forget(pks)
        described = self.described.get(step.floor_id, {})
        for tag in step.left.tolist():  # when it comes back, its first frame names it again
            described.pop(tag, None)

