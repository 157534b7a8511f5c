"""manage.py run_emulators: the demo hospital's hardware, emulated, speaking the real protocols."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from floorplans.models import Floor
from floorplans.selectors import floor_export
from readers.emulators.scenario import STAYS_PUT, ScenarioTag
from readers.emulators.world import start_emulators
from tracking.models import TrackedObject

KINDS = frozenset({"staff", "asset", "infant", "bag"})  # the scenario's behaviours; any other kind walks as "other"


def scenario_tags() -> list[ScenarioTag]:
    """Every active tag carried by something with a home zone, on that zone's floor (a bag: at its bed)."""
    objects = (TrackedObject.objects.filter(tag__active=True)
               .select_related("tag", "home_zone__floor", "asset__home_zone__floor"))
    tags = []
    for obj in objects:
        home = obj.home_zone or (obj.asset.home_zone if hasattr(obj, "asset") else None)
        if obj.tag is not None and home is not None:
            kind = obj.kind if obj.kind in KINDS else "other"
            spot = None
            if kind in STAYS_PUT:  # a bag hangs at its bed: a fixed spot inside the home zone
                point = home.polygon.point_on_surface
                spot = (float(point.x), float(point.y))
            tags.append(ScenarioTag(obj.tag.tag_id, obj.tag.tech, kind, home.floor.code, home.code, spot))
    return tags


class Command(BaseCommand):
    help = "Emulate the readers of every floor (LLRP over TCP, BLE gateways and UWB over MQTT) until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (0: run on)")

    def handle(self, *args: Any, **options: Any) -> None:
        documents = [floor_export(floor=floor) for floor in Floor.objects.select_related("building__site")]
        tags = scenario_tags()
        if not documents or not tags:
            raise CommandError("no floors or no tags with a home zone; run `manage.py load_demo` first")
        hospital = start_emulators(documents, tags, seed=options["seed"],
                                   mqtt_host=settings.MQTT_HOST, mqtt_port=settings.MQTT_PORT)
        self.stdout.write(f"run_emulators: {len(hospital.emulators)} emulators, {len(tags)} tags moving; Ctrl-C stops")
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        deadline = time.monotonic() + options["run_for"] if options["run_for"] else float("inf")
        try:
            while not stop.wait(0.5) and time.monotonic() < deadline:
                pass
        except KeyboardInterrupt:
            pass
        hospital.stop()
        self.stdout.write("run_emulators stopped")
