"""UWB over MQTT (JSON ranges, DWM1001 gateway positions) and the Sewio JSON feed -> TagReads.

Three payload shapes, each a pure parser pinned by tests/fixtures/uwb/*.json:
* ranges (ours, and what UwbMqttEmulator publishes):
  `{"tag": "1A2B", "ranges": [{"anchor": "0CA8", "range_m": 3.21, "ts": "2024-05-01T10:00:00.120Z"}]}`
  -> one TagRead per range, `reader_id` = our Reader.code for the anchor. `ts` is optional (ISO 8601;
  a naive one is taken as UTC; or unix seconds); without it the read is stamped on arrival. A band tag's
  blink adds `"status": {"flags": 5, "battery_mv": 2950, "seq": 42}` (the band frame's bits, docs/tags.md;
  `battery_mv` and `seq` optional): every read of that message carries it as TagRead.status. A bad status
  is dropped (counted) on its own; the ranges stay.
* Qorvo/Decawave DWM1001 gateway, topic `dwm/node/<node id>/uplink/location`:
  `{"position": {"x": 1.2, "y": 3.4, "z": 0.9, "quality": 93}, "superFrameNumber": 79}` (PANS PRO adds
  `"timestamp": "<unix µs>"`). The tag id is the topic's node id.
* Sewio RTLS feed (websocket/UDP): `{"body": {"address": "0x00205FF02A55", "datastreams": [{"id": "posX",
  "current_value": " 4.00", "at": "2017-09-06 15:00:12.142"}, …]}, "resource": "/feeds/30"}`.

A position (gateway or Sewio) is not a range: it becomes one TagRead with `range_m=None`,
`reader_id` = the adapter's own Reader.code, and `raw = {"format": "dwm_gateway"|"sewio",
"position_m": (x, y, z | None), "quality_pct": int | None, "accuracy_m": float | None, …}`.
"""

from __future__ import annotations

import json
import logging
import math
import queue
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from readers.adapters.base import ReaderAdapter, ReaderError, ReaderSettings, register
from readers.adapters.ble_adv import BandFrame
from readers.adapters.uwb_dwm1001 import anchor_code, anchors_option, range_ok
from readers.drops import DropCounter, DropReason, time_ok
from readers.reads import TagRead, TagStatus, Tech, utc_now

logger = logging.getLogger(__name__)

SEWIO_NO_CONFIDENCE_M = 9999.0  # Sewio's clr when it has no confidence radius at all
POLL_S = 0.2  # how long batches() waits for a message before looking at stop()
MAX_BATCH = 1000  # messages parsed into one batch at most


