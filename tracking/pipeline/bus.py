"""How reads get from the readers to the pipeline: in-process on one machine, Redis Streams across many.

    InProcessBus    the supervisor's sink puts batches in a bounded queue; the pipeline thread takes them.
    RedisStreamBus  a locate worker's side of the floor streams "hospital_iot:reads:floor:<id>" (the reader
                    process appends each read to its reader's floor; readers.sinks.FloorStreamSink): floors
                    are leased (tracking.pipeline.leases), read through the consumer group "rtls", and
                    acknowledged only after their window committed. A floor taken over from a dead worker
                    starts with that worker's pending entries (XAUTOCLAIM), so at-least-once delivery plus
                    idempotent writes give exactly once in effect.

Both report their lag: entries waiting (queued, undelivered or delivered-but-unacknowledged) and the age of
the oldest of them, so back-pressure shows in the metrics instead of being silent.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

from readers.codec import read_from_fields
from readers.reads import TagRead
from readers.sinks import floor_stream
from tracking.pipeline.leases import FloorLeases

logger = logging.getLogger(__name__)

GROUP = "rtls"


@dataclass(frozen=True)
class Delivery:
    """Reads taken off the bus together; `ids` are their stream entry ids (empty in-process)."""

    reads: list[TagRead]
    floor_id: int | None = None
    ids: tuple[bytes, ...] = ()
    redelivered: bool = False
    bad: int = 0  # entries that could not be decoded (acknowledged with the others, counted as drops)
    queued_at_s: float | None = None  # Unix time its first read was put on the bus (the window counts from it)


@dataclass
class FloorChanges:
    acquired: set[int] = field(default_factory=set)
    lost: set[int] = field(default_factory=set)
    surplus: set[int] = field(default_factory=set)


class Bus(Protocol):
    def poll(self, timeout_s: float) -> list[Delivery]: ...

    def ack(self, deliveries: Sequence[Delivery]) -> None: ...

    def maintain(self, floors: Iterable[int]) -> FloorChanges: ...

    def owned(self) -> set[int] | None: ...  # None: every floor

    def still_owns(self, floor_id: int) -> bool: ...

    def release(self, floor_ids: Iterable[int]) -> None: ...

    def lag(self) -> tuple[int, float]: ...

    def close(self) -> None: ...


def _entry_time_s(entry_id: bytes | str) -> float | None:
    """A stream entry id "<ms>-<seq>" -> the Unix time Redis added it."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, _ = text.partition("-")
    return int(ms) / 1000.0 if ms.isdigit() else None


class InProcessBus:
    """A bounded queue of read batches between the readers' threads and the pipeline thread.

    When max_reads are waiting, put() waits up to put_timeout_s (slowing the adapter down, which the
    lag shows) and then drops the batch, counted in `overflow`.
    """

    def __init__(self, *, max_reads: int = 200_000, put_timeout_s: float = 1.0) -> None:
        self.max_reads, self.put_timeout_s = max_reads, put_timeout_s
        self.overflow = 0
        self._queue: collections.deque[tuple[float, list[TagRead]]] = collections.deque()
        self._waiting = 0
        self._cond = threading.Condition()

    def put(self, batch: list[TagRead]) -> None:
        """The supervisor's sink."""
        if not batch:
            return
        with self._cond:
            if not self._cond.wait_for(lambda: self._waiting < self.max_reads, timeout=self.put_timeout_s):
                self.overflow += len(batch)
                logger.warning("pipeline queue full (%d reads waiting): dropped %d reads", self._waiting, len(batch))
                return
            self._queue.append((time.time(), batch))
            self._waiting += len(batch)
            self._cond.notify_all()

    __call__ = put

    def poll(self, timeout_s: float) -> list[Delivery]:
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._queue), timeout=max(timeout_s, 0.0)):
                return []
            batches = list(self._queue)
            self._queue.clear()
            self._waiting = 0
            self._cond.notify_all()
        return [Delivery(reads, queued_at_s=queued_at_s) for queued_at_s, reads in batches]

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        pass

    def maintain(self, floors: Iterable[int]) -> FloorChanges:
        return FloorChanges()

    def owned(self) -> set[int] | None:
        return None

    def still_owns(self, floor_id: int) -> bool:
        return True

    def release(self, floor_ids: Iterable[int]) -> None:
        pass

    def lag(self) -> tuple[int, float]:
        with self._cond:
            oldest = self._queue[0][0] if self._queue else None
            return self._waiting, (time.time() - oldest) if oldest is not None else 0.0

    def close(self) -> None:
        pass


