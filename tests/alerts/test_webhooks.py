"""Outbound webhooks against a real local HTTP server: retries with backoff, giving up, the delivery
log, the HMAC signature and which webhooks an alert goes to."""

from __future__ import annotations

import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from alerts.models import Alert, Webhook, WebhookDelivery
from alerts.services import webhooks_deliver_due
from alerts.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    backoff_s,
    signature,
    signature_valid,
)
from tests.alerts.conftest import T0, Raise

SECRET = "s3cret-pager-key"


class Receiver:
    """A pager gateway stand-in: answers `fail_first` requests with `fail_status`, then 200."""

    def __init__(self, *, fail_first: int = 0, fail_status: int = 503, delay_s: float = 0.0,
                 redirect: bool = False) -> None:
        self.fail_first, self.fail_status, self.delay_s, self.redirect = fail_first, fail_status, delay_s, redirect
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)  # a slow endpoint (the test asserts on the timeout, not on this)
                if receiver.redirect:
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                elif len(receiver.requests) <= receiver.fail_first:
                    self.send_response(receiver.fail_status)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(**options: Any) -> Receiver:
        made.append(Receiver(**options))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture(autouse=True)
def _backoff(settings: Any) -> None:
    settings.ALERTS_WEBHOOK_BACKOFF_S = 10.0


def _hook(url: str, **fields: Any) -> Webhook:
    return Webhook.objects.create(**({"name": "pager", "url": url, "secret": SECRET, "kinds": "infusion.*",
                                      "min_severity": Alert.Severity.HIGH, "max_attempts": 5} | fields))


def test_it_retries_with_exponential_backoff_until_delivered(raise_alert: Raise, receiver_factory: Any) -> None:
    receiver = receiver_factory(fail_first=2)
    _hook(receiver.url)
    raise_alert()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.action, delivery.next_attempt_at) == ("pending", "raised", T0)

    assert webhooks_deliver_due(now=T0) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt, delivery.response_code) == ("failed", 1, 503)
    assert delivery.next_attempt_at == T0 + timedelta(seconds=10) and "503" in delivery.error
    assert webhooks_deliver_due(now=T0 + timedelta(seconds=9)) == 0      # not due yet
    assert webhooks_deliver_due(now=T0 + timedelta(seconds=10)) == 1     # attempt 2 fails: wait 20 s
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30)
    assert webhooks_deliver_due(now=T0 + timedelta(seconds=30)) == 1     # attempt 3 succeeds
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt, delivery.response_code, delivery.error) == ("delivered", 3, 200, "")
    assert delivery.delivered_at == T0 + timedelta(seconds=30) and delivery.next_attempt_at is None
    assert webhooks_deliver_due(now=T0 + timedelta(hours=1)) == 0
    assert len(receiver.requests) == 3


def test_it_signs_the_body_with_hmac_sha256_over_the_timestamp(raise_alert: Raise, receiver_factory: Any) -> None:
    receiver = receiver_factory()
    _hook(receiver.url)
    alert = raise_alert()
    webhooks_deliver_due(now=T0)
    headers, body = receiver.requests[0]
    timestamp = int(headers[TIMESTAMP_HEADER.lower()])
    assert timestamp == int(T0.timestamp())
    assert signature_valid(SECRET, timestamp, body, headers[SIGNATURE_HEADER.lower()])
    assert not signature_valid("another-secret", timestamp, body, headers[SIGNATURE_HEADER.lower()])
    assert not signature_valid(SECRET, timestamp + 1, body, headers[SIGNATURE_HEADER.lower()])  # replayed later
    tampered = body.replace(b'"severity": 30', b'"severity": 10')
    assert tampered != body and not signature_valid(SECRET, timestamp, tampered, headers[SIGNATURE_HEADER.lower()])
    assert headers["content-type"] == "application/json" and headers[EVENT_HEADER.lower()] == "alert.raised"
    payload = json.loads(body)
    assert payload["event"] == "alert.raised" and payload["attempt"] == 1
    assert payload["delivery"] == int(headers[DELIVERY_HEADER.lower()])
    assert payload["alert"]["id"] == alert.pk and payload["alert"]["severity_label"] == "High"


