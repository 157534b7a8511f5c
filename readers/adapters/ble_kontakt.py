"""Kontakt.io telemetry over MQTT: one JSON object, or an array of them, or the API's {"content": [...]}.

    {"trackingId":"fd:45:0a:68:25:7d","timestamp":"2022-03-20T23:39:00Z","batteryLevel":99,"channel":38,
     "rssi":-62,"sourceId":"12Bh000T","txPowerDbm":-4,"calibratedRssi1m":-69,"moving":false}

The tag is `trackingId` (its MAC); the gateway is `sourceId` (a Portal Beam's uniqueId or a gateway MAC).
Status: `batteryLevel` (%) and `moving`. Smart Badges report buttons as counters (`clickCounter`,
`secondButtonClickCounter`): a press is a change between two messages, so they stay in `raw` for the
stateful stage downstream instead of becoming a `button` bit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from readers.adapters.base import register
from readers.adapters.ble_mqtt import (
    BleMqttAdapter,
    Drop,
    as_float,
    ble_read,
    collect,
    gateway_reader,
    load_json,
    rssi_dbm,
    seen_at,
    tag_mac,
)
from readers.drops import DropCounter, DropReason
from readers.reads import TagRead, TagStatus

PROTOCOL = "ble_kontakt"


def parse_kontakt(
    payload: bytes | str,
    *,
    topic: str,
    gateways: Mapping[str, str],
    drops: DropCounter,
    now: datetime,
    source: str = "",
) -> list[TagRead]:
    """One Kontakt.io telemetry message -> a TagRead per good record."""
    source = source or PROTOCOL
    try:
        records = _records(load_json(payload))
    except Drop as drop:
        drop.record(drops, source)
        return []
    return collect(records, lambda r: _read(r, gateways=gateways, now=now), drops=drops, reader_id=source)


def _records(message: Any) -> list[Any]:
    if isinstance(message, dict) and isinstance(message.get("content"), list):
        return list(message["content"])
    if isinstance(message, list):
        return message
    return [message]


def _read(record: Any, *, gateways: Mapping[str, str], now: datetime) -> TagRead:
    if not isinstance(record, dict):
        raise Drop(DropReason.WRONG_TYPE, f"record is {type(record).__name__}, not an object")
    reader_id = gateway_reader(record.get("sourceId"), gateways, what="Kontakt.io sourceId")
    try:
        tag_id = tag_mac(record.get("trackingId"))
        rssi = rssi_dbm(record.get("rssi"))
        at = seen_at(record.get("timestamp"), now)
    except Drop as drop:
        drop.reader_id = drop.reader_id or reader_id
        raise
    return ble_read(
        tag_id=tag_id, reader_id=reader_id, at=at, rssi=rssi, status=_status(record), raw={"payload": record}
    )


def _status(record: dict[str, Any]) -> TagStatus | None:
    battery = as_float(record.get("batteryLevel"))
    battery_pct = round(battery) if battery is not None and 0 <= battery <= 100 else None
    moving = record.get("moving")
    moving = moving if isinstance(moving, bool) else None
    if battery_pct is None and moving is None:
        return None
    return TagStatus(battery_pct=battery_pct, moving=moving)


@register
class KontaktAdapter(BleMqttAdapter):
    protocol = PROTOCOL
    parse = staticmethod(parse_kontakt)
