"""The live floor stream: ws/floors/<floor_id>/ (message schema in docs/realtime.md).

The consumer only checks access, joins the floor's group, sends a snapshot and relays the frames the
pipeline sends to the group, text unchanged. Close codes: 4401 not logged in, 4403 floor not
watchable (no permission, outside the user's scope, or no such floor).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from tracking.access import can_watch_floor
from tracking.pipeline.frames import FRAME_EVENT, floor_group
from tracking.selectors.locations import floor_snapshot
from tracking.signals import VIA_FLOOR_MAP, locations_seen

__all__ = ["CLOSE_FORBIDDEN", "CLOSE_UNAUTHENTICATED", "FloorConsumer", "floor_group"]

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
MAX_MESSAGE_CHARS = 1024  # the browser sends only {"type": "resync"}


class FloorConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels ships no type hints
    group: str | None = None

    async def connect(self) -> None:
        self.floor_id = int(self.scope["url_route"]["kwargs"]["floor_id"])
        # accept, then close with a code: a refused handshake would reach the browser as a bare 1006
        await self.accept()
        if not await self._may_watch():
            return
        self.group = floor_group(self.floor_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # joined before the snapshot is read, so no frame falls between them (one may repeat it)
        await self._send_snapshot(on_connect=True)

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = browser_message(text_data)
        if message is None:
            await self.send_json({"type": "error", "error": 'expected a JSON object such as {"type": "resync"}'})
        elif message.get("type") == "resync":
            if await self._may_watch():
                await self._send_snapshot()
        else:
            await self.send_json({"type": "error", "error": f"unknown message type {str(message.get('type'))[:40]!r}"})

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Frames go straight to the browser. Channels' dispatch first closes stale database connections
        through a thread-pool hop for every message; relaying a frame touches no database, and that hop was
        a fifth of daphne's CPU with 200 browsers (measured). Everything else is dispatched as usual."""
        if message["type"] == FRAME_EVENT:
            await self.floor_frame(message)
        else:
            await super().dispatch(message)

    async def floor_frame(self, event: dict[str, Any]) -> None:
        """A pipeline frame for this floor (positions, heartbeat): already JSON, passed on as it is."""
        await self.send(text_data=event["text"])

    async def _may_watch(self) -> bool:
        """Checked on connect and again on every resync (a revoked scope takes effect there); closes if not."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        if not await database_sync_to_async(can_watch_floor)(user=user, floor_id=self.floor_id):
            logger.info("user %s may not watch floor %s; closing", user.pk, self.floor_id)
            await self.close(code=CLOSE_FORBIDDEN)
            return False
        return True

    async def _send_snapshot(self, *, on_connect: bool = False) -> None:
        if on_connect:  # the connection's first look is recorded (once per tag), its frames and resyncs not
            client = self.scope.get("client") or (None,)
            snapshot = await database_sync_to_async(snapshot_seen)(
                floor_id=self.floor_id, user=self.scope["user"], remote_addr=client[0])
        else:
            snapshot = await database_sync_to_async(floor_snapshot)(floor_id=self.floor_id)
        await self.send_json(snapshot)


def snapshot_seen(*, floor_id: int, user: Any, remote_addr: str | None) -> dict[str, Any]:
    """The floor's snapshot, told to `locations_viewed` receivers (the tags it shows, via the floor map)."""
    snapshot = floor_snapshot(floor_id=floor_id)
    locations_seen(sender=FloorConsumer, user=user, tag_ids=(fix["tag"] for fix in snapshot["fixes"]),
                   via=VIA_FLOOR_MAP, detail=f"ws/floors/{floor_id}/ snapshot on connect", remote_addr=remote_addr)
    return snapshot


def browser_message(text: str | None) -> dict[str, Any] | None:
    """The browser's message as a JSON object, or None for anything else (binary, too long, not JSON).
    Shared by the websocket consumers (floors, alerts): browsers send them only small control messages."""
    if text is None or len(text) > MAX_MESSAGE_CHARS:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None
