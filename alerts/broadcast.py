"""Telling people and systems: websocket messages to audience groups after commit, webhook rows queued
in the same transaction (so a rolled-back change is neither announced nor delivered)."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import threading
import uuid
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from alerts.audiences import groups_for_alert
from alerts.models import Alert, Webhook, WebhookDelivery
from alerts.serializers import AlertSerializer

logger = logging.getLogger(__name__)

CHANNEL_MESSAGE_TYPE = "alert.message"  # AlertConsumer.alert_message relays it


def sound_min_severity() -> int:
    """New alerts (and escalations) at or above this severity play the tone in the browser."""
    return int(getattr(settings, "ALERTS_SOUND_MIN_SEVERITY", Alert.Severity.HIGH))


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The alert as JSON-safe data (the REST list item shape)."""
    return dict(json.loads(json.dumps(AlertSerializer(alert).data, cls=DjangoJSONEncoder)))



def announce(alert: Alert, *, action: str, sound: bool, message_type: str = "alert",
             audiences: list[str] | None = None, note: str = "") -> None:
    """After commit, send {"type": "alert"|"reminder", "action", "sound", "alert": {...}} to the groups of
    the alert's audiences (or the given ones) for its floor."""
    message = {"type": message_type, "id": uuid.uuid4().hex, "action": action, "sound": sound,
               "note": note, "alert": alert_payload(alert)}
    text = json.dumps(message, cls=DjangoJSONEncoder)
    groups = groups_for_alert(audiences if audiences is not None else alert.audiences, alert.floor_id)
    transaction.on_commit(lambda: _send(groups, text), robust=True)


def _send(groups: list[str], text: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a plain thread (the pipeline, the periodic runner, a request)
        _send_now(groups, text)
        return
    # called from a thread that runs an event loop (e.g. under Playwright): async_to_sync refuses there
    sender = threading.Thread(target=_send_now, args=(groups, text), name="alert-broadcast", daemon=True)
    sender.start()
    sender.join(timeout=10)


def _send_now(groups: list[str], text: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, {"type": CHANNEL_MESSAGE_TYPE, "text": text})
        except Exception:  # the channel layer down must not undo or stop the alert itself
            logger.exception("could not send an alert message to group %s", group)


def webhook_matches(webhook: Webhook, alert: Alert) -> bool:
    patterns = [p.strip() for p in webhook.kinds.split(",") if p.strip()]
    return alert.severity >= webhook.min_severity and any(fnmatch.fnmatchcase(alert.kind, p) for p in patterns)


def webhooks_queue(alert: Alert, *, action: str, at: datetime, note: str = "") -> int:
    """Queue one delivery per matching active webhook (rows in the caller's transaction)."""
    hooks = [hook for hook in Webhook.objects.filter(active=True) if webhook_matches(hook, alert)]
    if not hooks:
        return 0
    payload = json.loads(json.dumps(
        {"event": f"alert.{action}", "action": action, "at": at, "note": note, "alert": alert_payload(alert)},
        cls=DjangoJSONEncoder,
    ))
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, alert=alert, action=action, payload=payload, created_at=at, next_attempt_at=at)
        for hook in hooks
    )
    return len(hooks)
