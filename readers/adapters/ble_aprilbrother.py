"""April Brother BLE Gateway V4: MessagePack, one map per MQTT publish or HTTP POST.

    {"v": "1.5.x", "mid": 1234, "time": 56789, "ip": "192.168.1.20", "mac": "12:34:56:78:9A:BC",
     "devices": [b"\\x02\\xc8\\xfd\\x19\\x49\\xa5\\x30\\xce\\x02\\x01\\x06...", ...]}

Each device entry is `adv_type(1) | MAC(6) | RSSI(1, value-256) | raw advertising data`; adv types 0-4
(connectable, directed, scannable, non-connectable, scan response) are sightings, others are dropped as
`unknown_format`. `time` is the gateway's *boot* time in seconds, not a clock: reads get the receive time.
A JSON body of the same shape (devices as hex strings) is accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgpack  # type: ignore[import-untyped]

from readers.adapters.base import register
from readers.adapters.ble_mqtt import (
    BleMqttAdapter,
    Drop,
    advert,
    ble_read,
    collect,
    from_hex,
    gateway_reader,
    load_json,
    status_of,
)
from readers.drops import DropCounter, DropReason, rssi_ok
from readers.reads import TagRead

PROTOCOL = "ble_aprilbrother"


def parse_aprilbrother(
    payload: bytes | str,
    *,
    topic: str,
    gateways: Mapping[str, str],
    drops: DropCounter,
    now: datetime,
    source: str = "",
) -> list[TagRead]:
    """One gateway message -> a TagRead per good device entry."""
    try:
        message = _load(payload)
        devices = message.get("devices")
        if not isinstance(devices, list):
            raise Drop(DropReason.MISSING_FIELD, "no devices list")
        reader_id = gateway_reader(message.get("mac"), gateways, what="April Brother gateway MAC", count=len(devices))
    except Drop as drop:
        drop.record(drops, source or PROTOCOL)
        return []
    return collect(devices, lambda d: _read(d, reader_id=reader_id, now=now), drops=drops, reader_id=reader_id)


def _load(payload: bytes | str) -> dict[str, Any]:
    if isinstance(payload, str) or payload[:1] == b"{":
        message = load_json(payload)
    else:
        try:
            message = msgpack.unpackb(payload, raw=False, strict_map_key=False)
        except (ValueError, TypeError, msgpack.UnpackException) as exc:
            reason = DropReason.TRUNCATED if "incomplete" in str(exc) else DropReason.GARBLED
            raise Drop(reason, f"bad MessagePack: {exc!r}") from None
    if not isinstance(message, dict):
        raise Drop(DropReason.WRONG_TYPE, f"message is {type(message).__name__}, not a map")
    return message


def _read(device: Any, *, reader_id: str, now: datetime) -> TagRead:
    entry = device if isinstance(device, bytes) else from_hex(device, what="device entry")
    if len(entry) < 8:
        raise Drop(DropReason.TRUNCATED, f"device entry {entry.hex()!r} is {len(entry)} of 8+ bytes")
    if entry[0] > 4:
        raise Drop(DropReason.UNKNOWN_FORMAT, f"advertising type {entry[0]}")
    rssi = float(entry[7] - 256)
    if not rssi_ok(rssi):
        raise Drop(DropReason.ABSURD_VALUE, f"rssi {rssi} dBm")
    adv = advert(entry[8:])
    raw: dict[str, Any] = {"payload": entry.hex(), "adv_type": entry[0], **adv.beacon_ids}
    return ble_read(
        tag_id=entry[1:7].hex().upper(), reader_id=reader_id, at=now, rssi=rssi, status=status_of(adv), raw=raw
    )


@register
class AprilBrotherAdapter(BleMqttAdapter):
    protocol = PROTOCOL
    parse = staticmethod(parse_aprilbrother)
