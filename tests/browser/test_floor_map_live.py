"""The whole chain in a real browser: a BLE gateway publishes to the real MQTT broker, `run_rtls` (the real
Minew adapter and the pipeline, a child process on the test database) locates the tag, stores it and sends
the floor frame, daphne relays it, and the nurse's map shows the marker in the room it moved to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Page, expect

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor
from floorplans.plans import plan_render_for_floor
from readers.models import Reader
from tests.browser.conftest import logged_in
from tests.browser.server import ROOT, Daphne
from tests.browser.test_floor_map import _marker_in_zone, _wait_in_zone
from tests.tracking.whereabouts import place, zone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUMP = "AC233F0000AA"
GATEWAYS = {"101": ("AC233FC00101", 3.0, 14.0), "102": ("AC233FC00102", 7.5, 14.0)}  # MAC, x_m, y_m


class Gateway:
    """Publishes, every 0.25 s, what the gateway of one room hears: the pump, strongly (Minew JSON)."""

    def __init__(self, topic: str) -> None:
        self.topic, self.room = topic, "101"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-gateway-{uuid.uuid4().hex[:8]}")
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Gateway:
        self.client.connect(settings.MQTT_HOST, settings.MQTT_PORT)
        self.client.loop_start()
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=2)
        self.client.loop_stop()
        self.client.disconnect()

    def _run(self) -> None:
        while not self.stopping.wait(0.25):
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            records = [{"timestamp": stamp, "type": "Gateway", "mac": GATEWAYS[self.room][0]},
                       {"timestamp": stamp, "type": "Unknown", "mac": PUMP, "rssi": -52}]
            self.client.publish(self.topic, json.dumps(records))


@pytest.fixture
def rtls(floor: Floor, server: Daphne) -> Iterator[str]:
    """Two Minew gateways (rooms 101 and 102) on a topic of this test, the pump registered in room 101,
    and run_rtls running on the test database. Yields the gateways' topic."""
    plan_render_for_floor(floor=floor)
    Reader.objects.filter(floor=floor).update(enabled=False)  # nothing emulates them here
    topic = f"test/{uuid.uuid4().hex[:12]}/minew"
    for room, (mac, x_m, y_m) in GATEWAYS.items():
        Reader.objects.create(code=f"BLE-GW-{room}", name=f"Gateway {room}", kind=Reader.Kind.BLE_GATEWAY,
                              protocol="ble_minew", hardware_id=mac, topic=topic, floor=floor,
                              position=Point(x_m, y_m, srid=FLOOR_SRID), height_m=2.5)
    place(PUMP, floor, 3.0, 14.8, zone=zone(floor, "3N-101"), category="infusion_pump")
    log = Path(server.log).with_name("rtls.log")
    env = {**os.environ, "POSTGRES_DB": connection.settings_dict["NAME"], "HOSPITAL_IOT_VAR_DIR": server.env[
        "HOSPITAL_IOT_VAR_DIR"], "DJANGO_SETTINGS_MODULE": "tests.browser.server_settings"}
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "manage.py", "run_rtls", "--status-every", "2"], cwd=ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(3.0)  # adapters subscribed, engines built
        assert process.poll() is None, f"run_rtls ended early; see {log}"
        yield topic
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_tag_heard_by_another_rooms_gateway_moves_there_on_the_nurses_map(
        page: Page, server: Daphne, floor: Floor, nurse: User, rtls: str) -> None:
    logged_in(page, server.url, nurse)
    page.goto(f"{server.url}/floors/{floor.pk}/map/")
    expect(page.locator(".fm-conn")).to_have_attribute("data-state", "live")
    expect(page.locator(f'.fm-marker[data-tag="{PUMP}"]')).to_have_count(1)
    assert _marker_in_zone(page, PUMP, "3N-101")
    with Gateway(rtls) as gateway:
        time.sleep(3.0)  # heard in room 101 for a while, as before
        gateway.room = "102"  # carried next door: only room 102's gateway hears it
        _wait_in_zone(page, PUMP, "3N-102", timeout_ms=30_000)
    assert not _marker_in_zone(page, PUMP, "3N-101")
    page.screenshot(path=str(Path(server.log).with_name("floor-map-live.png")))
