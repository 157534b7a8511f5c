"""What an emulated reader 'sees' at a moment, produced by the movement scenario and turned into the
reader's real protocol by each emulator. Plain data, no Django."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RfidSighting:
    """A UHF tag heard on one antenna of an LLRP reader."""

    epc_hex: str  # e.g. "300833B2DDD9014000000001" (96-bit EPC, 24 hex digits; 128-bit has 32)
    antenna: int  # 1-based antenna port
    rssi_dbm: float
    phase_rad: float | None = None  # 0..2*pi, reported only with Impinj extensions


@dataclass(frozen=True, slots=True)
class BleSighting:
    """A BLE tag's advertisement heard by one gateway."""

    gateway_code: str  # Reader.code of the gateway
    tag_mac: str  # "AC233F000001" (12 hex digits, upper case, no separators)
    rssi_dbm: float
    ibeacon: tuple[str, int, int] | None = None  # (uuid with dashes, major, minor) if it is an iBeacon
    tx_power_dbm: int = -59  # calibrated RSSI at 1 m as the beacon advertises it
    battery_pct: int | None = None
    button: bool = False
    tamper: bool = False


@dataclass(frozen=True, slots=True)
class UwbRange:
    """A two-way-ranging distance between a UWB tag and one anchor."""

    anchor_code: str  # Reader.code of the anchor
    anchor_short_id: str  # the anchor's 4-hex-digit id as DWM1001 prints it, e.g. "0CA8"
    anchor_xyz_m: tuple[float, float, float]
    tag_id: str  # the tag's 4-hex-digit id, e.g. "1A2B"
    range_m: float
    quality_pct: int = 100


RfidSource = Callable[[float], list[RfidSighting]]  # t_s (unix seconds) -> what the reader's antennas see
BleSource = Callable[[float], list[BleSighting]]
UwbSource = Callable[[float], list[UwbRange]]
