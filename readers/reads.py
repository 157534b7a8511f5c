"""The normalized tag read: where `readers/` ends and everything downstream begins. No Django."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple


class Tech(enum.StrEnum):
    RFID = "rfid"
    BLE = "ble"
    UWB = "uwb"


@dataclass(frozen=True, slots=True)
class TagStatus:
    """What a tag says about itself (None: the tag or format does not say)."""

    battery_pct: int | None = None
    tamper: bool | None = None  # strap cut / case opened
    button: bool | None = None  # button pressed
    moving: bool | None = None
    strap_loose: bool | None = None  # a band tag whose strap is closed but not snug (skin sensor lost)
    battery_mv: int | None = None  # cell voltage where the tag reports it


class _TagReadFields(NamedTuple):
    tag_id: str
    reader_id: str
    tech: Tech
    seen_at: datetime
    rssi_dbm: float | None = None
    antenna: int | None = None
    range_m: float | None = None
    phase_rad: float | None = None
    status: TagStatus | None = None
    raw: Any = None


class TagRead(_TagReadFields):
    """One sighting of one tag by one reader (antenna, gateway or anchor). Times are UTC.

    rssi_dbm: received power; range_m: measured distance to the anchor (UWB); phase_rad: RFID phase.
    raw: the payload piece it came from, kept for audit and debugging.

    Immutable and slotted. A named tuple rather than a frozen dataclass because every adapter makes one
    per read: construction costs about 1 us instead of 3 (a frozen dataclass sets each field through
    object.__setattr__), which is a third of a busy gateway adapter's CPU.
    """

    __slots__ = ()

    def __new__(
        cls, tag_id: str, reader_id: str, tech: Tech, seen_at: datetime, rssi_dbm: float | None = None,
        antenna: int | None = None, range_m: float | None = None, phase_rad: float | None = None,
        status: TagStatus | None = None, raw: Any = None,
    ) -> TagRead:
        zone = seen_at.tzinfo
        if zone is not UTC and (zone is None or seen_at.utcoffset() != _ZERO):
            raise ValueError(f"seen_at must be timezone-aware UTC, got {seen_at!r}")
        for name, value in (("rssi_dbm", rssi_dbm), ("range_m", range_m), ("phase_rad", phase_rad)):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        fields = (tag_id, reader_id, tech, seen_at, rssi_dbm, antenna, range_m, phase_rad, status, raw)
        return tuple.__new__(cls, fields)


_ZERO = timedelta(0)


def utc_now() -> datetime:
    return datetime.now(UTC)
