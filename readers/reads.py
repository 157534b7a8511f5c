"""The normalized tag read: where `readers/` ends and everything downstream begins. No Django."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


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


@dataclass(frozen=True, slots=True)
class TagRead:
    """One sighting of one tag by one reader (antenna, gateway or anchor). Times are UTC.

    rssi_dbm: received power; range_m: measured distance to the anchor (UWB); phase_rad: RFID phase.
    raw: the payload piece it came from, kept for audit and debugging.
    """

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

    def __post_init__(self) -> None:
        if self.seen_at.tzinfo is None or self.seen_at.utcoffset() != UTC.utcoffset(None):
            raise ValueError(f"seen_at must be timezone-aware UTC, got {self.seen_at!r}")
        for name in ("rssi_dbm", "range_m", "phase_rad"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")


def utc_now() -> datetime:
    return datetime.now(UTC)
