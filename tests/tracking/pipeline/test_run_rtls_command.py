"""run_rtls as an operator runs it. On one machine: a gateway's MQTT message becomes a stored position, the
pipeline publishes its metrics, and Ctrl-C stops it cleanly. As the reader role: the read goes to the stream
of the gateway's floor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import redis
from django.conf import settings
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion

from floorplans.models import Floor
from readers.codec import read_from_fields
from readers.models import Reader
from readers.sinks import floor_stream
from tests.tracking.store.batches import history_drop_all
from tracking.models import CurrentLocation, Tag
from tracking.pipeline.metrics import METRICS_KEY

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
TAG = "AC233F00A001"


@pytest.fixture
def gateway_topic(floor: Floor) -> Iterator[str]:
    """The ward's gateway on a topic of its own (the broker is shared); the RFID reader and anchor off."""
    prefix = f"test/{uuid.uuid4().hex}/espresense"
    Reader.objects.filter(code="BLE-101").update(topic=f"{prefix}/devices/#")
    Reader.objects.exclude(code="BLE-101").update(enabled=False)
    Tag.objects.create(tag_id=TAG, tech=Tag.Tech.BLE)
    history_drop_all()
    yield f"{prefix}/devices/{TAG.lower()}/AC233FC00101"
    history_drop_all()


def run_until(role: str, gateway_topic: str, done: Callable[[], bool]) -> tuple[int, str]:
    """Start run_rtls in `role`, publish the gateway's sighting until `done`, then Ctrl-C it."""
    env = {**os.environ, "POSTGRES_DB": connection.settings_dict["NAME"], "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "manage.py", "run_rtls", "--role", role, "--name", "one-box", "--health-every", "0.5",
         "--status-every", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if f"run_rtls ({role})" in line:
                break
        deadline = time.monotonic() + 15
        while not done():
            assert time.monotonic() < deadline, f"{role}: the sighting did not arrive"
            publisher.publish(gateway_topic, json.dumps({"mac": TAG.lower(), "rssi": -61.0, "rssi@1m": -59}))
            time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        output, _ = child.communicate(timeout=20)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        if child.poll() is None:
            child.kill()
    return child.returncode, output


def test_it_stores_a_gateways_sighting_publishes_metrics_and_stops_on_ctrl_c(gateway_topic: str) -> None:
    returncode, output = run_until("all", gateway_topic, CurrentLocation.objects.filter(tag__tag_id=TAG).exists)
    assert returncode == 0, output
    assert "run_rtls stopped" in output and "Traceback" not in output, output
    location = CurrentLocation.objects.get(tag__tag_id=TAG)
    assert (location.position.x, location.position.y) == pytest.approx((2.5, 13.5))  # the gateway that heard it
    assert location.zone is not None and location.zone.code == "3N-101"
    raw: Any = redis.Redis.from_url(settings.REDIS_URL).get(METRICS_KEY.format(worker="one-box"))
    metrics = json.loads(raw or b"{}")
    assert metrics["reads_total"] >= 1 and metrics["fixes_total"] >= 1 and metrics["floors"] == [location.floor_id]


def test_it_streams_a_sighting_to_its_floor_as_the_reader_role(gateway_topic: str) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    floor_id = Reader.objects.get(code="BLE-101").floor_id
    client.delete(floor_stream(floor_id))
    returncode, output = run_until("reader", gateway_topic, lambda: bool(client.xlen(floor_stream(floor_id))))
    assert returncode == 0 and "run_rtls stopped" in output and "Traceback" not in output, output
    entries = client.xrange(floor_stream(floor_id), count=1) or []
    read = read_from_fields(entries[0][1] or {})
    assert (read.tag_id, read.reader_id, read.rssi_dbm) == (TAG, "BLE-101", -61.0)
    client.delete(floor_stream(floor_id))
