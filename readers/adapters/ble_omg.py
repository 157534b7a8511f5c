"""OpenMQTTGateway / Theengs Gateway: one JSON message per device, on `home/<gateway>/BTtoMQTT/<MAC>`
(or `home/<gateway>/BTtoMQTT` with the MAC only in the body).

    {"id":"45:F6:8A:76:86:C5","rssi":-55,"txpower":12,"distance":0.495572}

The gateway is the topic level before `BTtoMQTT` (its configured name, often its MAC). The tag is `id`
(or `mac`, or the last topic level). Theengs decoder fields are read when present: `batt` (%), and
`manufacturerdata` (hex, published with `publish_advdata`) or `uuid`/`major`/`minor` for iBeacons. An
infant/mother band's manufacturer data carries its status (strap, button, battery: docs/tags.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from readers.adapters.base import register
from readers.adapters.ble_adv import AD_MANUFACTURER, Advert, ibeacon_key
from readers.adapters.ble_mqtt import (
    BleMqttAdapter,
    Drop,
    advert,
    as_float,
    ble_read,
    from_hex,
    gateway_reader,
    load_json,
    rssi_dbm,
    tag_mac,
)
from readers.drops import DropCounter, DropReason
from readers.reads import TagRead, TagStatus

PROTOCOL = "ble_omg"
_LEVEL = "BTtoMQTT"


def parse_omg(
    payload: bytes | str,
    *,
    topic: str,
    gateways: Mapping[str, str],
    drops: DropCounter,
    now: datetime,
    source: str = "",
) -> list[TagRead]:
    """One OpenMQTTGateway/Theengs BTtoMQTT message -> zero or one TagRead."""
    levels = topic.split("/")
    try:
        if _LEVEL not in levels[1:]:
            raise Drop(DropReason.UNKNOWN_FORMAT, f"topic {topic[:80]!r} has no {_LEVEL} level")
        at = levels.index(_LEVEL)
        reader_id = gateway_reader(levels[at - 1], gateways, what="OMG gateway name")
    except Drop as drop:
        drop.record(drops, source or PROTOCOL)
        return []
    try:
        topic_mac = levels[at + 1] if len(levels) > at + 1 else None
        return [_read(load_json(payload), topic_mac=topic_mac, reader_id=reader_id, now=now)]
    except Drop as drop:
        drop.record(drops, reader_id)
        return []


def _read(message: Any, *, topic_mac: str | None, reader_id: str, now: datetime) -> TagRead:
    if not isinstance(message, dict):
        raise Drop(DropReason.WRONG_TYPE, f"message is {type(message).__name__}, not an object")
    tag_id = tag_mac(message.get("id") or message.get("mac") or topic_mac)
    rssi = rssi_dbm(message.get("rssi"))
    raw: dict[str, Any] = {"payload": message}
    battery = as_float(message.get("batt"))
    status = TagStatus(battery_pct=round(battery)) if battery is not None and 0 <= battery <= 100 else None
    adv = _manufacturer_advert(message)
    if adv is not None:
        raw.update(adv.beacon_ids)
        if adv.band is not None:  # an infant/mother band's status frame: strap, button, battery
            status = adv.status
    else:
        ibeacon = ibeacon_key(message.get("uuid"), message.get("major"), message.get("minor"))
        if ibeacon:
            raw["ibeacon"] = ibeacon
    return ble_read(tag_id=tag_id, reader_id=reader_id, at=now, rssi=rssi, status=status, raw=raw)


def _manufacturer_advert(message: dict[str, Any]) -> Advert | None:
    data = message.get("manufacturerdata")
    if isinstance(data, str) and data:
        value = from_hex(data, what="manufacturerdata")[:254]
        return advert(bytes((len(value) + 1, AD_MANUFACTURER)) + value)
    return None


@register
class OmgAdapter(BleMqttAdapter):
    protocol = PROTOCOL
    default_topic = "home/+/BTtoMQTT/#"
    parse = staticmethod(parse_omg)
