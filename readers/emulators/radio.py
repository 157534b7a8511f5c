"""Physically plausible signals for the emulators: what each receiver would measure of each tag.

BLE: log-distance path loss from the tag's advertised 1 m power, a loss per wall crossed and
log-normal shadowing; heard above the gateway's sensitivity. UWB: the true 3-D distance plus noise,
and a positive bias per wall (non-line-of-sight). UHF RFID: an antenna's read field of a few metres,
RSSI falling with distance, read probability falling towards the edge, and the carrier phase of the
round trip. Pure numpy + shapely; seeded.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from readers.emulators.floorgraph import FloorGraph, walls_crossed
from readers.emulators.scenario import TagPosition
from readers.emulators.sightings import BleSighting, RfidSighting, UwbRange

TAG_HEIGHT_M = 1.2  # worn on a belt or clipped to a pump pole
BLE_TX_1M_DBM = -59.0
BLE_PATH_LOSS_EXPONENT = 2.2
BLE_WALL_LOSS_DB = 4.0
BLE_SHADOWING_DB = 3.0
BLE_SENSITIVITY_DBM = -95.0
BLE_MAX_RANGE_M = 25.0
UWB_NOISE_M = 0.05
UWB_WALL_BIAS_M = 0.15
UWB_MAX_RANGE_M = 25.0
UWB_MAX_WALLS = 2
RFID_FIELD_M = 4.0
RFID_WAVELENGTH_M = 0.328  # 915 MHz


@dataclass(frozen=True)
class Receiver:
    """A gateway, an anchor or one antenna of an RFID reader, where it hangs."""

    code: str  # Reader.code
    kind: str  # ble_gateway | uwb_anchor | llrp_reader
    floor_code: str
    xyz_m: tuple[float, float, float]
    antenna: int | None = None  # RFID antenna port
    hardware_id: str = ""  # UWB anchor short id, gateway MAC


def short_id(code: str, digits: int = 4) -> str:
    """A stable hex id for a device code (stands in for a UWB anchor's or gateway's hardware id)."""
    return f"{zlib.crc32(code.encode()) & (16**digits - 1):0{digits}X}"


def receivers_of(document: dict[str, Any]) -> list[Receiver]:
    """Every gateway, anchor and RFID antenna of a floor GeoJSON document."""
    floor = document["hospital_iot"]["floor"]["code"]
    out: list[Receiver] = []
    for feature in document["features"]:
        props = feature["properties"]
        if props["feature"] != "reader" or not props.get("enabled", True):
            continue
        x, y = feature["geometry"]["coordinates"]
        hardware = props.get("hardware_id") or short_id(props["code"], 4 if props["kind"] == "uwb_anchor" else 12)
        if props["kind"] == "llrp_reader":
            out += [
                Receiver(
                    props["code"],
                    "llrp_reader",
                    floor,
                    (a["x_m"], a["y_m"], a.get("height_m", 2.4)),
                    antenna=a["port"],
                    hardware_id=hardware,
                )
                for a in props.get("antennas", [])
            ]
        else:
            out.append(
                Receiver(props["code"], props["kind"], floor, (x, y, props.get("height_m", 2.5)), None, hardware)
            )
    return out


class RadioWorld:
    def __init__(self, graphs: dict[str, FloorGraph], receivers: list[Receiver], *, seed: int) -> None:
        self.graphs = graphs
        self.receivers = receivers
        self.seed = seed

    def _rng(self, t_s: float, salt: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(t_s * 10), zlib.crc32(salt.encode())])

    def _pairs(self, tags: list[TagPosition], kind: str, max_m: float) -> tuple[Any, ...]:
        """(tag index, receiver index, 3-D distance, walls crossed) for pairs on one floor within max_m."""
        receivers = [r for r in self.receivers if r.kind == kind]
        if not tags or not receivers:
            return [], receivers, np.zeros(0), np.zeros(0, dtype=int)
        tag_xyz = np.array([[t.x_m, t.y_m, TAG_HEIGHT_M] for t in tags])
        rx_xyz = np.array([r.xyz_m for r in receivers])
        distance = np.linalg.norm(tag_xyz[:, None, :] - rx_xyz[None, :, :], axis=2)  # (n, m)
        same_floor = np.array([t.floor_code for t in tags])[:, None] == np.array([r.floor_code for r in receivers])
        ti, rj = np.nonzero(same_floor & (distance <= max_m))
        if len(ti) == 0:
            return [], receivers, np.zeros(0), np.zeros(0, dtype=int)
        floors = np.array([tags[i].floor_code for i in ti])
        crossings = np.zeros(len(ti), dtype=int)
        for code in np.unique(floors):  # one indexed query per floor
            on = floors == code
            crossings[on] = walls_crossed(self.graphs[str(code)], tag_xyz[ti[on], :2], rx_xyz[rj[on], :2])
        rows = [(int(i), int(j), float(distance[i, j])) for i, j in zip(ti, rj, strict=True)]
        return rows, receivers, distance[ti, rj], crossings

    def ble(self, tags: list[TagPosition], t_s: float) -> list[BleSighting]:
        """One advertisement of every BLE tag as each gateway in range hears it."""
        ble_tags = [tag for tag in tags if tag.tech == "ble"]
        rows, receivers, distance_m, walls = self._pairs(ble_tags, "ble_gateway", BLE_MAX_RANGE_M)
        rng = self._rng(t_s, "ble")
        rssi = (
            BLE_TX_1M_DBM
            - 10 * BLE_PATH_LOSS_EXPONENT * np.log10(np.maximum(distance_m, 0.1))
            - BLE_WALL_LOSS_DB * np.minimum(walls, 4)
            + rng.normal(0, BLE_SHADOWING_DB, len(rows))
        )
        return [
            BleSighting(receivers[j].code, ble_tags[i].tag_id, round(float(value), 1), tx_power_dbm=int(BLE_TX_1M_DBM))
            for (i, j, _), value in zip(rows, rssi, strict=True)
            if value >= BLE_SENSITIVITY_DBM
        ]

    def uwb(self, tags: list[TagPosition], t_s: float) -> list[UwbRange]:
        """Two-way ranges from every UWB tag to the anchors it can range with."""
        uwb_tags = [tag for tag in tags if tag.tech == "uwb"]
        rows, receivers, distance_m, walls = self._pairs(uwb_tags, "uwb_anchor", UWB_MAX_RANGE_M)
        rng = self._rng(t_s, "uwb")
        measured = distance_m + UWB_WALL_BIAS_M * walls + rng.normal(0, UWB_NOISE_M, len(rows))
        return [
            UwbRange(
                receivers[j].code,
                receivers[j].hardware_id,
                receivers[j].xyz_m,
                uwb_tags[i].tag_id,
                round(max(float(value), 0.0), 3),
            )
            for (i, j, _), value, crossed in zip(rows, measured, walls, strict=True)
            if crossed <= UWB_MAX_WALLS
        ]

    def rfid(self, reader_code: str, tags: list[TagPosition], t_s: float) -> list[RfidSighting]:
        """What the antennas of one LLRP reader read in one report interval."""
        rfid_tags = [tag for tag in tags if tag.tech == "rfid"]
        rows, receivers, distance_m, walls = self._pairs(rfid_tags, "llrp_reader", RFID_FIELD_M)
        rng = self._rng(t_s, reader_code)
        read = rng.random(len(rows)) < np.clip(1.2 - distance_m / RFID_FIELD_M, 0.0, 1.0) * 0.5**walls
        rssi = -35.0 - 20 * np.log10(np.maximum(distance_m, 0.3)) - 6.0 * walls + rng.normal(0, 1.5, len(rows))
        phase = (4 * np.pi * distance_m / RFID_WAVELENGTH_M + rng.normal(0, 0.1, len(rows))) % (2 * np.pi)
        return [
            RfidSighting(rfid_tags[i].tag_id, int(receivers[j].antenna or 1), round(float(r), 1), float(p))
            for (i, j, _), hit, r, p in zip(rows, read, rssi, phase, strict=True)
            if hit and receivers[j].code == reader_code
        ]
