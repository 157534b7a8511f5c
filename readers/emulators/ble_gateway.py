"""Emulated BLE gateways: publish what a `BleSource` sees to a real MQTT broker, each gateway in its own
vendor format, so the real adapters parse what real gateways send.

Raw-advertisement formats (Ingics, April Brother, Minew `rawData`, OMG `manufacturerdata`) carry an
iBeacon frame when the sighting has iBeacon ids, else a Minew info frame (which carries battery %). A band
tag (`bands`, readers/emulators/band.py) advertises its status frame instead (docs/tags.md), in every format
that carries raw advertising data; a shielded band is not heard at all.

Like real ones, gateways that hear no tag still show they are up: a Minew gateway uploads at every interval,
its own record alone when it heard nothing; an ESPresense node publishes its telemetry every
TELEMETRY_EVERY_S, tags or not. The other formats stay quiet when they hear nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import msgpack  # type: ignore[import-untyped]
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from readers.adapters.ble_adv import band_adv, ibeacon_adv, minew_info_adv
from readers.emulators.band import BandBook
from readers.emulators.sightings import BleSighting, BleSource

logger = logging.getLogger(__name__)

Message = tuple[str, bytes]  # (topic, payload)
Frames = Mapping[str, bytes]  # tag MAC -> the raw advertisement a band tag sends instead of the usual one
UPLOADS_WHEN_IDLE = frozenset({"ble_minew"})  # upload every interval even with no tag heard (own record only)
TELEMETRY_EVERY_S = 15.0  # an ESPresense node's telemetry period (its firmware: at most every 15 s)


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    """One emulated gateway.

    code: its Reader.code (matches BleSighting.gateway_code); protocol: one of readers.adapters.ble_mqtt.BLE_PROTOCOLS;
    gateway_id: what the format carries to identify the gateway: its BLE MAC for ble_minew / ble_ingics /
    ble_aprilbrother, the room for ble_espresense, the gateway name for ble_omg, the sourceId for ble_kontakt;
    topic: where it publishes; for ble_espresense and ble_omg a prefix to which the device (and room) levels are
    appended ("" = the vendor default: `espresense/devices`, `home/<gateway_id>/BTtoMQTT`).
    """

    code: str
    protocol: str
    gateway_id: str
    topic: str = ""


def _colon_mac(mac: str) -> str:
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


def _adv(s: BleSighting, frames: Frames) -> bytes:
    frame = frames.get(s.tag_mac)
    if frame is not None:
        return frame
    if s.ibeacon is not None:
        uuid, major, minor = s.ibeacon
        return ibeacon_adv(uuid, major, minor, s.tx_power_dbm)
    return minew_info_adv(s.tag_mac, s.battery_pct)


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _espresense(spec: GatewaySpec, sightings: Sequence[BleSighting], t_s: float, frames: Frames) -> list[Message]:
    out: list[Message] = []
    for s in sightings:
        device_id = f"iBeacon:{s.ibeacon[0]}-{s.ibeacon[1]}-{s.ibeacon[2]}" if s.ibeacon else s.tag_mac.lower()
        distance_m = round(10 ** ((s.tx_power_dbm - s.rssi_dbm) / 20), 2)  # path-loss exponent 2
        body = {
            "mac": s.tag_mac.lower(),
            "id": device_id,
            "rssi@1m": s.tx_power_dbm,
            "rssi": round(s.rssi_dbm, 2),
            "rxAdj": 0,
            "rssiVar": 0.0,
            "distance": distance_m,
            "var": 0.0,
            "int": 1000,
        }
        out.append((f"{spec.topic or 'espresense/devices'}/{device_id}/{spec.gateway_id}", json.dumps(body).encode()))
    return out


def _omg(spec: GatewaySpec, sightings: Sequence[BleSighting], t_s: float, frames: Frames) -> list[Message]:
    out: list[Message] = []
    for s in sightings:
        body: dict[str, object] = {"id": _colon_mac(s.tag_mac), "rssi": round(s.rssi_dbm), "txpower": s.tx_power_dbm}
        if s.ibeacon is not None or s.tag_mac in frames:
            body["manufacturerdata"] = _adv(s, frames)[5:].hex()  # after flags (3 bytes) and the FF header
        if s.battery_pct is not None:
            body["batt"] = s.battery_pct
        out.append((f"{spec.topic or f'home/{spec.gateway_id}/BTtoMQTT'}/{s.tag_mac}", json.dumps(body).encode()))
    return out


def _minew(spec: GatewaySpec, sightings: Sequence[BleSighting], t_s: float, frames: Frames) -> list[Message]:
    records: list[dict[str, object]] = [
        {"timestamp": _iso(t_s), "type": "Gateway", "mac": spec.gateway_id, "gatewayFree": 98, "gatewayLoad": 0.05}
    ]
    for s in sightings:
        record: dict[str, object] = {"timestamp": _iso(t_s), "mac": s.tag_mac, "bleName": "", "rssi": round(s.rssi_dbm)}
        if s.ibeacon is not None and s.tag_mac not in frames:
            record |= {
                "type": "iBeacon",
                "ibeaconUuid": s.ibeacon[0].replace("-", "").upper(),
                "ibeaconMajor": s.ibeacon[1],
                "ibeaconMinor": s.ibeacon[2],
                "ibeaconTxPower": s.tx_power_dbm,
                "battery": s.battery_pct or 0,
            }
        else:
            record |= {"type": "Unknown", "rawData": _adv(s, frames).hex().upper()}
        records.append(record)
    return [(spec.topic, json.dumps(records).encode())]


def _ingics(spec: GatewaySpec, sightings: Sequence[BleSighting], t_s: float, frames: Frames) -> list[Message]:
    lines = [
        f"$GPRP,{s.tag_mac},{spec.gateway_id},{round(s.rssi_dbm)},{_adv(s, frames).hex().upper()},*{int(t_s)}"
        for s in sightings
    ]
    return [(spec.topic, "\r\n".join(lines).encode("ascii"))]


def _aprilbrother(
    spec: GatewaySpec, sightings: Sequence[BleSighting], t_s: float, frames: Frames
) -> list[Message]:
    devices = [
        bytes([3]) + bytes.fromhex(s.tag_mac) + bytes([round(s.rssi_dbm) % 256]) + _adv(s, frames) for s in sightings
    ]
    body = {
        "v": "1.5.3",
        "mid": int(t_s) % 65536,
        "time": int(time.monotonic()),
        "ip": "127.0.0.1",
        "mac": _colon_mac(spec.gateway_id),
        "devices": devices,
    }
    return [(spec.topic, msgpack.packb(body))]


def _kontakt(spec: GatewaySpec, sightings: Sequence[BleSighting], t_s: float, frames: Frames) -> list[Message]:
    records = [
        {
            "trackingId": _colon_mac(s.tag_mac).lower(),
            "timestamp": _iso(t_s),
            "batteryLevel": s.battery_pct,
            "channel": 38,
            "rssi": round(s.rssi_dbm),
            "sourceId": spec.gateway_id,
            "txPowerDbm": -4,
            "calibratedRssi1m": s.tx_power_dbm,
            "moving": False,
        }
        for s in sightings
    ]
    return [(spec.topic, json.dumps(records).encode())]


ENCODERS: dict[str, Callable[[GatewaySpec, Sequence[BleSighting], float, Frames], list[Message]]] = {
    "ble_espresense": _espresense,
    "ble_omg": _omg,
    "ble_minew": _minew,
    "ble_ingics": _ingics,
    "ble_aprilbrother": _aprilbrother,
    "ble_kontakt": _kontakt,
}


def gateway_messages(
    gateways: Sequence[GatewaySpec], sightings: Sequence[BleSighting], t_s: float, frames: Frames | None = None
) -> list[Message]:
    """What every gateway publishes for these sightings at `t_s` (pure). A gateway that sees nothing uploads
    its own record alone if its format does (Minew, UPLOADS_WHEN_IDLE), else stays quiet.
    frames: the raw advertisements of band tags (`band_frames`), sent instead of their usual frame."""
    out: list[Message] = []
    for spec in gateways:
        mine = [s for s in sightings if s.gateway_code == spec.code]
        if mine or spec.protocol in UPLOADS_WHEN_IDLE:
            out += ENCODERS[spec.protocol](spec, mine, t_s, frames or {})
    return out


def _espresense_telemetry(spec: GatewaySpec, uptime_s: float) -> Message:
    """`<prefix>/rooms/<room>/telemetry` beside `<prefix>/devices`; its counters (adverts, seen, reported) are
    left out, as the firmware leaves them out when they are 0."""
    prefix = (spec.topic or "espresense/devices").removesuffix("/devices")
    body = {"ip": "127.0.0.1", "uptime": int(uptime_s), "firm": "esp32", "rssi": -55, "ver": "v3.3.2",
            "freeHeap": 112_000, "maxHeap": 65_524, "scanStack": 1_340, "loopStack": 5_012, "bleStack": 1_788}
    return f"{prefix}/rooms/{spec.gateway_id}/telemetry", json.dumps(body).encode()


def gateway_telemetry(gateways: Sequence[GatewaySpec], *, uptime_s: float) -> list[Message]:
    """The telemetry of every gateway whose format has one (ESPresense), `uptime_s` after it started (pure)."""
    return [_espresense_telemetry(spec, uptime_s) for spec in gateways if spec.protocol == "ble_espresense"]


def band_sightings(
    bands: BandBook | None, sightings: Sequence[BleSighting], t_s: float
) -> tuple[list[BleSighting], dict[str, bytes]]:
    """The sightings left once shielded bands are taken out, and each heard band's advertisement at t_s
    (a fresh status frame when due: call this once per publish)."""
    if bands is None:
        return list(sightings), {}
    heard = [s for s in sightings if not bands.shielded(s.tag_mac)]
    macs = sorted({s.tag_mac for s in heard if s.tag_mac in bands})
    return heard, {mac: band_adv(bands.current(mac, t_s)) for mac in macs}


class BleGatewayEmulator:
    """Publishes `gateway_messages(gateways, source(time.time()), ...)` every `interval_s` (the gateways' upload
    interval) and `gateway_telemetry` every `telemetry_s` from the start, until stop()."""

    def __init__(
        self,
        gateways: Sequence[GatewaySpec],
        source: BleSource,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        interval_s: float = 1.0,
        telemetry_s: float = TELEMETRY_EVERY_S,
        bands: BandBook | None = None,
    ) -> None:
        unknown = sorted({g.protocol for g in gateways} - ENCODERS.keys())
        if unknown:
            raise ValueError(f"no emulator for {unknown}; known: {sorted(ENCODERS)}")
        self.gateways, self.source, self.interval_s, self.telemetry_s = list(gateways), source, interval_s, telemetry_s
        self.host, self.port, self.bands = host, port, bands
        self.published = 0
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hospital_iot-ble-emulator-{id(self)}")
        self._client.on_connect = lambda *_args: self._connected.set()
        self._thread = threading.Thread(target=self._run, name="ble-gateway-emulator", daemon=True)

    def start(self, *, timeout_s: float = 5.0) -> None:
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise ConnectionError(f"MQTT broker {self.host}:{self.port} did not answer in {timeout_s} s")
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._client.disconnect()
        self._client.loop_stop()

    def _run(self) -> None:
        started_s = telemetry_due_s = time.time()
        while not self._stopping.is_set():
            t_s = time.time()
            sightings, frames = band_sightings(self.bands, self.source(t_s), t_s)
            messages = gateway_messages(self.gateways, sightings, t_s, frames)
            if t_s >= telemetry_due_s:
                messages += gateway_telemetry(self.gateways, uptime_s=t_s - started_s)
                telemetry_due_s = t_s + self.telemetry_s
            for topic, payload in messages:
                self._client.publish(topic, payload)
                self.published += 1
            self._stopping.wait(self.interval_s)