def test_a_known_signature_stays_the_same() -> None:
    # pinned so a receiver written from docs/alerts.md keeps verifying
    assert signature("key", 1700000000, b'{"a":1}') == (
        "sha256=" + hmac.new(b"key", b'1700000000.{"a":1}', "sha256").hexdigest())


def test_it_sends_no_signature_without_a_secret(raise_alert: Raise, receiver_factory: Any) -> None:
    receiver = receiver_factory()
    _hook(receiver.url, secret="")
    raise_alert()
    webhooks_deliver_due(now=T0)
    assert SIGNATURE_HEADER.lower() not in receiver.requests[0][0]


def test_it_gives_up_after_max_attempts_and_says_so_on_the_timeline(raise_alert: Raise, receiver_factory: Any) -> None:
    receiver = receiver_factory(fail_first=99, fail_status=500)
    _hook(receiver.url, max_attempts=3)
    alert = raise_alert()
    now = T0
    for _ in range(3):
        assert webhooks_deliver_due(now=now) == 1
        now += timedelta(hours=2)
    assert webhooks_deliver_due(now=now) == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt, delivery.next_attempt_at) == ("gave_up", 3, None)
    event = alert.timeline.get(action="webhook_failed")
    assert event.data == {"webhook": "pager", "action": "raised", "attempts": 3} and "HTTP 500" in event.note


@pytest.mark.parametrize(("options", "error"), [
    ({"redirect": True}, "HTTP 302"),
    ({"delay_s": 1.5}, "timed out"),
])
def test_redirects_and_timeouts_are_failed_attempts(raise_alert: Raise, receiver_factory: Any,
                                                    options: dict[str, Any], error: str) -> None:
    receiver = receiver_factory(**options)
    _hook(receiver.url)
    raise_alert()
    started = time.monotonic()
    webhooks_deliver_due(now=T0, timeout_s=0.5)
    assert time.monotonic() - started < 1.4
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and error in delivery.error


def test_a_refused_connection_is_a_failed_attempt(raise_alert: Raise) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _hook(f"http://127.0.0.1:{port}/")
    raise_alert()
    webhooks_deliver_due(now=T0, timeout_s=1.0)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "refused" in delivery.error.lower()


def test_each_change_of_the_alert_is_queued_in_order(raise_alert: Raise, receiver_factory: Any, nurse: Any) -> None:
    from alerts.services import alert_acknowledge, alert_resolve

    receiver = receiver_factory()
    _hook(receiver.url)
    alert = raise_alert()
    alert_acknowledge(alert_id=alert.pk, user=nurse, note="on it", at=T0 + timedelta(seconds=5))
    alert_resolve(alert_id=alert.pk, user=nurse, at=T0 + timedelta(seconds=9))
    assert webhooks_deliver_due(now=T0 + timedelta(seconds=10)) == 3
    events = [json.loads(body)["event"] for _, body in receiver.requests]
    assert events == ["alert.raised", "alert.acknowledged", "alert.resolved"]
    assert json.loads(receiver.requests[1][1])["alert"]["acknowledged_by"] == "nurse"


@pytest.mark.parametrize(("kinds", "min_severity", "active", "alert_kind", "severity", "queued"), [
    ("infusion.*", 30, True, "infusion.near_empty", 30, True),
    ("infusion.*", 30, True, "infusion.near_empty", 20, False),  # below the webhook's minimum
    ("security.*, infusion.wrong_*", 10, True, "infusion.wrong_patient", 30, True),
    ("security.*", 10, True, "infusion.wrong_patient", 40, False),
    ("*", 10, False, "readers.offline", 40, False),  # inactive
])
def test_it_queues_only_for_webhooks_that_want_the_alert(raise_alert: Raise, kinds: str, min_severity: int,
                                                         active: bool, alert_kind: str, severity: int,
                                                         queued: bool) -> None:
    _hook("http://127.0.0.1:9/", kinds=kinds, min_severity=min_severity, active=active)
    raise_alert(kind=alert_kind, severity=severity, key="k")
    assert WebhookDelivery.objects.exists() is queued


@pytest.mark.parametrize(("attempt", "wait_s"), [(1, 10.0), (2, 20.0), (3, 40.0), (10, 3600.0)])
def test_the_backoff_doubles_and_is_capped(attempt: int, wait_s: float) -> None:
    assert backoff_s(attempt) == wait_s
