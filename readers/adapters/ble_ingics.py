"""Ingics iGS gateways: text lines, one advertisement each, several lines per MQTT message or POST.

    $GPRP,0C61CFC1452E,E7DAE08E6FC3,-44,0201061AFF4C000215B9A5D27D56CC4E3AAB511F2153BCB9670001452ED6
    $GPRP,<tag MAC>,<gateway MAC>,<rssi>,<raw advertisement hex>[,*<unix time>]   (time only with NTP on)

`$GPRP` is an advertisement, `$RSPR` a scan response (both are sightings); other report types
(heartbeats) are dropped as `unknown_format`. The raw advertisement is decoded for beacon ids and battery.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from readers.adapters.base import register
from readers.adapters.ble_mqtt import (
    BleMqttAdapter,
    Drop,
    advert,
    ble_read,
    collect,
    from_hex,
    gateway_reader,
    rssi_dbm,
    seen_at,
    status_of,
    tag_mac,
)
from readers.drops import DropCounter, DropReason
from readers.reads import TagRead

PROTOCOL = "ble_ingics"
_SIGHTINGS = ("$GPRP", "$RSPR")


def parse_ingics(
    payload: bytes | str,
    *,
    topic: str,
    gateways: Mapping[str, str],
    drops: DropCounter,
    now: datetime,
    source: str = "",
) -> list[TagRead]:
    """Ingics report lines -> a TagRead per good `$GPRP` / `$RSPR` line."""
    source = source or PROTOCOL
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("ascii")
        except UnicodeDecodeError:
            drops.drop(DropReason.GARBLED, reader_id=source, detail=f"not ASCII text: {payload[:60]!r}")
            return []
    lines = [line.strip() for line in payload.splitlines() if line.strip()]
    return collect(lines, lambda line: _read(line, gateways=gateways, now=now), drops=drops, reader_id=source)


def _read(line: str, *, gateways: Mapping[str, str], now: datetime) -> TagRead:
    fields = line.split(",")
    if fields[0] not in _SIGHTINGS:
        raise Drop(DropReason.UNKNOWN_FORMAT, f"report type {fields[0][:16]!r}")
    if len(fields) < 5:
        raise Drop(DropReason.TRUNCATED, f"{len(fields)} of 5 fields: {line[:80]!r}")
    reader_id = gateway_reader(fields[2], gateways, what="Ingics gateway MAC")
    try:
        tag_id = tag_mac(fields[1])
        rssi = rssi_dbm(fields[3].strip())
        at = seen_at(fields[5].strip().lstrip("*") or None, now) if len(fields) > 5 else now
        adv = advert(from_hex(fields[4].strip(), what="advertisement"))
    except Drop as drop:
        drop.reader_id = drop.reader_id or reader_id
        raise
    raw: dict[str, Any] = {"payload": line, **adv.beacon_ids}
    return ble_read(tag_id=tag_id, reader_id=reader_id, at=at, rssi=rssi, status=status_of(adv), raw=raw)


@register
class IngicsAdapter(BleMqttAdapter):
    protocol = PROTOCOL
    parse = staticmethod(parse_ingics)
