"""Driving the running emulators from outside: band commands and carrying a tag, over MQTT.

`manage.py emulate_band` publishes one JSON command to CONTROL_TOPIC; `run_emulators` listens there
(ControlListener) and answers on `<topic>/ack` with `{"id", "ok", "message"}`:

    {"id": "<uuid>", "cmd": "strap",   "tag": "B001", "state": "closed|loose|cut"}
    {"id": "<uuid>", "cmd": "battery", "tag": "B001", "pct": 8}
    {"id": "<uuid>", "cmd": "press",   "tag": "M001"}
    {"id": "<uuid>", "cmd": "shield",  "tag": "B001", "on": true}
    {"id": "<uuid>", "cmd": "carry",   "tag": "B001", "to": "D-L2-STAIR-A", "speed_m_s": 0.8}

`carry` walks the tag from where it is, through the doorways, to a place: a door code means a point just
past the door on its far side (the to-zone; the from-zone if the tag is already there), a zone code a
point inside the zone. No Django.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from shapely.geometry import shape

from readers.emulators.band import STRAP_STATES, BandBook, UnknownBand
from readers.emulators.floorgraph import FloorGraph
from readers.emulators.scenario import Scenario, zone_at

if TYPE_CHECKING:
    from readers.emulators.world import EmulatedHospital

logger = logging.getLogger(__name__)

CONTROL_TOPIC = "hospital_iot/emulator/control"
CARRY_SPEED_M_S = 0.8  # carrying an infant: a brisk walk


class ControlError(ValueError):
    """A command the emulators cannot carry out; the message says why, in a sentence."""


@dataclass(frozen=True)
class Place:
    """Where `carry` can take a tag: a point on a floor, and the zone it lies in."""

    floor_code: str
    zone: str
    xy_m: tuple[float, float]
    other_side: tuple[str, tuple[float, float]] | None = None  # a door's near side, for a tag already beyond it


def places_of(documents: list[dict[str, Any]], graphs: dict[str, FloorGraph]) -> dict[str, Place]:
    """Door and walkable-zone codes of every floor -> the Place `carry` goes to."""
    places: dict[str, Place] = {}
    for doc in documents:
        graph = graphs.get(doc["hospital_iot"]["floor"]["code"])
        if graph is None:
            continue
        for code, polygon in graph.zones.items():
            point = polygon.representative_point()
            places[code] = Place(graph.floor_code, code, (float(point.x), float(point.y)))
        for feature in doc["features"]:
            props = feature["properties"]
            if props["feature"] == "door":
                place = _door_place(graph, props["from_zone"], props["to_zone"], shape(feature["geometry"]))
                if place is not None:
                    places[props["code"]] = place
    return places


def _door_place(graph: FloorGraph, near: str, far: str, line: Any) -> Place | None:
    middle = line.interpolate(0.5, normalized=True)
    for portal in graph.portals.get(far, []):
        (x_m, y_m), ends = portal.middle, {portal.a, portal.b}
        if ends == {near, far} and abs(x_m - middle.x) + abs(y_m - middle.y) < 1e-6:
            return Place(graph.floor_code, far, portal.inside[far], (near, portal.inside[near]))
    return None  # a door into a zone nobody walks (not on the graph)


def apply_command(
    command: Any, *, bands: BandBook | None, scenario: Scenario, places: dict[str, Place], now_s: float,
) -> str:
    """Carry out one command; returns what was done, in a sentence. Raises ControlError."""
    if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
        raise ControlError(f"not a command: {str(command)[:80]!r} (want a JSON object with cmd and tag)")
    cmd, tag = command["cmd"], command.get("tag")
    if not isinstance(tag, str) or not tag:
        raise ControlError(f"{cmd}: no tag")
    if cmd == "carry":
        return _carry(command, tag, scenario=scenario, places=places, now_s=now_s)
    if bands is None:
        raise ControlError("the running emulators have no band tags")
    try:
        if cmd == "strap":
            bands.strap(tag, str(command.get("state")))
            return f"{tag}: strap {command['state']}"
        if cmd == "battery":
            pct = command.get("pct")
            if isinstance(pct, bool) or not isinstance(pct, int | float):
                raise ControlError(f"battery {tag}: pct {pct!r} is not a number")
            bands.battery(tag, float(pct), at_s=now_s)
            return f"{tag}: battery at {pct:g} %"
        if cmd == "press":
            bands.press(tag)
            return f"{tag}: button pressed"
        if cmd == "shield":
            on = command.get("on")
            if not isinstance(on, bool):
                raise ControlError(f"shield {tag}: on must be true or false, got {on!r}")
            bands.shield(tag, on)
            return f"{tag}: {'shielded (silent)' if on else 'unshielded'}"
    except UnknownBand as exc:
        raise ControlError(str(exc)) from None
    except ValueError as exc:
        raise ControlError(f"{cmd} {tag}: {exc}") from None
    raise ControlError(f"unknown command {cmd!r}: strap ({'/'.join(STRAP_STATES)}), battery, press, shield, carry")


def _carry(command: dict[str, Any], tag: str, *, scenario: Scenario, places: dict[str, Place], now_s: float) -> str:
    goal = places.get(str(command.get("to")))
    if goal is None:
        raise ControlError(f"carry {tag}: no door or zone {command.get('to')!r} on the emulated floors")
    speed = command.get("speed_m_s", CARRY_SPEED_M_S)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0 < speed <= 3:
        raise ControlError(f"carry {tag}: speed {speed!r} m/s, want more than 0 and at most 3")
    here = next((p for p in scenario.positions(now_s) if p.tag_id == tag), None)
    if here is None:
        raise ControlError(f"carry: no tag {tag!r} among the emulated tags")
    if here.floor_code != goal.floor_code:
        raise ControlError(f"carry {tag}: it is on floor {here.floor_code}, {command['to']} on {goal.floor_code}")
    graph = scenario.graphs[goal.floor_code]
    start_xy = (here.x_m, here.y_m)
    start = zone_at(graph, start_xy) or here.zone
    zone, xy = (goal.other_side if start == goal.zone and goal.other_side else (goal.zone, goal.xy_m))
    try:
        points = graph.waypoints(start, zone, start_xy, xy)
    except ValueError as exc:
        raise ControlError(f"carry {tag}: {exc}") from None
    scenario.carry(tag, goal.floor_code, points[1:], float(speed))
    length_m = sum(math.dist(a, b) for a, b in itertools.pairwise(points))
    return f"{tag}: carried from {start} to {command['to']} ({length_m:.0f} m at {speed:g} m/s)"


class ControlListener:
    """Subscribes to the control topic and applies each command to the running emulators (the paho thread
    does the work: commands are few and quick). Stopped with the emulators (`stop()`)."""

    def __init__(
        self, hospital: EmulatedHospital, *, host: str, port: int, topic: str = CONTROL_TOPIC,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hospital, self.host, self.port, self.topic, self.clock = hospital, host, port, topic, clock
        self.handled = 0
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hospital_iot-emulator-control-{id(self):x}")
        self._client.on_connect = lambda client, *_args: client.subscribe(self.topic, qos=1)
        self._client.on_subscribe = lambda *_args: self._subscribed.set()
        self._client.on_message = lambda _client, _userdata, msg: self._on_message(bytes(msg.payload))

    def start(self, *, timeout_s: float = 5.0) -> None:
        """Connect and subscribe (raises ConnectionError if the broker does not answer in timeout_s)."""
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise ConnectionError(f"MQTT broker {self.host}:{self.port}: no subscription in {timeout_s} s")
        logger.info("emulator control: listening on %s", self.topic)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def handle(self, payload: bytes) -> dict[str, Any]:
        """One command payload -> the answer `{"id", "ok", "message"}` (never raises)."""
        try:
            command = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            return {"id": None, "ok": False, "message": f"not JSON: {payload[:80]!r}"}
        ident = command.get("id") if isinstance(command, dict) else None
        hospital = self.hospital
        try:
            message = apply_command(command, bands=hospital.bands, scenario=hospital.scenario,
                                    places=hospital.places, now_s=self.clock())
        except ControlError as exc:
            return {"id": ident, "ok": False, "message": str(exc)}
        return {"id": ident, "ok": True, "message": message}

    def _on_message(self, payload: bytes) -> None:
        try:
            answer = self.handle(payload)
        except Exception:  # a bug must not end the listener's network thread
            logger.exception("emulator control: command %r failed", payload[:200])
            answer = {"id": None, "ok": False, "message": "the emulators failed on this command (see their log)"}
        self.handled += 1
        log = logger.info if answer["ok"] else logger.warning
        log("emulator control: %s", answer["message"])
        self._client.publish(f"{self.topic}/ack", json.dumps(answer), qos=1)


def send_command(
    command: dict[str, Any], *, host: str, port: int, topic: str = CONTROL_TOPIC, wait_s: float = 3.0,
) -> dict[str, Any] | None:
    """Publish one command (an `id` is added if missing) and wait for the emulators' answer to it; None if
    none came within wait_s. Raises ConnectionError if the broker is not there."""
    command = {"id": uuid.uuid4().hex, **command}
    answered = threading.Event()
    subscribed = threading.Event()
    answer: dict[str, Any] = {}

    def on_message(_client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            reply = json.loads(msg.payload)
        except ValueError:
            return
        if isinstance(reply, dict) and reply.get("id") == command["id"]:
            answer.update(reply)
            answered.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hospital_iot-emulate-{command['id'][:8]}")
    client.on_connect = lambda c, *_args: c.subscribe(f"{topic}/ack", qos=1)
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_message = on_message
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        if not subscribed.wait(wait_s):
            raise ConnectionError(f"MQTT broker {host}:{port} did not answer in {wait_s} s")
        client.publish(topic, json.dumps(command), qos=1).wait_for_publish(wait_s)
        return answer if answered.wait(wait_s) else None
    finally:
        client.disconnect()
        client.loop_stop()
