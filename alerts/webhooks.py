"""Outbound webhooks: each queued WebhookDelivery is POSTed as JSON, signed with HMAC-SHA256, retried with
exponential backoff until delivered or `max_attempts` is spent (then the alert's timeline says so).

Signature: header `X-Hospital-IoT-Signature: sha256=<hex>` where hex = HMAC-SHA256(secret,
"<X-Hospital-IoT-Timestamp>." + body). Receivers recompute it and reject old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q

from alerts.models import AlertEvent, WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hospital-IoT-Signature"
TIMESTAMP_HEADER = "X-Hospital-IoT-Timestamp"
EVENT_HEADER = "X-Hospital-IoT-Event"
DELIVERY_HEADER = "X-Hospital-IoT-Delivery"
USER_AGENT = "hospital_iot-webhooks/1"
BATCH = 50  # deliveries attempted per call; a slow endpoint delays only the webhook job, not escalation
MAX_BACKOFF_S = 3600.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_valid(secret: str, timestamp: int, body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def backoff_s(attempt: int) -> float:
    """Wait after failed attempt n (1-based): base, 2 base, 4 base ... capped at an hour."""
    base = float(getattr(settings, "ALERTS_WEBHOOK_BACKOFF_S", 10.0))
    return float(min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF_S))


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    response_code: int | None = None
    error: str = ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a 3xx is a failed delivery, not a GET
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float) -> Outcome:
    """POST once; 2xx is delivered, anything else (status, refused, timeout) is an error with its reason."""
    if urlsplit(url).scheme not in {"http", "https"}:
        return Outcome(False, error=f"unsupported URL scheme in {url!r}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            code = int(response.status)
    except urllib.error.HTTPError as error:
        text = error.read(300).decode("utf-8", "replace") if error.fp is not None else ""
        return Outcome(False, response_code=error.code, error=f"HTTP {error.code} {error.reason} {text}".strip())
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Outcome(False, error=f"{type(error).__name__}: {reason}"[:500])
    if 200 <= code < 300:
        return Outcome(True, response_code=code)
    return Outcome(False, response_code=code, error=f"HTTP {code}")


def webhooks_deliver_due(*, now: datetime, timeout_s: float = 5.0) -> int:
    """Attempt every delivery that is due; returns how many were attempted."""
    attempted = 0
    for delivery_id in _claim(now=now, lease_s=timeout_s + 60.0):
        delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
        hook = delivery.webhook
        body = json.dumps({**delivery.payload, "delivery": delivery.pk, "attempt": delivery.attempt + 1},
                          cls=DjangoJSONEncoder).encode()
        timestamp = int(now.timestamp())
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, TIMESTAMP_HEADER: str(timestamp),
                   EVENT_HEADER: str(delivery.payload.get("event", "")), DELIVERY_HEADER: str(delivery.pk)}
        if hook.secret:
            headers[SIGNATURE_HEADER] = signature(hook.secret, timestamp, body)
        outcome = post(hook.url, body, headers, timeout_s=timeout_s)
        _record(delivery_id, outcome, now=now)
        attempted += 1
    return attempted


@transaction.atomic
def _claim(*, now: datetime, lease_s: float) -> list[int]:
    """Take due deliveries (skip those another runner holds) and push their next attempt out by a lease,
    so a runner that dies mid-POST leaves them to be retried, not lost."""
    due = (WebhookDelivery.objects.select_for_update(skip_locked=True)
           .filter(Q(status=WebhookDelivery.Status.PENDING) | Q(status=WebhookDelivery.Status.FAILED),
                   next_attempt_at__lte=now, webhook__active=True)
           .order_by("next_attempt_at", "pk"))
    ids = list(due.values_list("pk", flat=True)[:BATCH])
    WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + timedelta(seconds=lease_s))
    return ids


@transaction.atomic
def _record(delivery_id: int, outcome: Outcome, *, now: datetime) -> None:
    delivery = WebhookDelivery.objects.select_for_update().select_related("webhook").get(pk=delivery_id)
    delivery.attempt += 1
    delivery.last_attempt_at = now
    delivery.response_code = outcome.response_code
    delivery.error = outcome.error
    if outcome.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.DELIVERED, now, None
    elif delivery.attempt >= delivery.webhook.max_attempts:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.GAVE_UP, None
        logger.error("webhook %s gave up on alert %s %s after %d attempts: %s", delivery.webhook.name,
                     delivery.alert_id, delivery.action, delivery.attempt, outcome.error)
        AlertEvent.objects.create(
            alert_id=delivery.alert_id, at=now, action=AlertEvent.Action.WEBHOOK_FAILED,
            note=f"{delivery.webhook.name}: {outcome.error}"[:2000],
            data={"webhook": delivery.webhook.name, "action": delivery.action, "attempts": delivery.attempt},
        )
    else:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = now + timedelta(seconds=backoff_s(delivery.attempt))
        logger.warning("webhook %s failed for alert %s (attempt %d): %s", delivery.webhook.name, delivery.alert_id,
                       delivery.attempt, outcome.error)
    delivery.save()
