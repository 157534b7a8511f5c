"""The live alert stream: ws/alerts/ (message schema in docs/alerts.md).

The consumer only checks who is there, joins the groups of their audiences (narrowed to the floors they
may watch), sends a snapshot of their open alerts and relays what the services broadcast. Close codes:
4401 not logged in, 4403 not allowed to see alerts.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from alerts.audiences import groups_for_listener
from alerts.broadcast import alert_payload
from alerts.selectors import alert_floor_scope, audiences_of, open_alerts_snapshot
from tracking.consumers import browser_message

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
SEEN_MESSAGES = 256  # a message reaching us through two of our audiences' groups is sent once


def listener_groups(user: Any) -> list[str]:
    return groups_for_listener(audiences_of(user), alert_floor_scope(user))


def snapshot(user: Any) -> dict[str, Any]:
    return {"type": "snapshot", "at": timezone.now().isoformat(),
            "alerts": [alert_payload(alert) for alert in open_alerts_snapshot(user)]}


class AlertConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels ships no type hints
    joined: tuple[str, ...] = ()

    async def connect(self) -> None:
        # accept, then close with a code: a refused handshake would reach the browser as a bare 1006
        await self.accept()
        self.seen: deque[str] = deque(maxlen=SEEN_MESSAGES)
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = await database_sync_to_async(listener_groups)(user)
        if not groups:
            logger.info("user %s hears no alert audience; closing", user.pk)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = tuple(groups)
        # joined before the snapshot is read, so no change falls between them (one may repeat it)
        await self.send_json(await database_sync_to_async(snapshot)(user))

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = browser_message(text_data)
        if message is not None and message.get("type") == "resync" and self.joined:
            await self.send_json(await database_sync_to_async(snapshot)(self.scope["user"]))
        else:
            await self.send_json({"type": "error", "error": 'expected a JSON object such as {"type": "resync"}'})

    async def alert_message(self, event: dict[str, Any]) -> None:
        """An alert change or reminder from alerts.broadcast: already JSON, relayed once."""
        text = event["text"]
        message_id = str(json.loads(text).get("id", ""))
        if message_id and message_id in self.seen:
            return
        self.seen.append(message_id)
        await self.send(text_data=text)
