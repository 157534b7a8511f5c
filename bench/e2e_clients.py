"""Browsers for the end-to-end benchmark: many websocket clients on the floors' live position streams.

Runs as its own process (`python -m bench.e2e_clients PLAN.json`). Every client logs in with a session
cookie, opens ws/floors/<id>/, and counts what it receives (messages, bytes, gaps in `seq`). `sampled`
of them also decode every positions message and record, per fix, read-to-browser latency: the moment
the message arrived minus the fix's `seen_at` (the time of the reads it was computed from). Decoding
every message in all clients would make this process, not the system, the bottleneck on a small machine.

PLAN.json: {"url": "ws://127.0.0.1:PORT", "origin": "http://127.0.0.1:PORT", "cookie": "sessionid=...",
            "floors": [ids], "clients": 200, "sampled": 20, "duration_s": 600, "warmup_s": 10}
Prints one JSON line: {"connected", "failed", "messages", "bytes", "seq_gaps", "snapshots",
                       "latency_ms": {"p50", "p90", "p99", "max", "n"}, "fixes_seen", "cpu_s",
                       "latency_by_minute_ms": [{"minute", "p50", "p90", "p99", "max", "n"}, ...]}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from websockets.asyncio.client import connect


@dataclass
class Tally:
    connected: int = 0
    failed: int = 0
    messages: int = 0
    bytes: int = 0
    seq_gaps: int = 0
    snapshots: int = 0
    fixes_seen: int = 0
    # per positions message: its `at` (the window's output was made) to its arrival here
    delivery_s: list[float] = field(default_factory=list)
    # read-to-browser latency of every fix seen, by minute of the run (from the end of the warm-up), so that
    # drift over a long run shows
    latency_by_minute_s: dict[int, list[float]] = field(default_factory=dict)


async def client(plan: dict[str, Any], floor_id: int, sampled: bool, tally: Tally, stop_at: float) -> None:
    url = f"{plan['url']}/ws/floors/{floor_id}/"
    headers = {"Cookie": plan["cookie"]}
    measure_after = time.time() + plan["warmup_s"]
    try:
        async with connect(url, additional_headers=headers, origin=plan["origin"], max_size=None,
                           open_timeout=30) as ws:
            tally.connected += 1
            last_seq: int | None = None
            while (left_s := stop_at - time.time()) > 0:
                try:
                    text = await asyncio.wait_for(ws.recv(), timeout=left_s)
                except TimeoutError:
                    break
                arrived_s = time.time()
                tally.messages += 1
                tally.bytes += len(text)
                if not sampled:
                    continue
                message = json.loads(text)
                if message.get("type") == "snapshot":
                    tally.snapshots += 1
                if message.get("type") != "positions":
                    continue
                seq = message["seq"]
                if last_seq is not None and seq > last_seq + 1:
                    tally.seq_gaps += seq - last_seq - 1
                last_seq = seq
                if sampled and arrived_s >= measure_after:
                    # a fix was seen age_ms before the frame's `at` (docs/realtime.md)
                    frame_age_s = arrived_s - datetime.fromisoformat(message["at"]).timestamp()
                    tally.delivery_s.append(frame_age_s)
                    age = message["fields"].index("age_ms")
                    latencies_s = [frame_age_s + row[age] / 1000.0 for row in message["fixes"]]
                    minute = int((arrived_s - measure_after) // 60.0)
                    tally.latency_by_minute_s.setdefault(minute, []).extend(latencies_s)
                    tally.fixes_seen += len(message["fixes"])
    except (OSError, TimeoutError, ValueError) as error:  # refused, handshake rejected
        tally.failed += 1
        sys.stderr.write(f"client on floor {floor_id}: {error!r}\n")


def _stats(samples_s: list[float]) -> dict[str, float]:
    ms = np.asarray(samples_s) * 1000.0
    if not len(ms):
        return {"n": 0}
    return {"p50": float(np.percentile(ms, 50)), "p90": float(np.percentile(ms, 90)),
            "p99": float(np.percentile(ms, 99)), "max": float(ms.max()), "n": len(ms)}


async def main(plan: dict[str, Any]) -> dict[str, Any]:
    tally = Tally()
    stop_at = time.time() + plan["duration_s"]
    floors = plan["floors"]
    tasks = []
    for i in range(plan["clients"]):
        tasks.append(asyncio.create_task(client(plan, floors[i % len(floors)], i < plan["sampled"], tally, stop_at)))
        await asyncio.sleep(0.01)  # do not open 200 sockets in one burst
    await asyncio.gather(*tasks)
    every_s = [s for samples in tally.latency_by_minute_s.values() for s in samples]
    stats, delivery = _stats(every_s), _stats(tally.delivery_s)
    return {"connected": tally.connected, "failed": tally.failed, "messages": tally.messages, "bytes": tally.bytes,
            "seq_gaps": tally.seq_gaps, "snapshots": tally.snapshots, "fixes_seen": tally.fixes_seen,
            "latency_ms": stats, "delivery_ms": delivery, "cpu_s": time.process_time(),
            "latency_by_minute_ms": [{"minute": minute} | _stats(samples)
                                     for minute, samples in sorted(tally.latency_by_minute_s.items())]}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        result = asyncio.run(main(json.load(f)))
    sys.stdout.write(json.dumps(result) + "\n")
