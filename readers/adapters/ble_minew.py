"""Minew G1-style gateways: a JSON array per publish (or HTTP POST), the gateway's own record first.

    [{"timestamp":"2019-08-01T05:54:25Z","type":"Gateway","mac":"AC233FC001EA","gatewayFree":98,"gatewayLoad":0.05},
     {"timestamp":"2020-11-16T20:28:25.365Z","type":"iBeacon","mac":"0BE383050DE8","bleName":"",
      "ibeaconUuid":"6A08635B25F7410A8CF860EEFA2E6EAB","ibeaconMajor":1000,"ibeaconMinor":1500,"rssi":-58,
      "ibeaconTxPower":-70,"battery":0}]

The gateway is the `Gateway` record's `mac`, else the first topic level that is a MAC (`gw/<mac>/...`).
Each device record becomes one read at its own `timestamp`; a bad record costs itself only. A gateway that
heard no tag still uploads at its interval, its own record alone: no read, but the gateway is up (`heard`).
`battery` is a percentage; frames that carry none (plain iBeacon) report 0, which we read as unknown
(a tag with a truly empty battery does not advertise). `rawData` (hex advertisement, when the gateway is
set to send it) is decoded for beacon ids, TLM/Minew battery and an infant/mother band's status frame
(strap, button, battery: docs/tags.md).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from readers.adapters.base import register
from readers.adapters.ble_adv import ibeacon_key, norm_mac
from readers.adapters.ble_mqtt import (
    BleMqttAdapter,
    Drop,
    advert,
    as_float,
    ble_read,
    collect,
    from_hex,
    gateway_reader,
    load_json,
    rssi_dbm,
    seen_at,
    tag_mac,
)
from readers.adapters.mqtt_wire import Message
from readers.drops import DropCounter, DropReason
from readers.reads import TagRead, TagStatus, Tech

PROTOCOL = "ble_minew"


def parse_minew(
    payload: bytes | str,
    *,
    topic: str,
    gateways: Mapping[str, str],
    drops: DropCounter,
    now: datetime,
    source: str = "",
    heard: set[str] | None = None,
) -> list[TagRead]:
    """One Minew publish -> a TagRead per good device record. A known gateway whose upload made no read (its
    own record alone, or only bad records) goes into `heard`: it is up, though it delivered no sighting; one
    that made reads is online by them already."""
    try:
        records = _records(load_json(payload))
        devices = [r for r in records if not (isinstance(r, dict) and r.get("type") == "Gateway")]
        reader_id = gateway_reader(_gateway(records, topic), gateways, what="Minew gateway MAC",
                                   count=max(len(devices), 1))  # an unknown gateway's idle upload: one drop
    except Drop as drop:
        drop.record(drops, source or PROTOCOL)
        return []
    reads = collect(devices, lambda r: _read(r, reader_id=reader_id, now=now), drops=drops, reader_id=reader_id)
    if not reads and heard is not None:
        heard.add(reader_id)
    return reads


def _records(message: Any) -> list[Any]:
    if isinstance(message, dict):  # some firmware sends one object, or wraps the array
        return message["data"] if isinstance(message.get("data"), list) else [message]
    if not isinstance(message, list):
        raise Drop(DropReason.WRONG_TYPE, f"message is {type(message).__name__}, not an array")
    return message


def _gateway(records: list[Any], topic: str) -> str | None:
    for record in records:
        if isinstance(record, dict) and record.get("type") == "Gateway" and isinstance(record.get("mac"), str):
            return str(record["mac"])
    return next((level for level in topic.split("/") if norm_mac(level)), None)


# fields that make a record more than a MAC, an RSSI and a time: a record with none of them takes the short path
_EXTRAS = frozenset({"battery", "ibeaconUuid", "ibeaconMajor", "ibeaconMinor", "rawData"})


def _read(record: Any, *, reader_id: str, now: datetime) -> TagRead:
    if not isinstance(record, dict):
        raise Drop(DropReason.WRONG_TYPE, f"record is {type(record).__name__}, not an object")
    tag_id = tag_mac(record.get("mac"))
    rssi = rssi_dbm(record.get("rssi"))
    at = seen_at(record.get("timestamp"), now)
    raw: dict[str, Any] = {"payload": record}
    if _EXTRAS.isdisjoint(record):  # most records of a busy gateway: the same read, without the lookups below
        return TagRead(tag_id, reader_id, Tech.BLE, at, rssi, raw=raw)
    battery = as_float(record.get("battery"))
    battery_pct = round(battery) if battery is not None and 0 < battery <= 100 else None
    ibeacon = ibeacon_key(record.get("ibeaconUuid"), record.get("ibeaconMajor"), record.get("ibeaconMinor"))
    if ibeacon:
        raw["ibeacon"] = ibeacon
    status = None if battery_pct is None else TagStatus(battery_pct=battery_pct)
    if record.get("rawData"):
        adv = advert(from_hex(record["rawData"], what="rawData"))
        raw.update(adv.beacon_ids)
        if status is None or adv.band is not None:  # a band frame's status wins over the gateway's battery
            status = adv.status
    return ble_read(tag_id=tag_id, reader_id=reader_id, at=at, rssi=rssi, status=status, raw=raw)


@register
class MinewAdapter(BleMqttAdapter):
    protocol = PROTOCOL
    parse = staticmethod(parse_minew)

    def parse_batch(self, messages: list[Message], *, now: datetime) -> list[TagRead]:
        """The reads of a window of uploads; the gateways that uploaded but made no read are told to `alive`."""
        heard: set[str] = set()
        reads = self.parse_each(messages, functools.partial(parse_minew, heard=heard), now=now)
        if heard:
            self.alive(heard)
        return reads