class RedisStreamBus:
    def __init__(self, client: redis.Redis, *, worker: str, lease_ttl_s: float = 10.0, count: int = 5000,
                 maxlen_claim: int = 1000) -> None:
        self.client, self.worker, self.count, self.claim_count = client, worker, count, maxlen_claim
        self.leases = FloorLeases(client, worker=worker, ttl_s=lease_ttl_s)
        self.trimmed = 0  # pending entries trimmed from a stream before they were processed
        self._claimed: collections.deque[Delivery] = collections.deque()
        self._groups: set[str] = set()

    def maintain(self, floors: Iterable[int]) -> FloorChanges:
        acquired, lost, surplus = self.leases.maintain(floors)
        for floor_id in sorted(acquired):
            self._group_ensure(floor_stream(floor_id))
            self._claim(floor_id)
        if lost:
            self._claimed = collections.deque(d for d in self._claimed if d.floor_id not in lost)
            logger.warning("worker %s lost the lease of floors %s", self.worker, sorted(lost))
        if acquired:
            logger.info("worker %s took floors %s", self.worker, sorted(acquired))
        return FloorChanges(acquired, lost, surplus)

    def owned(self) -> set[int] | None:
        return set(self.leases.held)

    def still_owns(self, floor_id: int) -> bool:
        return self.leases.holds(floor_id)

    def release(self, floor_ids: Iterable[int]) -> None:
        floors = list(floor_ids)
        self.leases.release(floors)
        self._claimed = collections.deque(d for d in self._claimed if d.floor_id not in floors)
        logger.info("worker %s handed over floors %s", self.worker, sorted(floors))

    def _group_ensure(self, stream: str) -> None:
        if stream in self._groups:
            return
        try:  # from the start of the stream: reads appended before any worker ran are not skipped
            self.client.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(stream)

    def _claim(self, floor_id: int) -> None:
        """Take over every pending entry of the floor's stream (a dead or departed worker's, or ours
        from before a restart): they are processed before anything new."""
        stream, start = floor_stream(floor_id), "0-0"
        while True:
            reply: Any = self.client.xautoclaim(stream, GROUP, self.worker, min_idle_time=0, start_id=start,
                                                count=self.claim_count)
            start, entries = reply[0], reply[1]
            self.trimmed += len(reply[2]) if len(reply) > 2 else 0
            if entries:
                self._claimed.append(self._delivery(floor_id, entries, redelivered=True))
            if start in (b"0-0", "0-0"):
                break

    def poll(self, timeout_s: float) -> list[Delivery]:
        if self._claimed:
            return [self._claimed.popleft()]
        floors = sorted(self.leases.held)
        if not floors:
            time.sleep(max(timeout_s, 0.0))
            return []
        reply: Any = self.client.xreadgroup(GROUP, self.worker, {floor_stream(f): ">" for f in floors},
                                            count=self.count, block=max(int(timeout_s * 1000), 1))
        return [self._delivery(_floor_of(stream), entries) for stream, entries in reply or [] if entries]

    def _delivery(self, floor_id: int, entries: list[Any], *, redelivered: bool = False) -> Delivery:
        reads, bad = [], 0
        for _, fields in entries:
            try:
                reads.append(read_from_fields(fields or {}))
            except (KeyError, ValueError, TypeError):  # a malformed entry costs itself only
                bad += 1
        ids = tuple(entry_id for entry_id, _ in entries)
        return Delivery(reads, floor_id, ids, redelivered, bad, queued_at_s=_entry_time_s(ids[0]) if ids else None)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        by_stream: dict[str, list[bytes]] = collections.defaultdict(list)
        for delivery in deliveries:
            if delivery.floor_id is not None and delivery.ids:
                by_stream[floor_stream(delivery.floor_id)].extend(delivery.ids)
        if by_stream:
            pipe = self.client.pipeline(transaction=False)
            for stream, ids in by_stream.items():
                pipe.xack(stream, GROUP, *ids)
            pipe.execute()

    def lag(self) -> tuple[int, float]:
        """(entries not yet acknowledged, age in s of the oldest of them) over this worker's floors."""
        entries, oldest_ms = 0, None
        for floor_id in sorted(self.leases.held):
            stream = floor_stream(floor_id)
            group = next((g for g in self.client.xinfo_groups(stream) if _text(g["name"]) == GROUP), None)
            if group is None:
                continue
            entries += int(group.get("lag") or 0) + int(group["pending"])
            candidates = []
            if int(group["pending"]):
                summary: Any = self.client.xpending(stream, GROUP)
                candidates.append(summary["min"])
            if int(group.get("lag") or 0):
                after: Any = self.client.xrange(stream, min=f"({_text(group['last-delivered-id'])}", count=1)
                candidates += [entry_id for entry_id, _ in after]
            for entry_id in candidates:
                ms = int(_text(entry_id).split("-")[0])
                oldest_ms = ms if oldest_ms is None else min(oldest_ms, ms)
        return entries, (time.time() - oldest_ms / 1000.0) if oldest_ms is not None else 0.0

    def close(self) -> None:
        self.leases.release_all()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _floor_of(stream: Any) -> int:
    return int(_text(stream).rsplit(":", 1)[1])
