"""Code Pink through the real broker: a subscriber on hospital_iot/doors/+/cmd (what every door controller
listens to) receives a lock for each exit of the floor and a hold for its elevators, with the ids the
DoorCommand rows recorded; resolving sends the unlocks and the release."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from paho.mqtt.enums import CallbackAPIVersion

from security.codepink import code_pink_resolve, code_pink_start
from security.models import DoorCommand
from tests.security.test_codepink_helpers import EXITS, RUN, Lockdown, lockdown_setup
from tests.security.test_services_helpers import T0

pytestmark = pytest.mark.django_db
WAIT_S = 5.0


class Subscriber:
    """Collects (controller code, command) from this run's controllers' command topics."""

    def __init__(self) -> None:
        self.messages: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.ready = queue.Queue[bool]()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda client, *_: client.subscribe("hospital_iot/doors/+/cmd", qos=1)
        self.client.on_subscribe = lambda *_: self.ready.put(True)
        self.client.on_message = self._message

    def _message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        base = message.topic.split("/")[2]
        if base.endswith(f"-{RUN}"):  # another test's doors on the shared broker are not ours
            self.messages.put((base.removesuffix(f"-{RUN}"), json.loads(message.payload)))

    def take(self, n: int, *, wait_s: float = WAIT_S) -> list[tuple[str, dict[str, Any]]]:
        got: list[tuple[str, dict[str, Any]]] = []
        deadline = time.monotonic() + wait_s
        while len(got) < n and time.monotonic() < deadline:
            try:
                got.append(self.messages.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return got


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    sub.client.connect(settings.MQTT_HOST, settings.MQTT_PORT)
    sub.client.loop_start()
    assert sub.ready.get(timeout=WAIT_S)
    yield sub
    sub.client.loop_stop()
    sub.client.disconnect()


def test_every_exit_controller_receives_a_lock_and_the_lifts_a_hold_on_the_broker(
        floor_doc: dict[str, Any], subscriber: Subscriber, security_officer: User) -> None:
    site: Lockdown = lockdown_setup(floor_doc)
    code_pink = code_pink_start(trigger="manual", building_id=site.floor.building_id, floor_id=site.floor.pk,
                                user=security_officer, at=T0)
    received = subscriber.take(4)
    assert sorted((code, payload["cmd"]) for code, payload in received) == sorted(
        [(code, "lock") for code in EXITS] + [("lifts-3N", "hold")])
    recorded = {str(c.command_id): c for c in DoorCommand.objects.filter(code_pink=code_pink)}
    for code, payload in received:
        sent = recorded[payload["id"]]
        assert sent.controller.code == code and payload["cmd"] == sent.command
        assert payload["reason"] == f"Code Pink #{code_pink.pk}" and payload["at"].startswith("2026-03-04T10:00:00")

    code_pink_resolve(code_pink_id=code_pink.pk, user=security_officer, resolution="found")
    assert sorted((code, payload["cmd"]) for code, payload in subscriber.take(4)) == sorted(
        [(code, "unlock") for code in EXITS] + [("lifts-3N", "release")])
    assert subscriber.take(1, wait_s=0.5) == []  # nothing else: the store door was never commanded
