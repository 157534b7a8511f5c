"""Where `run_readers` sends what its adapters read.

    FloorStreamSink  each read to the Redis stream of its reader's floor, "hospital_iot:reads:floor:<id>",
                     which the locate workers consume (tracking.pipeline.bus.RedisStreamBus)
    RedisStreamSink  every read to one stream (a tap for tools and tests)
    LogSink          one log line per read (`run_readers --sink log`)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

import redis

from readers.codec import read_to_fields
from readers.drops import DropCounter, DropReason
from readers.reads import TagRead

logger = logging.getLogger(__name__)

READS_STREAM = "hospital_iot:reads"
STREAM_MAXLEN = 200_000  # about a minute of a large hospital; consumers that fall further behind lose reads
FLOOR_STREAM = "hospital_iot:reads:floor:{floor_id}"
FLOOR_STREAM_MAXLEN = 200_000  # per floor


def floor_stream(floor_id: int) -> str:
    return FLOOR_STREAM.format(floor_id=floor_id)


class FloorStreamSink:
    """Appends each read to its reader's floor stream (one pipelined round trip per batch, each stream
    trimmed to about `maxlen`). Reads of readers with no known floor are dropped and counted."""

    def __init__(self, client: redis.Redis, *, reader_floor: Mapping[str, int], drops: DropCounter,
                 maxlen: int = FLOOR_STREAM_MAXLEN) -> None:
        self.client, self.drops, self.maxlen = client, drops, maxlen
        self._reader_floor = dict(reader_floor)
        self._lock = threading.Lock()
        self.written = 0

    def routes(self, reader_floor: Mapping[str, int]) -> None:
        """Replace the reader -> floor table (a reader added or moved since the start)."""
        with self._lock:
            self._reader_floor = dict(reader_floor)

    def __call__(self, batch: list[TagRead]) -> None:
        with self._lock:
            table = self._reader_floor
        pipe = self.client.pipeline(transaction=False)
        written = 0
        for read in batch:
            floor_id = table.get(read.reader_id)
            if floor_id is None:
                self.drops.drop(DropReason.UNKNOWN_READER, reader_id=read.reader_id, detail="reader has no floor")
                continue
            pipe.xadd(floor_stream(floor_id), read_to_fields(read), maxlen=self.maxlen,  # type: ignore[arg-type]
                      approximate=True)
            written += 1
        if written:
            pipe.execute()
        self.written += written


class RedisStreamSink:
    """Appends every read to one Redis stream (pipelined per batch, trimmed to about STREAM_MAXLEN)."""

    def __init__(self, client: redis.Redis, *, stream: str = READS_STREAM, maxlen: int = STREAM_MAXLEN) -> None:
        self.client = client
        self.stream = stream
        self.maxlen = maxlen
        self.written = 0

    def __call__(self, batch: list[TagRead]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for read in batch:
            pipe.xadd(self.stream, read_to_fields(read), maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
        pipe.execute()
        self.written += len(batch)


class LogSink:
    """Writes each read as one log line (for `run_readers --show`)."""

    def __call__(self, batch: list[TagRead]) -> None:
        for read in batch:
            logger.info("%s %s %s rssi=%s ant=%s range=%s", read.seen_at.isoformat(timespec="milliseconds"),
                        read.reader_id, read.tag_id, read.rssi_dbm, read.antenna, read.range_m)
