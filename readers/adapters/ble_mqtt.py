"""BLE gateways over MQTT (and HTTP POST): the shared parser contract and helpers, and the MQTT I/O base.

Each vendor format lives in its own file (`ble_espresense`, `ble_omg`, `ble_minew`, `ble_ingics`,
`ble_aprilbrother`, `ble_kontakt`; the protocol name is the module name): a pure `parse_<format>` with
the `BleParser` signature below, and a three-line adapter class on top of `BleMqttAdapter`.

**One adapter serves every gateway of one format on one broker topic.** The supervisor builds
`ReaderSettings` for it like this: `protocol` = the format, `topic` = the subscription (MQTT wildcards
allowed; ESPresense and OMG have defaults), and `options`:

* `mqtt_host` / `mqtt_port` (default 127.0.0.1:1883), optional `mqtt_username` / `mqtt_password`, `qos` (0);
* `gateways`: `{gateway identifier: Reader.code}` for every gateway Reader row of that format, where the
  identifier is what the format carries: the gateway's BLE MAC (Minew, Ingics, April Brother; any MAC
  spelling), the room topic level (ESPresense), the gateway-name topic level (OpenMQTTGateway/Theengs),
  the `sourceId` (Kontakt.io). Keys are normalized with `gateway_key` (MACs to 12 upper-case hex digits,
  other names stripped and lower-cased). A lone gateway may instead give `options["gateway_id"]`,
  which maps to `settings.code`.

Messages from a gateway that is not in the table are dropped as `unknown_reader`, counted under that
gateway's identifier (so the log names it); the adapter keeps running. Drops that cannot be pinned on a
known gateway (garbled payloads) are counted under `source` (the adapter's code, or `http:<protocol>`).
Records that are valid but not tag sightings (Ingics heartbeats, ESPresense room status) are dropped as
`unknown_format`. Every well-formed advertisement is kept as a sighting, beacon or not: the tag registry
downstream decides which MACs are ours.

A gateway that hears no tag still shows it is up: a Minew gateway uploads its own record alone at every
upload interval, an ESPresense node publishes its telemetry every 15 s. Those parsers take an optional
`heard` set and add the reader id of each such gateway to it (no read, no drop); their adapters pass it
to `self.alive`, so reader health counts the gateway online.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from readers.adapters.backoff import Backoff
from readers.adapters.base import ADAPTERS, ReaderAdapter, ReaderError, ReaderSettings
from readers.adapters.ble_adv import AdvError, Advert, decode_adv, norm_mac
from readers.adapters.mqtt_client import MqttSubscriber
from readers.adapters.mqtt_wire import Message
from readers.drops import DropCounter, DropReason, rssi_ok, time_ok
from readers.reads import TagRead, TagStatus, Tech

logger = logging.getLogger(__name__)

BLE_PROTOCOLS = ("ble_espresense", "ble_omg", "ble_minew", "ble_ingics", "ble_aprilbrother", "ble_kontakt")
GATEWAY_CACHE_SIZE = 4096  # gateway identifiers remembered by gateway_key
ADVERT_CACHE_SIZE = 16_384  # advertisements remembered by advert(), shared by the adapters of this process
_adverts: dict[bytes, Advert] = {}
T = TypeVar("T")


class BleParser(Protocol):
    """Every format's parser: one MQTT message or HTTP body -> the TagReads it holds. Pure; never raises
    on bad input: each bad record is counted in `drops` and the good ones in the same payload survive.

    topic: the MQTT topic ("" over HTTP); gateways: keys normalized by `gateway_table`;
    now: the receive time (reads without a timestamp get it; later than now + 5 s is a broken clock)."""

    def __call__(
        self,
        payload: bytes | str,
        *,
        topic: str,
        gateways: Mapping[str, str],
        drops: DropCounter,
        now: datetime,
        source: str = "",
    ) -> list[TagRead]: ...


class Drop(Exception):
    """Raised inside a parser to drop one record (or the whole payload) with a counted reason."""

    def __init__(self, reason: DropReason, detail: str, *, reader_id: str | None = None, count: int = 1) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.reader_id, self.count = reason, detail, reader_id, count

    def record(self, drops: DropCounter, reader_id: str) -> None:
        """Count it under its own reader_id if it has one (an unknown gateway), else under `reader_id`."""
        drops.drop(self.reason, reader_id=self.reader_id or reader_id, detail=self.detail, count=self.count)


def collect(
    records: Iterable[T], one: Callable[[T], TagRead | None], *, drops: DropCounter, reader_id: str
) -> list[TagRead]:
    """`one(record)` for each record: a Drop costs that record only; None skips it silently."""
    reads: list[TagRead] = []
    for record in records:
        try:
            read = one(record)
        except Drop as drop:
            drop.record(drops, reader_id)
            continue
        if read is not None:
            reads.append(read)
    return reads


# --- helpers the parsers share ----------------------------------------------------------------------


@functools.lru_cache(maxsize=GATEWAY_CACHE_SIZE)
def gateway_key(value: str) -> str:
    """How a gateway identifier is compared: a MAC in any spelling -> 'AC233FC001EA'; a name -> lower-case.
    Remembered: every message names its gateway, and a site has a few hundred at most."""
    return norm_mac(value) or value.strip().lower()


def gateway_table(gateways: Mapping[str, str]) -> dict[str, str]:
    return {gateway_key(str(key)): str(code) for key, code in gateways.items()}


def gateway_reader(ident: object, gateways: Mapping[str, str], *, what: str, count: int = 1) -> str:
    """The Reader.code of the gateway a message names; Drop(unknown_reader) counted under the gateway."""
    if not isinstance(ident, str) or not ident.strip():
        raise Drop(DropReason.MISSING_FIELD, f"no {what} in message")
    key = gateway_key(ident)
    reader_id = gateways.get(key)
    if reader_id is None:
        raise Drop(DropReason.UNKNOWN_READER, f"unknown gateway {key!r} ({what})", reader_id=key[:64], count=count)
    return reader_id


def load_json(payload: bytes | str) -> Any:
    try:
        return json.loads(payload)
    except json.JSONDecodeError as exc:
        cut_short = exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string")
        reason = DropReason.TRUNCATED if cut_short else DropReason.GARBLED
        raise Drop(reason, f"bad JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # undecodable bytes, absurd nesting
        raise Drop(DropReason.GARBLED, f"bad JSON: {exc!r}") from None


def as_float(value: object) -> float | None:
    """A number, or a number in a string (vendors do both); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):  # a tuple: faster than a union
        return None
    try:
        return float(value)
    except (ValueError, OverflowError):
        return None


