"""The running maternity floor for the scenario tests (no tests here): the demo's L2 imported, its door
controllers on the default topics, two mothers and two infants wearing UWB bands; the UWB gateway emulator
publishing ranges and band status to the real Mosquitto, the real uwb_mqtt adapter reading them, the
pipeline worker running on its own thread with the app's event handlers (the security rules among them),
and an MQTT client listening to every door command, as a door controller would."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from django.contrib.gis.geos import Point
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion

from readers.adapters.base import ReaderSettings
from readers.adapters.uwb_mqtt import UwbMqttAdapter
from readers.drops import DropCounter
from readers.emulators.band import BandBook
from readers.emulators.floorgraph import FloorGraph
from readers.emulators.radio import RadioWorld, receivers_of
from readers.emulators.scenario import TagPosition
from readers.emulators.uwb_anchor import UwbMqttEmulator
from tests.security.test_rules_helpers import Maternity, l2_document, maternity_setup
from tracking.models import CurrentLocation, Tag
from tracking.pipeline.bus import InProcessBus
from tracking.pipeline.commit import StoreCommitter
from tracking.pipeline.config import ConfigSource, floor_seed_load
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.worker import PipelineWorker

BROKER = ("127.0.0.1", 1883)
DOOR_COMMANDS = "hospital_iot/doors/+/cmd"
WAIT_S = 10.0


class Walks:
    """Where each tag is at a wall-clock time: held at a point, or carried along points at a speed."""

    def __init__(self, start: dict[str, tuple[float, float]]) -> None:
        self._lock = threading.Lock()
        self._frames = {tag: [(0.0, x, y)] for tag, (x, y) in start.items()}  # (t_s, x_m, y_m) keyframes

    def at(self, tag: str, t_s: float) -> tuple[float, float]:
        with self._lock:
            frames = self._frames[tag]
        t, x, y = (np.array(column) for column in zip(*frames, strict=True))
        return float(np.interp(t_s, t, x)), float(np.interp(t_s, t, y))

    def carry(self, tag: str, points: list[tuple[float, float]], speed_m_s: float) -> float:
        """From where the tag is now along `points`; returns when it gets to the last one (unix s)."""
        now_s = time.time()
        x, y = self.at(tag, now_s)
        frames = [f for f in self._frames[tag] if f[0] < now_s] + [(now_s, x, y)]
        for px, py in points:
            t_s = frames[-1][0] + float(np.hypot(px - frames[-1][1], py - frames[-1][2])) / speed_m_s
            frames.append((t_s, px, py))
        with self._lock:
            self._frames[tag] = frames
        return frames[-1][0]

    def positions(self, t_s: float) -> list[TagPosition]:
        return [TagPosition(tag, "uwb", "L2", *self.at(tag, t_s), "") for tag in list(self._frames)]


class DoorListener:
    """Every message on hospital_iot/doors/+/cmd, with the wall-clock time it arrived."""

    def __init__(self) -> None:
        self.got: queue.Queue[tuple[float, str, dict[str, Any]]] = queue.Queue()
        self.seen: list[tuple[float, str, dict[str, Any]]] = []
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-h3a-doors-{uuid.uuid4().hex[:8]}")
        self._client.on_connect = lambda c, *_: c.subscribe(DOOR_COMMANDS, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = lambda _c, _u, msg: self.got.put((time.time(), msg.topic, json.loads(msg.payload)))

    def start(self) -> None:
        self._client.connect(*BROKER)
        self._client.loop_start()
        assert self._subscribed.wait(WAIT_S), "no SUBACK from the broker"

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def wait_for(self, match: Callable[[str, dict[str, Any]], bool], *, timeout_s: float = WAIT_S,
                 count: int = 1) -> list[tuple[float, str, dict[str, Any]]]:
        """The first `count` messages (seen before or arriving within timeout_s) that match(topic, doc)."""
        deadline = time.monotonic() + timeout_s
        while sum(match(t, d) for _, t, d in self.seen) < count and time.monotonic() < deadline:
            try:
                self.seen.append(self.got.get(timeout=0.02))
            except queue.Empty:
                continue
        found = [m for m in self.seen if match(m[1], m[2])]
        assert len(found) >= count, f"{len(found)} of {count} door commands within {timeout_s} s: {self.seen}"
        return found[:count]


@dataclass
class Hospital:
    m: Maternity
    walks: Walks
    bands: BandBook
    doors: DoorListener
    worker: PipelineWorker


def _pipeline_thread(worker: PipelineWorker, stop: threading.Event) -> None:
    try:
        worker.run(stop)
    finally:
        connection.close()  # this thread's own connection


def _adapter_thread(adapter: UwbMqttAdapter, bus: InProcessBus) -> None:
    for batch in adapter.batches():
        bus.put(batch)


@contextmanager
def hospital_running(start: dict[str, tuple[float, float]], *, seed: int = 11) -> Iterator[Hospital]:
    """The whole chain up and fixes flowing for every tag in `start` (tags B001, B002, A001, A002)."""
    m = maternity_setup(topic_prefix="hospital_iot/doors", readers=True)
    doc = l2_document()
    anchors = {p["hardware_id"]: p["code"] for p in (f["properties"] for f in doc["features"])
               if p["feature"] == "reader" and p["kind"] == "uwb_anchor"}
    walks, bands = Walks(start), BandBook(list(start), seed=seed)
    radio = RadioWorld({"L2": FloorGraph(doc)}, receivers_of(doc), seed=seed)
    prefix = f"test-h3a-{uuid.uuid4().hex[:8]}/uwb"
    emulator = UwbMqttEmulator(lambda t_s: radio.uwb(walks.positions(t_s), t_s), host=BROKER[0], port=BROKER[1],
                               topic_prefix=prefix, interval_s=0.1, bands=bands)
    adapter = UwbMqttAdapter(ReaderSettings(code="uwb-test", protocol="uwb_mqtt", address=f"{BROKER[0]}:{BROKER[1]}",
                                            topic=f"{prefix}/+/ranges", options={"anchors": anchors}),
                             drops=DropCounter())
    bus = InProcessBus()
    worker = PipelineWorker(bus=bus, source=ConfigSource(), metrics=PipelineMetrics("test"),
                            committer=StoreCommitter(), seed=lambda floor_id: floor_seed_load(floor_id=floor_id))
    worker.housekeeping()
    doors, stop = DoorListener(), threading.Event()
    threads = [threading.Thread(target=_adapter_thread, args=(adapter, bus), daemon=True),
               threading.Thread(target=_pipeline_thread, args=(worker, stop), daemon=True)]
    doors.start()
    for thread in threads:
        thread.start()
    emulator.start()
    try:
        yield Hospital(m, walks, bands, doors, worker)
    finally:
        emulator.stop()
        adapter.stop()
        stop.set()
        for thread in threads:
            thread.join(timeout=WAIT_S)
        doors.stop()
        assert not any(thread.is_alive() for thread in threads), "the adapter or the pipeline did not stop"


def located_near(tag: Tag, xy: tuple[float, float], within_m: float) -> bool:
    """Whether the pipeline has put the tag within within_m of xy (its CurrentLocation)."""
    row = CurrentLocation.objects.filter(tag=tag).first()
    return row is not None and row.position.distance(Point(*xy)) <= within_m


def wait_until(done: Callable[[], Any], *, timeout_s: float = WAIT_S, every_s: float = 0.02) -> Any:
    """Poll done() until it returns something true; that value (AssertionError after timeout_s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := done():
            return value
        time.sleep(every_s)
    raise AssertionError(f"not done within {timeout_s} s")
