"""The demo end to end: emulated hardware speaks LLRP over TCP and BLE/UWB over the real Mosquitto, the
real adapters read it, run_readers records health and streams the reads into the real Redis."""

from __future__ import annotations

import io
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from floorplans.models import Floor
from floorplans.selectors import floor_export
from readers.codec import read_from_fields
from readers.emulators.world import EmulatedHospital, start_emulators
from readers.management.commands.run_emulators import scenario_tags
from readers.models import Reader, ReaderHealth
from tracking.assets.mobile_readers import fixed_readers_q

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def hospital(settings: Any, tmp_path: Any) -> Iterator[EmulatedHospital]:
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    for reader in Reader.objects.filter(kind=Reader.Kind.LLRP_READER):  # never the ports of a running demo
        reader.address = f"127.0.0.1:{_free_port()}"
        reader.save(update_fields=["address"])
    documents = [floor_export(floor=floor) for floor in Floor.objects.all()]
    emulated = start_emulators(documents, scenario_tags(), seed=5, mqtt_host=settings.MQTT_HOST,
                               mqtt_port=settings.MQTT_PORT)
    yield emulated
    emulated.stop()


def test_the_real_adapters_read_the_emulated_hospital(hospital: EmulatedHospital) -> None:
    stream = f"test:reads:{uuid.uuid4().hex}"
    out = io.StringIO()

    def run() -> None:
        try:
            call_command("run_readers", stream=stream, health_every=2.0, run_for=7.0, stdout=out)
        finally:
            connection.close()

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive() and "run_readers stopped" in out.getvalue()
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        reads = [read_from_fields(fields or {}) for _, fields in client.xrange(stream) or []]
    finally:
        client.delete(stream)
    techs = Counter(read.tech.value for read in reads)
    assert techs["ble"] > 100 and techs["uwb"] > 20, techs
    known = set(Reader.objects.values_list("code", flat=True))
    assert {read.reader_id for read in reads} <= known
    health = {h.reader.code: h for h in ReaderHealth.objects.select_related("reader")}
    portals = Reader.objects.filter(fixed_readers_q(), kind=Reader.Kind.LLRP_READER)  # the handheld: audits only
    assert portals.count() >= 6 and all(health[r.code].state == "online" for r in portals)  # even with no tag
    assert not ReaderHealth.objects.filter(reader__code="HH-4W").exists()  # run_readers leaves the handheld alone
    gateways_online = sum(h.state == "online" for h in health.values() if h.reader.kind == "ble_gateway")
    assert gateways_online >= 30
