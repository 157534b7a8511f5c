"""ESPresense: one JSON message per device per room node, on `espresense/devices/<device-id>/<room>`.

    {"mac":"dd8800003777","id":"iBeacon:426c7565-4368-6172-6d42-6561636f6e73-3838-4949","rssi@1m":-59,
     "rssi":-81.10,"rxAdj":0,"rssiVar":7.42,"distance":6.58,"var":4.00,"int":2028}

The gateway is the room (last topic level). The tag is `mac`; when a device has no `mac` field its
device-id level is used if it is a MAC. No timestamp: the receive time is the sighting time.

Every node also publishes its telemetry every 15 s, whether or not it hears a tag, on
`espresense/rooms/<room>/telemetry` (`{"ip": ..., "uptime": ..., "rssi": ..., "freeHeap": ...}`): the adapter
subscribes to it beside the devices topic, and a node's telemetry adds its reader id to `heard` (the node
is up; no read, no drop). Its body is not read. Other room topics (status, settings) are `unknown_format`.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from readers.adapters.base import register
from readers.adapters.ble_adv import norm_mac
from readers.adapters.ble_mqtt import BleMqttAdapter, Drop, gateway_reader, load_json, rssi_dbm, tag_mac
from readers.adapters.mqtt_wire import Message
from readers.drops import DropCounter, DropReason
from readers.reads import TagRead, Tech

PROTOCOL = "ble_espresense"
ROUTE_CACHE_SIZE = 65_536  # topics remembered: one per (device, room); 5,000 tags x 10 rooms fits
Route = tuple[str, str | None]  # (reader_id of the room, device-id topic level; None: the node's telemetry)
# json.loads's own scanner, called directly; typeshed wants a make_scanner as its context (its TODO: a decoder)
_scan_json = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def parse_espresense(
    payload: bytes | str,
    *,
    topic: str,
    gateways: Mapping[str, str],
    drops: DropCounter,
    now: datetime,
    source: str = "",
    heard: set[str] | None = None,
) -> list[TagRead]:
    """One ESPresense device message -> zero or one TagRead (a node's telemetry -> none; the node into `heard`)."""
    try:
        reader_id, device_id = _route(topic, gateways)
    except Drop as drop:
        drop.record(drops, source or PROTOCOL)
        return []
    if device_id is None:
        if heard is not None:
            heard.add(reader_id)
        return []
    try:
        return [_read(load_json(payload), device_id=device_id, reader_id=reader_id, now=now)]
    except Drop as drop:
        drop.record(drops, reader_id)
        return []


def parse_espresense_batch(
    messages: Iterable[Message],
    *,
    gateways: Mapping[str, str],
    drops: DropCounter,
    now: datetime,
    source: str = "",
    routes: dict[bytes, Route | Drop],
    heard: set[str] | None = None,
) -> list[TagRead]:
    """Many (topic bytes, payload) messages -> the same reads and drops as `parse_espresense` on each, with
    less work per message: each topic is resolved once (kept in `routes`, bounded), and a payload that is
    one plain JSON object is scanned without json.loads's wrappers (anything else takes json.loads)."""
    reads: list[TagRead] = []
    append = reads.append
    for topic, payload in messages:
        route = routes.get(topic)
        if route is None:
            route = routes[topic] = _route_of_bytes(topic, gateways)
            if len(routes) > ROUTE_CACHE_SIZE:
                routes.clear()  # bounded: a flood of new topics costs a re-resolve, never memory
        if isinstance(route, Drop):
            route.record(drops, source or PROTOCOL)
            continue
        reader_id, device_id = route
        if device_id is None:  # the node's telemetry: it is up
            if heard is not None:
                heard.add(reader_id)
            continue
        try:
            message = _json_object(payload)
            append(_read(load_json(payload) if message is None else message, device_id=device_id,
                         reader_id=reader_id, now=now))
        except Drop as drop:
            drop.record(drops, reader_id)
    return reads


def _route(topic: str, gateways: Mapping[str, str]) -> Route:
    levels = topic.split("/")
    if len(levels) >= 3 and levels[-3] == "rooms" and levels[-1] == "telemetry":
        return gateway_reader(levels[-2], gateways, what="ESPresense room"), None
    if len(levels) < 3 or levels[-3] != "devices":
        raise Drop(DropReason.UNKNOWN_FORMAT, f"topic {topic[:80]!r} is not espresense/devices/<id>/<room>")
    return gateway_reader(levels[-1], gateways, what="ESPresense room"), levels[-2]


def telemetry_topic(devices_topic: str) -> str | None:
    """The telemetry filter of the nodes a devices subscription covers: `espresense/devices/#` ->
    `espresense/rooms/+/telemetry`, `site/espresense/devices/+/kitchen` -> `site/espresense/rooms/kitchen/telemetry`;
    None for a filter with no `devices` level."""
    levels = devices_topic.split("/")
    if "devices" not in levels:
        return None
    at = len(levels) - 1 - levels[::-1].index("devices")
    room = levels[at + 2] if at + 2 < len(levels) and levels[at + 2] not in ("+", "#") else "+"
    return "/".join([*levels[:at], "rooms", room, "telemetry"])


def _route_of_bytes(topic: bytes, gateways: Mapping[str, str]) -> Route | Drop:
    try:
        return _route(topic.decode(), gateways)
    except UnicodeDecodeError:
        return Drop(DropReason.GARBLED, f"topic {topic[:80]!r} is not UTF-8")
    except Drop as drop:
        return drop


def _json_object(payload: bytes) -> dict[str, Any] | None:
    """The payload as a dict if it is exactly one UTF-8 JSON object with nothing around it; else None."""
    try:
        text = payload.decode()
        value, end = _scan_json(text, 0)
    except (UnicodeDecodeError, StopIteration, ValueError, RecursionError):
        return None
    return value if end == len(text) and type(value) is dict else None


def _read(message: Any, *, device_id: str, reader_id: str, now: datetime) -> TagRead:
    if not isinstance(message, dict):
        raise Drop(DropReason.WRONG_TYPE, f"message is {type(message).__name__}, not an object")
    mac = message.get("mac")
    tag_id = tag_mac(mac if mac is not None else norm_mac(device_id))
    rssi = rssi_dbm(message.get("rssi"))
    raw: dict[str, Any] = {"payload": message}
    beacon = message.get("id")
    if isinstance(beacon, str) and beacon[:8].lower() == "ibeacon:":
        raw["ibeacon"] = beacon[8:].lower()
    return TagRead(tag_id=tag_id, reader_id=reader_id, tech=Tech.BLE, seen_at=now, rssi_dbm=rssi, raw=raw)


@register
class EspresenseAdapter(BleMqttAdapter):
    protocol = PROTOCOL
    default_topic = "espresense/devices/#"
    parse = staticmethod(parse_espresense)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._routes: dict[bytes, Route | Drop] = {}

    def extra_topics(self) -> tuple[str, ...]:
        telemetry = telemetry_topic(self.topic)
        return () if telemetry is None else (telemetry,)

    def parse_batch(self, messages: list[Message], *, now: datetime) -> list[TagRead]:
        heard: set[str] = set()
        reads = parse_espresense_batch(messages, gateways=self.gateways, drops=self.drops, now=now,
                                       source=self.settings.code, routes=self._routes, heard=heard)
        if heard:
            self.alive(heard)
        return reads
