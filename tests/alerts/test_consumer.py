"""ws/alerts/ end to end: the project's ASGI app, the real Redis channel layer (db of REDIS_URL), the real
database; alerts are raised through the services, which broadcast after commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from accounts import roles
from accounts.services import token_for, user_create_with_role
from alerts.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from alerts.models import Alert, EscalationPolicy
from alerts.services import alert_acknowledge, alert_raise, alerts_escalate_due
from floorplans.models import Floor, Zone
from hospital_iot.asgi import application
from tests.alerts.conftest import T0
from tests.tracking.whereabouts import floor_elsewhere, scope

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_S = 3


def _cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _socket(*, cookie: bytes | None = None, token: str | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    if cookie:
        headers.append((b"cookie", cookie))
    if token:
        headers.append((b"authorization", f"Token {token}".encode()))
    return WebsocketCommunicator(application, "/ws/alerts/", headers=headers)


def run(body: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(body)()


def _raise(**overrides: Any) -> Alert:
    arguments: dict[str, Any] = {"kind": "infusion.wrong_patient", "severity": 30, "key": "wp:bag=17",
                                 "title": "Bag 17 at the wrong bed", "subject_type": "bag", "subject_id": "17",
                                 "audience": "nurses", "at": T0}
    return alert_raise(**(arguments | overrides))


async def _open(cookie: bytes) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    socket = _socket(cookie=cookie)
    assert (await socket.connect(timeout=TIMEOUT_S))[0]
    snapshot = await socket.receive_json_from(timeout=TIMEOUT_S)
    assert snapshot["type"] == "snapshot"
    return socket, snapshot


async def _closed_with(socket: WebsocketCommunicator) -> int:
    assert (await socket.connect(timeout=TIMEOUT_S))[0]
    message = await socket.receive_output(timeout=TIMEOUT_S)
    assert message["type"] == "websocket.close"
    return int(message["code"])


def test_it_closes_with_4401_for_the_anonymous_and_4403_without_the_permission(visitor: User) -> None:
    cookie = _cookie(visitor)

    async def body() -> None:
        assert await _closed_with(_socket()) == CLOSE_UNAUTHENTICATED
        assert await _closed_with(_socket(cookie=cookie)) == CLOSE_FORBIDDEN

    run(body)


def test_it_sends_a_snapshot_of_the_users_open_alerts(nurse: User) -> None:
    mine = _raise()
    _raise(key="pink:1", kind="security.code_pink", audience="security", subject_type="infant", subject_id="1")
    done = _raise(key="wp:bag=3")
    alert_acknowledge(alert_id=done.pk, user=nurse)
    cookie = _cookie(nurse)

    async def body() -> None:
        socket, snapshot = await _open(cookie)
        await socket.disconnect()
        assert [a["id"] for a in snapshot["alerts"]] == [done.pk, mine.pk]  # open: new and acknowledged
        assert snapshot["alerts"][0]["state"] == "acknowledged"

    run(body)


def test_it_routes_each_alert_to_its_audience_only(nurse: User, security_officer: User) -> None:
    nurse_cookie, security_cookie = _cookie(nurse), _cookie(security_officer)

    async def body() -> None:
        nurse_socket, _ = await _open(nurse_cookie)
        security_socket, _ = await _open(security_cookie)
        alert = await database_sync_to_async(_raise)()
        message = await nurse_socket.receive_json_from(timeout=TIMEOUT_S)
        assert (message["type"], message["action"], message["sound"]) == ("alert", "raised", True)
        assert message["alert"]["id"] == alert.pk and message["alert"]["title"] == "Bag 17 at the wrong bed"
        assert await security_socket.receive_nothing(timeout=0.3)
        await database_sync_to_async(_raise)(key="pink:1", kind="security.code_pink", audience="security",
                                             subject_type="infant", subject_id="1", severity=40)
        assert (await security_socket.receive_json_from(timeout=TIMEOUT_S))["alert"]["kind"] == "security.code_pink"
        assert await nurse_socket.receive_nothing(timeout=0.3)
        await nurse_socket.disconnect()
        await security_socket.disconnect()

    run(body)


def test_a_nurse_scoped_to_another_floor_does_not_hear_this_wards_alerts(floor: Floor, nurse: User) -> None:
    other = floor_elsewhere()
    scope(nurse, "Block B staff", floors=(other,))
    ward = Zone.objects.get(floor=floor, code="3N")
    cookie = _cookie(nurse)

    async def body() -> None:
        socket, _ = await _open(cookie)
        await database_sync_to_async(_raise)(ward_id=ward.pk)
        assert await socket.receive_nothing(timeout=0.3)
        await database_sync_to_async(_raise)(key="wp:bag=5", floor_id=other.pk)
        assert (await socket.receive_json_from(timeout=TIMEOUT_S))["alert"]["floor"] == other.pk
        await socket.disconnect()

    run(body)


def test_escalation_reaches_the_new_audience_once_and_reminders_carry_sound(charge_nurse: User,
                                                                            security_officer: User) -> None:
    EscalationPolicy.objects.all().delete()
    EscalationPolicy.objects.create(name="pink", kind_pattern="security.*", min_severity=10,
                                    steps=[{"after_s": 60, "audience": "charge_nurses"}], reminder_every_s=90)
    cookie = _cookie(charge_nurse)

    async def body() -> None:
        socket, _ = await _open(cookie)
        alert = await database_sync_to_async(_raise)(key="pink:1", kind="security.code_pink", audience="security",
                                                     subject_type="infant", subject_id="1", severity=40)
        assert await socket.receive_nothing(timeout=0.3)  # not theirs yet
        await database_sync_to_async(alerts_escalate_due)(now=T0 + timedelta(seconds=60))
        message = await socket.receive_json_from(timeout=TIMEOUT_S)
        assert (message["action"], message["sound"], message["alert"]["audiences"]) == (
            "escalated", True, ["security", "charge_nurses"])
        await database_sync_to_async(alerts_escalate_due)(now=T0 + timedelta(seconds=90))
        reminder = await socket.receive_json_from(timeout=TIMEOUT_S)
        assert (reminder["type"], reminder["sound"], reminder["alert"]["id"]) == ("reminder", True, alert.pk)
        # the charge nurse hears nurses and charge_nurses: a message to both groups arrives once
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    run(body)


def test_a_machine_with_a_token_and_the_permission_may_listen(nurse: User) -> None:
    machine = user_create_with_role(username="pager-gw", role=roles.NURSE, password="pw-pager")
    token = token_for(user=machine)

    async def body() -> None:
        socket = _socket(token=token)
        assert (await socket.connect(timeout=TIMEOUT_S))[0]
        assert (await socket.receive_json_from(timeout=TIMEOUT_S))["type"] == "snapshot"
        await socket.send_json_to({"type": "resync"})
        assert (await socket.receive_json_from(timeout=TIMEOUT_S))["type"] == "snapshot"
        await socket.send_to(text_data="not json")
        assert (await socket.receive_json_from(timeout=TIMEOUT_S))["type"] == "error"
        await socket.disconnect()

    run(body)
