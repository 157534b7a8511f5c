"""Shared set-up for the console, API, access-log and report tests: the small ward with a mother and two
protected infants (one located in room 101, one never located), the stairs exit's maglock on MQTT topics of
the test's own, recorded history for a trail, and a subscriber on the real broker."""

from __future__ import annotations

import json
import queue
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor, Zone
from security.models import DoorController, Infant, Mother
from tests.security.test_services_helpers import Ward, infant_make, mother_make, ward_setup
from tracking.models import CurrentLocation, LocationHistory, Method, Tag
from tracking.store.partitions import history_partitions_maintain

BABY, OTHER, MOTHER = "B001", "B002", "A001"


@dataclass(frozen=True)
class Nursery:
    w: Ward
    mother: Mother
    baby: Infant  # Baby Jones, tag B001, with her mother; located in room 101
    other: Infant  # Baby Brown, tag B002, no mother tag; never located
    exit: DoorController  # maglock-3N, the stairs exit X-1's lock, online and unlocked

    @property
    def floor(self) -> Floor:
        return self.w.floor


def locate(tag_id: str, floor: Floor, x_m: float, y_m: float, *, zone: Zone | None,
           seen_at: datetime | None = None) -> None:
    """The pipeline's latest word on the tag."""
    at = seen_at or timezone.now()
    CurrentLocation.objects.update_or_create(tag=Tag.objects.get(tag_id=tag_id), defaults={
        "floor": floor, "zone": zone, "position": Point(x_m, y_m, srid=FLOOR_SRID), "accuracy_m": 0.5,
        "method": Method.TRACKED, "stationary": False, "seen_at": at, "updated_at": at})


def walk(tag_id: str, floor: Floor, points: list[tuple[float, float]], *, start: datetime,
         every: timedelta = timedelta(seconds=20)) -> None:
    """Recorded history: the tag at these points, one every `every` from `start` (partitions made first)."""
    history_partitions_maintain(now=start - timedelta(days=1), days_ahead=2)
    tag = Tag.objects.get(tag_id=tag_id)
    LocationHistory.objects.bulk_create([
        LocationHistory(tag=tag, floor=floor, zone=None, position=Point(x, y, srid=FLOOR_SRID), accuracy_m=0.5,
                        method=Method.TRACKED, seen_at=start + i * every)
        for i, (x, y) in enumerate(points)
    ])


def nursery_setup(floor: Floor) -> Nursery:
    """The ward, its mother and infants, the exit maglock (its MQTT topics under a root of this test's own)."""
    topic_root = f"test/{uuid.uuid4().hex[:12]}/doors"
    w = ward_setup(floor)
    mother = mother_make(w, MOTHER)
    baby = infant_make(w, BABY, name="Baby Jones", mother=mother)
    other = infant_make(w, OTHER, name="Baby Brown")
    locate(BABY, floor, 3.0, 14.8, zone=w.room101)
    exit_lock = DoorController.objects.create(code="maglock-3N", name="Stairs 1 exit", floor=floor,
                                              topic=f"{topic_root}/maglock-3N", online=True, locked=False)
    return Nursery(w=w, mother=mother, baby=baby, other=other, exit=exit_lock)


class Subscriber:
    """Collects the JSON messages published on a topic of the real broker."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-sub-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda _c, _u, message: self.messages.put(json.loads(message.payload))
        self.subscribed = queue.Queue[bool]()
        self.client.on_subscribe = lambda *_: self.subscribed.put(True)

    def __enter__(self) -> Subscriber:
        self.client.connect(settings.MQTT_HOST, settings.MQTT_PORT)
        self.client.loop_start()
        self.client.subscribe(self.topic, qos=1)
        self.subscribed.get(timeout=5)
        return self

    def __exit__(self, *_: object) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def next(self, timeout_s: float = 3.0) -> dict[str, Any]:
        return self.messages.get(timeout=timeout_s)