def tag_mac(value: object) -> str:
    if value is None or value == "":
        raise Drop(DropReason.MISSING_FIELD, "no tag MAC")
    mac = norm_mac(value)
    if mac is None:
        raise Drop(DropReason.WRONG_TYPE, f"tag MAC {str(value)[:40]!r}")
    return mac


def rssi_dbm(value: object) -> float:
    if type(value) is float:  # a JSON number with a fraction (ESPresense's rssi): nothing to convert
        rssi: float | None = value
    elif type(value) is int and -1000 < value < 1000:  # a whole JSON number (Minew's rssi)
        rssi = float(value)
    elif value is None:
        raise Drop(DropReason.MISSING_FIELD, "no rssi")
    else:
        rssi = as_float(value)
    if rssi is None:
        raise Drop(DropReason.WRONG_TYPE, f"rssi {str(value)[:40]!r}")
    if not rssi_ok(rssi):
        raise Drop(DropReason.ABSURD_VALUE, f"rssi {rssi} dBm")
    return rssi


def seen_at(value: object, now: datetime) -> datetime:
    """ISO 8601 text ('Z', offset or naive-as-UTC) or unix seconds / milliseconds -> UTC; None -> now."""
    if value is None:
        return now
    try:
        if isinstance(value, str) and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
            at = _iso_utc(value)
        else:
            unix = as_float(value)
            if unix is None:
                raise Drop(DropReason.WRONG_TYPE, f"timestamp {str(value)[:40]!r}")
            at = datetime.fromtimestamp(unix / 1000 if unix > 1e11 else unix, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise Drop(DropReason.WRONG_TYPE, f"timestamp {str(value)[:40]!r}") from None
    if not time_ok(at, now):
        raise Drop(DropReason.FUTURE_TIMESTAMP, f"timestamp {at.isoformat()} is after {now.isoformat()}")
    return at


@functools.lru_cache(maxsize=4096)
def _iso_utc(text: str) -> datetime:
    """ISO 8601 text -> UTC (naive = UTC). Remembered: the records of one gateway message, and the
    gateways publishing in the same tick, carry the same few timestamps."""
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def from_hex(text: object, *, what: str) -> bytes:
    if not isinstance(text, str):
        raise Drop(DropReason.WRONG_TYPE, f"{what} is {type(text).__name__}, not hex text")
    try:
        return bytes.fromhex(text)
    except ValueError:
        reason = DropReason.TRUNCATED if len(text) % 2 and text.isalnum() else DropReason.GARBLED
        raise Drop(reason, f"{what} {text[:80]!r} is not hex") from None


def advert(data: bytes) -> Advert:
    """decode_adv, remembered: a tag repeats the same static frame (iBeacon, Eddystone UID/URL/EID, Minew info)
    every second. Safe to share: Advert is frozen and parsers only copy its beacon_ids (of str values) into
    `raw`. TLM frames change each time (counters) and carry a dict, so they are decoded every time."""
    adv = _adverts.get(data) if isinstance(data, bytes) else None
    if adv is not None:
        return adv
    try:
        adv = decode_adv(data)
    except AdvError as exc:
        raise Drop(exc.reason, f"advertising data {data[:40].hex()}: {exc}") from None
    if adv.tlm is None and isinstance(data, bytes):
        if len(_adverts) >= ADVERT_CACHE_SIZE:
            _adverts.clear()  # bounded: a flood of distinct frames costs a re-decode, never memory
        _adverts[data] = adv
    return adv


def status_of(advert: Advert) -> TagStatus | None:
    return advert.status  # built once per decoded frame (battery %, or a band's whole status)


def ble_read(
    *, tag_id: str, reader_id: str, at: datetime, rssi: float, status: TagStatus | None, raw: dict[str, Any]
) -> TagRead:
    return TagRead(tag_id=tag_id, reader_id=reader_id, tech=Tech.BLE, seen_at=at, rssi_dbm=rssi, status=status, raw=raw)


# --- HTTP POST --------------------------------------------------------------------------------------


def ble_adapter_for(protocol: str) -> type[BleMqttAdapter]:
    """The adapter class of one BLE format, importing its module (which registers it) on first use."""
    if protocol not in BLE_PROTOCOLS:
        raise ReaderError(f"no BLE format {protocol!r}; known: {', '.join(BLE_PROTOCOLS)}", permanent=True)
    importlib.import_module(f"readers.adapters.{protocol}")
    adapter = ADAPTERS[protocol]
    assert issubclass(adapter, BleMqttAdapter)
    return adapter


def parser_for(protocol: str) -> BleParser:
    return ble_adapter_for(protocol).parse


def parse_http(
    protocol: str, body: bytes, *, gateways: Mapping[str, str], drops: DropCounter, now: datetime
) -> list[TagRead]:
    """A gateway's HTTP POST body -> TagReads, with the same parser its MQTT messages go through."""
    parse = parser_for(protocol)
    return parse(body, topic="", gateways=gateway_table(gateways), drops=drops, now=now, source=f"http:{protocol}")


# --- MQTT I/O ---------------------------------------------------------------------------------------


class BleMqttAdapter(ReaderAdapter):
    """Subscribes to `settings.topic` on the broker and yields one batch of reads per ~50 ms of messages,
    through the lean subscriber of `mqtt_client` (paho's per-message cost capped an adapter near 37,000
    messages per CPU-second). Reconnects with backoff; `stop()` ends `batches()` within ~0.1 s (a connect
    attempt: within 1 s)."""

    tech = Tech.BLE
    parse: ClassVar[BleParser]
    default_topic: ClassVar[str] = ""
    window_s: ClassVar[float] = 0.005  # a batch waits at most this for more messages (the pipeline windows too)
    max_batch_messages: ClassVar[int] = 2000

    def __init__(self, settings: ReaderSettings, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        options = settings.options
        self.topic = settings.topic or self.default_topic
        if not self.topic:
            raise ReaderError(f"{settings.code}: {self.protocol} needs an MQTT topic", permanent=True)
        self.host = str(options.get("mqtt_host", "127.0.0.1"))
        self.port = int(options.get("mqtt_port", 1883))
        gateways = options.get("gateways") or {}
        if not gateways and options.get("gateway_id"):
            gateways = {str(options["gateway_id"]): settings.code}
        self.gateways = gateway_table(gateways)
        self.backoff = Backoff()
        username = str(options["mqtt_username"]) if options.get("mqtt_username") else None
        self.subscriber = MqttSubscriber(
            host=self.host, port=self.port, topic=self.topic, extra_topics=self.extra_topics(),
            qos=int(options.get("qos", 0)),
            client_name=settings.code, source=settings.code, drops=self.drops, backoff=self.backoff,
            username=username, password=str(options.get("mqtt_password", "")) if username else None,
            window_s=self.window_s, max_batch_messages=self.max_batch_messages,
        )

    def batches(self) -> Iterator[list[TagRead]]:
        for messages in self.subscriber.batches(self.stopping):
            reads = self.parse_batch(messages, now=self.clock())
            if reads:
                yield reads

    def extra_topics(self) -> tuple[str, ...]:
        """Topic filters subscribed to beside `topic` (ESPresense: its nodes' telemetry)."""
        return ()

    def parse_batch(self, messages: list[Message], *, now: datetime) -> list[TagRead]:
        """One window of (topic, payload) messages -> their reads, each through `parse`. A format with a
        faster way to take many messages at once, or whose gateways show they are up without a sighting,
        overrides this (and keeps `parse`'s results and drops)."""
        return self.parse_each(messages, type(self).parse, now=now)

    def parse_each(self, messages: list[Message], parse: BleParser, *, now: datetime) -> list[TagRead]:
        """`parse` on each message; a topic that is not UTF-8 is dropped as garbled."""
        source, gateways, drops = self.settings.code, self.gateways, self.drops
        reads: list[TagRead] = []
        for topic, payload in messages:
            try:
                text = topic.decode()
            except UnicodeDecodeError:
                drops.drop(DropReason.GARBLED, reader_id=source, detail=f"topic {topic[:80]!r} is not UTF-8")
                continue
            reads += parse(payload, topic=text, gateways=gateways, drops=drops, now=now, source=source)
        return reads
