"""Frames for the live floor maps: one "positions" message per floor per window, a heartbeat every few
seconds per floor; each encoded to JSON once and handed to the channel layer group "floor.<id>" as
{"type": "floor.frame", "text": ...} (the floor consumer relays the text unchanged).

The sender runs its own asyncio loop in a thread, so the pipeline never waits on Redis and the channel
layer keeps one connection pool; frames are sent in the order they were queued.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from tracking.pipeline.engine import FloorFixes
from tracking.pipeline.layout import TagInfo

logger = logging.getLogger(__name__)

FRAME_EVENT = "floor.frame"


def floor_group(floor_id: int) -> str:
    return f"floor.{floor_id}"


def iso_z(t_s: float) -> str:
    """Unix seconds as ISO 8601 UTC with milliseconds and a Z: 2026-11-22T03:40:00.123Z."""
    return datetime.fromtimestamp(t_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# a positions frame's fixes are rows of these columns (the snapshot's fix objects, without what never changes)
FIX_FIELDS = ("tag", "x_m", "y_m", "accuracy_m", "zone", "stationary", "age_ms")
DESCRIBE_EVERY_S = 30.0  # a tag's name, kind and category ride along with its fixes this often per floor


def fix_rows(fixes: FloorFixes, *, at_s: float) -> list[list[Any]]:
    """One row per fix in FIX_FIELDS order (rounding done on the arrays): age_ms = at - seen_at in whole ms,
    stationary 0/1, zone null when in no zone."""
    at_ms = math.floor(at_s * 1000.0)  # as iso_z writes `at`: whole milliseconds, truncated
    age_ms = np.rint(at_ms - fixes.seen_at_s * 1000.0).astype(np.int64)
    zone = [z if z >= 0 else None for z in fixes.zone_pk.tolist()]
    return [list(row) for row in zip(fixes.tag_id.tolist(), np.round(fixes.x_m, 2).tolist(),
                                     np.round(fixes.y_m, 2).tolist(), np.round(fixes.accuracy_m, 2).tolist(), zone,
                                     fixes.stationary.astype(np.int8).tolist(), age_ms.tolist(), strict=True)]


def describe(info: TagInfo) -> dict[str, Any]:
    """What a browser shows of a tag besides its position (a fix object's remaining fields)."""
    return {"object": info.object_pk, "name": info.name, "kind": info.kind, "category": info.category}


def positions_text(*, floor_id: int, seq: int, at_s: float, fixes: FloorFixes, left: list[str],
                   tags: Mapping[str, TagInfo], described: dict[str, float] | None = None) -> str:
    """A positions frame. `described`: tag -> when this floor's frames last described it (updated here);
    a tag in `tags` is described again when it has not been for DESCRIBE_EVERY_S. None: describe every tag."""
    objects: dict[str, dict[str, Any]] = {}
    for tag in fixes.tag_id.tolist():
        info = tags.get(tag)
        if info is None:
            continue
        if described is not None:
            if at_s - described.get(tag, -math.inf) < DESCRIBE_EVERY_S:
                continue
            described[tag] = at_s
        objects[tag] = describe(info)
    return json.dumps({"type": "positions", "floor": floor_id, "seq": seq, "at": iso_z(at_s),
                       "fields": FIX_FIELDS, "fixes": fix_rows(fixes, at_s=at_s), "objects": objects, "left": left},
                      separators=(",", ":"))


def frame_fixes(message: Mapping[str, Any], names: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A positions frame's rows as fix objects like the snapshot's (for Python clients and tests).
    names: tag -> its description, kept across frames (updated from this frame's "objects")."""
    names = {} if names is None else names
    names.update(message.get("objects", {}))
    at_s = datetime.fromisoformat(message["at"]).timestamp()
    fixes = []
    for row in message["fixes"]:
        fix = dict(zip(message["fields"], row, strict=True))
        fix["stationary"] = bool(fix["stationary"])
        fix["seen_at"] = iso_z(at_s - fix.pop("age_ms") / 1000.0)
        fixes.append(fix | names.get(fix["tag"], {"object": None, "name": "", "kind": "", "category": ""}))
    return fixes


def heartbeat_text(*, floor_id: int, at_s: float, lag_s: float) -> str:
    lag = round(lag_s, 3) if math.isfinite(lag_s) else 0.0
    return json.dumps({"type": "heartbeat", "floor": floor_id, "at": iso_z(at_s), "lag_s": lag},
                      separators=(",", ":"))


class Sender(Protocol):
    def send(self, group: str, text: str) -> None: ...


class FrameSender:
    """Sends (group, text) frames through the channel layer from a thread of its own.

    At most max_queued frames wait; beyond that the oldest waiting frames are dropped and counted
    (a browser that misses a frame sees a gap in `seq` and asks for a snapshot).
    """

    def __init__(self, *, max_queued: int = 2000) -> None:
        self.max_queued = max_queued
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, str] | None] | None = None
        self._ready = threading.Event()
        self._logged_at = -math.inf
        self._thread = threading.Thread(target=self._run, name="rtls-frames", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10.0)

    def send(self, group: str, text: str) -> None:
        if self._loop is None or self._loop.is_closed():
            self.dropped += 1
            return
        self._loop.call_soon_threadsafe(self._put, (group, text))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Send what is queued (within timeout_s), then end the thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._put, None)
        self._thread.join(timeout_s)

    def _put(self, item: tuple[str, str] | None) -> None:
        assert self._queue is not None
        if item is not None and self._queue.qsize() >= self.max_queued:
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from channels.layers import get_channel_layer

        self._loop, self._queue = asyncio.get_running_loop(), asyncio.Queue()
        layer = get_channel_layer()
        self._ready.set()
        while (item := await self._queue.get()) is not None:
            group, text = item
            try:
                await layer.group_send(group, {"type": FRAME_EVENT, "text": text})
                self.sent += 1
            except Exception as exc:  # noqa: BLE001 - Redis away: count, log (every 10 s at most), go on
                self.failed += 1
                if time.monotonic() - self._logged_at >= 10.0:
                    self._logged_at = time.monotonic()
                    logger.warning("could not send a frame to %s (%d failed so far): %r", group, self.failed, exc)
        close = getattr(layer, "close_pools", None)
        if close is not None:
            await close()
