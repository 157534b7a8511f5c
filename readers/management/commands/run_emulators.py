"""manage.py run_emulators: the demo hospital's hardware, emulated, speaking the real protocols."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from floorplans.models import Floor
from floorplans.selectors import floor_export
from readers.emulators.control import ControlListener
from readers.emulators.scenario import STAYS_PUT, ScenarioTag
from readers.emulators.world import EmulatedHospital, start_emulators
from readers.models import Reader
from security.doors.emulator import DoorControllerEmulator
from security.doors.selectors import controller_spec
from security.models import DoorController
from tracking.models import TrackedObject

logger = logging.getLogger(__name__)

# the scenario's behaviours (readers.emulators.scenario.BEHAVIOUR); any other kind walks as "other"
KINDS = frozenset({"staff", "asset", "infant", "mother", "bag"})


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


def listen_for_control(hospital: EmulatedHospital) -> None:
    """Band and carry commands (`manage.py emulate_band`) for these emulators, on the MQTT control topic
    (readers/emulators/control.py); stopped with them."""
    listener = ControlListener(hospital, host=settings.MQTT_HOST, port=settings.MQTT_PORT)
    listener.start()
    hospital.emulators.append(listener)


def start_door_emulators() -> list[DoorControllerEmulator]:
    """An emulated controller for every DoorController row (starting as its row last said: locked or not)."""
    emulators = []
    for row in DoorController.objects.all():
        spec = controller_spec(row)
        try:
            emulator = DoorControllerEmulator(spec, host=settings.MQTT_HOST, port=settings.MQTT_PORT)
        except ValueError as error:  # egress times the fire code does not allow: that door is not emulated
            logger.error("door controller %s not emulated: %s", row.code, error)
            continue
        emulator.start()
        emulators.append(emulator)
    return emulators


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
        handhelds = frozenset(Reader.objects.filter(options__contains={"mobile": True}, enabled=True)
                              .values_list("code", flat=True))  # audit sweeps' readers, carried round
        hospital = start_emulators(documents, tags, seed=options["seed"], mqtt_host=settings.MQTT_HOST,
                                   mqtt_port=settings.MQTT_PORT, handhelds=handhelds)
        hospital.emulators += start_door_emulators()
        listen_for_control(hospital)
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
