"""Where `run_readers` sends what its adapters read."""

from __future__ import annotations

import logging

import redis

from readers.codec import read_to_fields
from readers.reads import TagRead

logger = logging.getLogger(__name__)

READS_STREAM = "hospital_iot:reads"
STREAM_MAXLEN = 200_000  # about a minute of a large hospital; consumers that fall further behind lose reads


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
