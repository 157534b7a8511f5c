"""The demo's BLE gateways are online even where no tag ever goes (floor L0): like real ones, the emulated
gateways upload when idle (Minew: their own record; ESPresense: telemetry), and run_readers counts that as
the gateway up. Real Mosquitto, real adapters, the health rows the readers' page and API show."""

from __future__ import annotations

import io
import socket
import threading
import time
import uuid
from typing import Any

import pytest
import redis
from django.core.management import call_command
from django.db import connection

from floorplans.models import Floor
from floorplans.selectors import floor_export
from readers.emulators.world import start_emulators
from readers.management.commands.run_emulators import scenario_tags
from readers.models import Reader, ReaderHealth

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_ble_gateway_of_the_demo_is_online_even_on_floor_l0_where_no_tag_goes(
    settings: Any, tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    for reader in Reader.objects.filter(kind=Reader.Kind.LLRP_READER):  # never the ports of a running demo
        reader.address = f"127.0.0.1:{_free_port()}"
        reader.save(update_fields=["address"])
    tags = scenario_tags()
    assert tags and not [tag for tag in tags if tag.floor_code == "L0"]  # no demo tag is ever on L0
    stream, out = f"test:reads:{uuid.uuid4().hex}", io.StringIO()

    def run() -> None:
        try:
            call_command("run_readers", stream=stream, health_every=2.0, run_for=5.0, stdout=out)
        finally:
            connection.close()

    runner = threading.Thread(target=run)
    runner.start()
    time.sleep(1.5)  # subscribed before the emulators start: their first ESPresense telemetry is heard
    documents = [floor_export(floor=floor) for floor in Floor.objects.all()]
    hospital = start_emulators(documents, tags, seed=5, mqtt_host=settings.MQTT_HOST, mqtt_port=settings.MQTT_PORT)
    try:
        runner.join(timeout=30)
    finally:
        hospital.stop()
        redis.Redis.from_url(settings.REDIS_URL).delete(stream)
    assert not runner.is_alive() and "run_readers stopped" in out.getvalue()
    gateways = {h.reader.code: h for h in ReaderHealth.objects.select_related("reader__floor")
                if h.reader.kind == Reader.Kind.BLE_GATEWAY}
    on_l0 = {code: h for code, h in gateways.items() if h.reader.floor.code == "L0"}
    assert len(on_l0) >= 10 and {h.reader.protocol for h in on_l0.values()} == {"ble_espresense", "ble_minew"}
    assert {code: (h.state, h.reads_total) for code, h in on_l0.items()} == dict.fromkeys(on_l0, ("online", 0))
    assert {code for code, h in gateways.items() if h.state != "online"} == set()
