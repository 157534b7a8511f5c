"""The floor websocket end to end: the project's ASGI app (origin check, session or token), the real
Redis channel layer, the real database. Frames are sent to the group as the pipeline sends them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from accounts import roles
from accounts.services import token_for, user_create_with_role
from floorplans.models import Floor
from hospital_iot.asgi import application
from tests.tracking.whereabouts import floor_elsewhere, place, scope, zone
from tracking.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, floor_group
from tracking.models import CurrentLocation

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_S = 3


def _session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _socket(floor_id: int, *, cookie: bytes | None = None, token: str | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    if cookie:
        headers.append((b"cookie", cookie))
    if token:
        headers.append((b"authorization", f"Token {token}".encode()))
    return WebsocketCommunicator(application, f"/ws/floors/{floor_id}/", headers=headers)


def run(body: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(body)()


async def _closed_with(socket: WebsocketCommunicator) -> int:
    connected, _ = await socket.connect(timeout=TIMEOUT_S)
    assert connected  # accepted, then closed with a code the browser can read
    message = await socket.receive_output(timeout=TIMEOUT_S)
    assert message["type"] == "websocket.close"
    return int(message["code"])


def test_it_closes_with_4401_for_a_visitor_who_is_not_logged_in(floor: Floor) -> None:
    async def body() -> None:
        assert await _closed_with(_socket(floor.pk)) == CLOSE_UNAUTHENTICATED

    run(body)


def test_it_closes_with_4403_without_the_permission_outside_the_scope_or_for_no_such_floor(
    floor: Floor, visitor: User, nurse: User
) -> None:
    other = floor_elsewhere()
    scope(nurse, "Block B", buildings=(other.building,))
    refused = [(_session_cookie(visitor), floor.pk), (_session_cookie(nurse), floor.pk),
               (_session_cookie(nurse), other.pk + 1000)]

    async def body() -> None:
        for cookie, floor_id in refused:
            assert await _closed_with(_socket(floor_id, cookie=cookie)) == CLOSE_FORBIDDEN

    run(body)


def test_it_sends_a_snapshot_of_the_tags_seen_on_the_floor_in_the_last_ten_minutes(floor: Floor, nurse: User) -> None:
    seen_at = timezone.now().replace(microsecond=123456) - timedelta(minutes=2)
    pump = place("pump-1", floor, 3.14159, 4.5, zone=zone(floor, "3N-ST"), category="infusion_pump", seen_at=seen_at,
                 stationary=True)
    place("badge-1", floor, 10.0, 9.0, seen_at=seen_at, name="Nina")
    place("bare-1", floor, 1.0, 1.0, kind=None, seen_at=seen_at)
    place("stale-1", floor, 2.0, 2.0, seen_at=timezone.now() - timedelta(minutes=11))
    place("away-1", floor_elsewhere(), 2.0, 2.0)
    cookie = _session_cookie(nurse)
    pump_pk, store_pk = pump.tracked_object.pk, zone(floor, "3N-ST").pk
    seen_text = seen_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.123Z")

    async def body() -> None:
        socket = _socket(floor.pk, cookie=cookie)
        assert (await socket.connect(timeout=TIMEOUT_S))[0]
        snapshot = await socket.receive_json_from(timeout=TIMEOUT_S)
        await socket.disconnect()
        assert snapshot["type"] == "snapshot" and snapshot["floor"] == floor.pk
        assert snapshot["at"].endswith("Z")
        fixes = {fix["tag"]: fix for fix in snapshot["fixes"]}
        assert sorted(fixes) == ["badge-1", "bare-1", "pump-1"]
        assert fixes["pump-1"] == {
            "tag": "pump-1", "object": pump_pk, "name": "infusion pump A-pump-1", "kind": "asset",
            "category": "infusion_pump", "x_m": 3.14, "y_m": 4.5, "accuracy_m": 1.23, "zone": store_pk,
            "stationary": True, "seen_at": seen_text,
        }
        badge = fixes["badge-1"]
        assert (badge["name"], badge["kind"], badge["category"]) == ("Nina", "staff", "")
        assert fixes["bare-1"] | {"seen_at": ""} == {
            "tag": "bare-1", "object": None, "name": "", "kind": "", "category": "", "x_m": 1.0, "y_m": 1.0,
            "accuracy_m": 1.23, "zone": None, "stationary": False, "seen_at": ""}

    run(body)


def test_it_relays_the_pipelines_frames_unchanged_and_only_to_that_floor(floor: Floor, nurse: User) -> None:
    other = floor_elsewhere()
    cookie = _session_cookie(nurse)
    # deliberately odd spacing and key order: the consumer must not decode and re-encode
    frame = ('{"type":"positions",  "seq": 7, "floor": %d, "at": "2026-11-22T03:40:00.100Z",'
             ' "fixes": [], "left": ["t1"]}')

    async def body() -> None:
        here, there = _socket(floor.pk, cookie=cookie), _socket(other.pk, cookie=cookie)
        for socket in (here, there):
            assert (await socket.connect(timeout=TIMEOUT_S))[0]
            assert (await socket.receive_json_from(timeout=TIMEOUT_S))["type"] == "snapshot"
        layer = get_channel_layer()
        await layer.group_send(floor_group(floor.pk), {"type": "floor.frame", "text": frame % floor.pk})
        assert await here.receive_from(timeout=TIMEOUT_S) == frame % floor.pk
        assert await there.receive_nothing(timeout=0.3)
        for socket in (here, there):
            await socket.disconnect()

    run(body)


def test_it_sends_a_fresh_snapshot_on_resync(floor: Floor, nurse: User) -> None:
    place("badge-1", floor, 1.0, 1.0)
    cookie = _session_cookie(nurse)

    async def body() -> None:
        socket = _socket(floor.pk, cookie=cookie)
        assert (await socket.connect(timeout=TIMEOUT_S))[0]
        first = await socket.receive_json_from(timeout=TIMEOUT_S)
        await database_sync_to_async(_move)("badge-1", 5.0)
        await socket.send_json_to({"type": "resync"})
        second = await socket.receive_json_from(timeout=TIMEOUT_S)
        await socket.disconnect()
        assert [f["x_m"] for f in first["fixes"]] == [1.0]
        assert second["type"] == "snapshot" and [f["x_m"] for f in second["fixes"]] == [5.0]

    run(body)


def _move(tag_id: str, x_m: float) -> None:
    location = CurrentLocation.objects.get(tag__tag_id=tag_id)
    location.position.x = x_m
    location.save()


GARBAGE: list[dict[str, Any]] = [
    {"text_data": "not json"},
    {"text_data": "[1, 2, 3]"},
    {"text_data": '{"type": "subscribe", "floor": 9}'},
    {"text_data": json.dumps({"type": "resync", "pad": "x" * 5000})},
    {"bytes_data": b"\x00\xff"},
]


def test_it_answers_garbage_with_an_error_and_keeps_the_stream_open(floor: Floor, nurse: User) -> None:
    cookie = _session_cookie(nurse)

    async def body() -> None:
        socket = _socket(floor.pk, cookie=cookie)
        assert (await socket.connect(timeout=TIMEOUT_S))[0]
        await socket.receive_json_from(timeout=TIMEOUT_S)
        for message in GARBAGE:
            if "bytes_data" in message:
                await socket.send_to(bytes_data=message["bytes_data"])
            else:
                await socket.send_to(text_data=message["text_data"])
            answer = await socket.receive_json_from(timeout=TIMEOUT_S)
            assert answer["type"] == "error" and answer["error"], message
        await socket.send_json_to({"type": "resync"})
        assert (await socket.receive_json_from(timeout=TIMEOUT_S))["type"] == "snapshot"
        await socket.disconnect()

    run(body)


def test_it_closes_on_resync_once_the_floor_left_the_users_scope(floor: Floor, nurse: User) -> None:
    cookie = _session_cookie(nurse)

    async def body() -> None:
        socket = _socket(floor.pk, cookie=cookie)
        assert (await socket.connect(timeout=TIMEOUT_S))[0]
        await socket.receive_json_from(timeout=TIMEOUT_S)
        await database_sync_to_async(lambda: scope(nurse, "elsewhere", buildings=(floor_elsewhere().building,)))()
        await socket.send_json_to({"type": "resync"})
        closed = await socket.receive_output(timeout=TIMEOUT_S)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_FORBIDDEN)

    run(body)


def test_it_lets_a_machine_in_with_its_api_token(floor: Floor) -> None:
    machine = user_create_with_role(username="nurse-call", role=roles.INTEGRATION, password=None)
    token = token_for(user=machine)

    async def body() -> None:
        socket = _socket(floor.pk, token=token)
        assert (await socket.connect(timeout=TIMEOUT_S))[0]
        assert (await socket.receive_json_from(timeout=TIMEOUT_S))["type"] == "snapshot"
        await socket.disconnect()
        assert await _closed_with(_socket(floor.pk, token="not-a-token")) == CLOSE_UNAUTHENTICATED

    run(body)
