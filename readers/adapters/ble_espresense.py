"""ESPresense: one JSON message per device per room node, on `espresense/devices/<device-id>/<room>`.

    {"mac":"dd8800003777","id":"iBeacon:426c7565-4368-6172-6d42-6561636f6e73-3838-4949","rssi@1m":-59,
     "rssi":-81.10,"rxAdj":0,"rssiVar":7.42,"distance":6.58,"var":4.00,"int":2028}

The gateway is the room (last topic level). The tag is `mac`; when a device has no `mac` field its
device-id level is used if it is a MAC. No timestamp: the receive time is the sighting time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from readers.adapters.base import register
from readers.adapters.ble_adv import norm_mac
from readers.adapters.ble_mqtt import BleMqttAdapter, Drop, ble_read, gateway_reader, load_json, rssi_dbm, tag_mac
from readers.drops import DropCounter, DropReason
from readers.reads import TagRead

PROTOCOL = "ble_espresense"


def parse_espresense(
    payload: bytes | str,
    *,
    topic: str,
    gateways: Mapping[str, str],
    drops: DropCounter,
    now: datetime,
    source: str = "",
) -> list[TagRead]:
    """One ESPresense device message -> zero or one TagRead."""
    levels = topic.split("/")
    try:
        if len(levels) < 3 or levels[-3] != "devices":
            raise Drop(DropReason.UNKNOWN_FORMAT, f"topic {topic[:80]!r} is not espresense/devices/<id>/<room>")
        reader_id = gateway_reader(levels[-1], gateways, what="ESPresense room")
    except Drop as drop:
        drop.record(drops, source or PROTOCOL)
        return []
    try:
        return [_read(load_json(payload), device_id=levels[-2], reader_id=reader_id, now=now)]
    except Drop as drop:
        drop.record(drops, reader_id)
        return []


def _read(message: Any, *, device_id: str, reader_id: str, now: datetime) -> TagRead:
    if not isinstance(message, dict):
        raise Drop(DropReason.WRONG_TYPE, f"message is {type(message).__name__}, not an object")
    mac = message.get("mac")
    tag_id = tag_mac(mac if mac is not None else norm_mac(device_id))
    raw: dict[str, Any] = {"payload": message}
    beacon = message.get("id")
    if isinstance(beacon, str) and beacon.lower().startswith("ibeacon:"):
        raw["ibeacon"] = beacon[8:].lower()
    return ble_read(
        tag_id=tag_id, reader_id=reader_id, at=now, rssi=rssi_dbm(message.get("rssi")), status=None, raw=raw
    )


@register
class EspresenseAdapter(BleMqttAdapter):
    protocol = PROTOCOL
    default_topic = "espresense/devices/#"
    parse = staticmethod(parse_espresense)
