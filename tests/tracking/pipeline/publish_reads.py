"""The reader process of the Redis Streams test: publishes a planned sequence of reads, step by step in
real time, through the reader role's sink (readers.sinks.FloorStreamSink). No Django.

    python -m tests.tracking.pipeline.publish_reads PLAN.json
PLAN.json: {"redis_url", "reader_floor": {code: floor id}, "pace_s", "steps": [[{"tag", "reader", "antenna",
            "rssi_dbm", "t_s"}, ...], ...]}
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import redis

from readers.drops import DropCounter
from readers.reads import TagRead, Tech
from readers.sinks import FloorStreamSink


def main(plan: dict[str, Any]) -> int:
    sink = FloorStreamSink(redis.Redis.from_url(plan["redis_url"]), drops=DropCounter(),
                           reader_floor=plan["reader_floor"])
    started = time.monotonic()
    for i, step in enumerate(plan["steps"]):
        time.sleep(max(started + i * float(plan["pace_s"]) - time.monotonic(), 0.0))
        sink([TagRead(r["tag"], r["reader"], Tech.RFID, datetime.fromtimestamp(r["t_s"], UTC), rssi_dbm=r["rssi_dbm"],
                      antenna=r["antenna"]) for r in step])
    sys.stdout.write(json.dumps({"written": sink.written}) + "\n")
    return 0


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.exit(main(json.load(f)))