class _Drop(Exception):
    """Internal: one payload piece is dropped with this reason (caught right where it is counted)."""

    def __init__(self, reason: DropReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def parse_uwb_json(
    topic: str, payload: bytes, *, anchors: Mapping[str, str], reader_id: str, drops: DropCounter, now: datetime,
) -> list[TagRead]:
    """Any of the three shapes above, told apart by their keys. Pure."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        drops.drop(DropReason.GARBLED, reader_id=reader_id, detail=f"{topic}: {exc}")
        return []
    if isinstance(doc, dict) and "ranges" in doc:
        return parse_ranges(doc, anchors=anchors, reader_id=reader_id, drops=drops, now=now)
    if isinstance(doc, dict) and "position" in doc:
        return parse_gateway_location(topic, doc, reader_id=reader_id, drops=drops, now=now)
    if isinstance(doc, dict) and "body" in doc:
        return parse_sewio(doc, reader_id=reader_id, drops=drops, now=now)
    drops.drop(DropReason.UNKNOWN_FORMAT, reader_id=reader_id, detail=f"{topic}: {payload[:80]!r}")
    return []


def parse_ranges(
    doc: dict[str, Any], *, anchors: Mapping[str, str], reader_id: str, drops: DropCounter, now: datetime,
) -> list[TagRead]:
    """`{"tag": …, "ranges": [{"anchor": …, "range_m": …, "ts"?: …}]}`: a bad range costs itself only."""
    tag, ranges = doc.get("tag"), doc.get("ranges")
    if not isinstance(tag, str) or not tag.strip() or not isinstance(ranges, list):
        drops.drop(DropReason.MISSING_FIELD, reader_id=reader_id, detail=f"tag/ranges: {str(doc)[:120]}")
        return []
    status = None
    if "status" in doc:
        try:
            status = band_status(doc["status"])
        except _Drop as drop:
            drops.drop(drop.reason, reader_id=reader_id, detail=f"tag {tag}: status {drop}")
    reads: list[TagRead] = []
    for item in ranges:
        try:
            reads.append(_range_read(item, tag.strip().upper(), anchors=anchors, now=now, status=status))
        except _Drop as drop:
            drops.drop(drop.reason, reader_id=reader_id, detail=f"tag {tag}: {drop}")
    return reads


def band_status(value: Any) -> TagStatus:
    """`{"flags": 0-255, "battery_mv"?: 0-65535, "seq"?: 0-65535}` -> TagStatus, by the band frame's rules."""
    if not isinstance(value, dict):
        raise _Drop(DropReason.WRONG_TYPE, f"{str(value)[:60]!r} is not an object")
    if "flags" not in value:
        raise _Drop(DropReason.MISSING_FIELD, "no flags")
    flags, battery_mv, seq = (value.get(key, 0) for key in ("flags", "battery_mv", "seq"))
    for name, number, top in (("flags", flags, 0xFF), ("battery_mv", battery_mv, 0xFFFF), ("seq", seq, 0xFFFF)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise _Drop(DropReason.WRONG_TYPE, f"{name} {str(number)[:40]!r}")
        if not 0 <= number <= top:
            raise _Drop(DropReason.ABSURD_VALUE, f"{name} {number} outside 0..{top}")
    return BandFrame(flags=flags, battery_mv=battery_mv, seq=seq).status


def _range_read(
    item: Any, tag_id: str, *, anchors: Mapping[str, str], now: datetime, status: TagStatus | None = None,
) -> TagRead:
    if not isinstance(item, dict) or "anchor" not in item or "range_m" not in item:
        raise _Drop(DropReason.MISSING_FIELD, f"range {str(item)[:80]}")
    short_id, range_m = item["anchor"], item["range_m"]
    if not isinstance(short_id, str) or isinstance(range_m, bool) or not isinstance(range_m, int | float):
        raise _Drop(DropReason.WRONG_TYPE, f"range {str(item)[:80]}")
    if not range_ok(_finite(range_m, "range_m")):
        raise _Drop(DropReason.ABSURD_VALUE, f"anchor {short_id} range {range_m} m")
    code = anchor_code(anchors, short_id)
    if code is None:
        raise _Drop(DropReason.UNKNOWN_READER, f"anchor {short_id[:20]!r} not configured")
    seen_at = _timestamp(item["ts"], now=now) if "ts" in item else now
    return TagRead(tag_id=tag_id, reader_id=code, tech=Tech.UWB, seen_at=seen_at, range_m=float(range_m),
                   status=status, raw=item)


def _timestamp(value: Any, *, now: datetime, naive_tz: tzinfo = UTC) -> datetime:
    """ISO 8601 text (a naive one is in `naive_tz`) or unix seconds -> aware UTC, not in the future."""
    try:
        if isinstance(value, str):
            at = datetime.fromisoformat(value.strip())
            at = (at if at.tzinfo else at.replace(tzinfo=naive_tz)).astimezone(UTC)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            at = datetime.fromtimestamp(value, tz=UTC)
        else:
            raise _Drop(DropReason.WRONG_TYPE, f"timestamp {value!r}")
    except (ValueError, OverflowError, OSError) as exc:
        raise _Drop(DropReason.GARBLED, f"timestamp {str(value)[:40]!r}") from exc
    if not time_ok(at, now):
        raise _Drop(DropReason.FUTURE_TIMESTAMP, f"{at.isoformat()} is after {now.isoformat()}")
    return at


def parse_gateway_location(
    topic: str, doc: dict[str, Any], *, reader_id: str, drops: DropCounter, now: datetime,
) -> list[TagRead]:
    """DWM1001 gateway `dwm/node/<id>/uplink/location` -> one position read (range_m=None)."""
    try:
        tag_id = _node_id(topic)
        position = doc["position"]
        if not isinstance(position, dict):
            raise _Drop(DropReason.WRONG_TYPE, f"position {position!r}")
        x_m, y_m, z_m = (_finite(position.get(axis), axis) for axis in ("x", "y", "z"))
        quality = position.get("quality")
        if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
            raise _Drop(DropReason.ABSURD_VALUE, f"quality {quality!r}")
        seen_at = _timestamp(int(doc["timestamp"]) / 1e6, now=now) if "timestamp" in doc else now
    except (_Drop, ValueError, TypeError, OverflowError) as exc:
        reason = exc.reason if isinstance(exc, _Drop) else DropReason.WRONG_TYPE
        drops.drop(reason, reader_id=reader_id, detail=f"{topic}: {exc}")
        return []
    raw = {"format": "dwm_gateway", "position_m": (x_m, y_m, z_m), "quality_pct": quality, "accuracy_m": None,
           "superframe": doc.get("superFrameNumber"), "topic": topic}
    return [TagRead(tag_id=tag_id, reader_id=reader_id, tech=Tech.UWB, seen_at=seen_at, raw=raw)]


def _node_id(topic: str) -> str:
    parts = topic.split("/")
    if "node" not in parts[:-1] or not parts[parts.index("node") + 1]:
        raise _Drop(DropReason.MISSING_FIELD, f"no node id in topic {topic!r} (want …/node/<id>/uplink/location)")
    return parts[parts.index("node") + 1].upper()


def _finite(value: Any, name: str) -> float:
    """A JSON number, or Sewio's number-in-a-string (" 4.00"); NaN/inf (no fix) is absurd."""
    if value is None:
        raise _Drop(DropReason.MISSING_FIELD, f"{name} missing")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Drop(DropReason.WRONG_TYPE, f"{name} {value!r}")
    try:
        number = float(value)
    except ValueError as exc:
        raise _Drop(DropReason.GARBLED, f"{name} {str(value)[:40]!r}") from exc
    except OverflowError as exc:  # an integer too big for a float
        raise _Drop(DropReason.ABSURD_VALUE, f"{name} out of range") from exc
    if not math.isfinite(number):
        raise _Drop(DropReason.ABSURD_VALUE, f"{name} {value!r}")
    return number


def parse_sewio(
    doc: dict[str, Any] | bytes | str, *, reader_id: str, drops: DropCounter, now: datetime,
    naive_tz: tzinfo = UTC,
) -> list[TagRead]:
    """One Sewio feed update -> one position read (range_m=None). Pure.

    Sewio's `at` carries no zone: it is in the RTLS server's zone, `naive_tz` (UTC unless told).
    """
    try:
        if not isinstance(doc, dict):
            doc = json.loads(doc)
        if not isinstance(doc, dict):
            raise _Drop(DropReason.UNKNOWN_FORMAT, f"not a feed object: {str(doc)[:80]}")
        return [_sewio_read(doc, reader_id=reader_id, now=now, naive_tz=naive_tz)]
    except (ValueError, UnicodeDecodeError) as exc:
        drops.drop(DropReason.GARBLED, reader_id=reader_id, detail=f"sewio: {exc}")
    except _Drop as drop:
        drops.drop(drop.reason, reader_id=reader_id, detail=f"sewio: {drop}")
    return []


def _sewio_read(doc: dict[str, Any], *, reader_id: str, now: datetime, naive_tz: tzinfo) -> TagRead:
    body = doc.get("body")
    streams = body.get("datastreams") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(streams, list):
        raise _Drop(DropReason.MISSING_FIELD, "body.datastreams")
    address = body.get("address")
    if not isinstance(address, str) or not address.strip():
        raise _Drop(DropReason.MISSING_FIELD, "body.address (the tag)")
    values = {s["id"]: s for s in streams if isinstance(s, dict) and isinstance(s.get("id"), str)}
    if "posX" not in values or "posY" not in values:
        raise _Drop(DropReason.MISSING_FIELD, f"posX/posY in {sorted(values)[:8]}")
    x_m = _finite(values["posX"].get("current_value"), "posX")
    y_m = _finite(values["posY"].get("current_value"), "posY")
    z_m = _finite(values["posZ"].get("current_value"), "posZ") if "posZ" in values else None
    clr = _finite(values["clr"].get("current_value"), "clr") if "clr" in values else None
    at = values["posX"].get("at")
    seen_at = _timestamp(at, now=now, naive_tz=naive_tz) if at is not None else now
    raw = {"format": "sewio", "position_m": (x_m, y_m, z_m), "quality_pct": None, "feed": body.get("id"),
           "accuracy_m": None if clr is None or clr >= SEWIO_NO_CONFIDENCE_M else clr, "clr": clr}
    tag_id = address.strip().upper().removeprefix("0X")
    return TagRead(tag_id=tag_id, reader_id=reader_id, tech=Tech.UWB, seen_at=seen_at, raw=raw)


def mqtt_host_port(address: str) -> tuple[str, int]:
    """`host[:port]` (port 1883 unless told)."""
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "1883")
    if not host or not port.isdigit():
        raise ReaderError(f"MQTT address {address!r}: want host[:port]", permanent=True)
    return host, int(port)


@register
class UwbMqttAdapter(ReaderAdapter):
    """Subscribes to `settings.topic` on the broker at `settings.address` (host[:port]).

    settings.options: `anchors` ({short id: Reader.code}), `qos` (default 0), `username`, `password`.
    paho reconnects by itself (1 s doubling to 30 s) and resubscribes on every connect.
    """

    protocol = "uwb_mqtt"
    tech = Tech.UWB

    def __init__(
        self, settings: ReaderSettings, *, drops: DropCounter | None = None, clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(settings, drops=drops, clock=clock)
        if not settings.topic:
            raise ReaderError(f"{settings.code}: no MQTT topic", permanent=True)
        self.host, self.port = mqtt_host_port(settings.address)
        self.anchors = anchors_option(settings)
        self._messages: queue.Queue[tuple[str, bytes]] = queue.Queue()

    def batches(self) -> Iterator[list[TagRead]]:
        client = self._client()
        client.connect_async(self.host, self.port, keepalive=30)
        client.loop_start()
        try:
            while not self.stopping.is_set():
                reads = self._parse(self._take())
                if reads:
                    yield reads
        finally:
            client.disconnect()
            client.loop_stop()

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hospital_iot-{self.settings.code}")
        options = self.settings.options
        if options.get("username"):
            client.username_pw_set(str(options["username"]), options.get("password"))
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_message = lambda _client, _userdata, msg: self._messages.put((msg.topic, bytes(msg.payload)))
        return client

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: mqtt.ConnectFlags, reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.warning("reader %s: broker %s:%s refused: %s", self.settings.code, self.host, self.port, reason)
            return
        client.subscribe(self.settings.topic, qos=int(self.settings.options.get("qos", 0)))
        logger.info("reader %s: subscribed to %s", self.settings.code, self.settings.topic)

    def _take(self) -> list[tuple[str, bytes]]:
        """Wait up to POLL_S for a message, then take whatever else is already there."""
        try:
            taken = [self._messages.get(timeout=POLL_S)]
        except queue.Empty:
            return []
        while len(taken) < MAX_BATCH:
            try:
                taken.append(self._messages.get_nowait())
            except queue.Empty:
                break
        return taken

    def _parse(self, messages: list[tuple[str, bytes]]) -> list[TagRead]:
        now = self.clock()
        reads: list[TagRead] = []
        for topic, payload in messages:
            reads += parse_uwb_json(topic, payload, anchors=self.anchors, reader_id=self.settings.code,
                                    drops=self.drops, now=now)
        return reads
