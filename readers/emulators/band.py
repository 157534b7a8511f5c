"""Emulated infant and mother band tags: what each band says about itself, and when it says it.

A band tag reports its status frame (docs/tags.md: strap cut / loose, button, battery) every heartbeat
(`heartbeat_s`, 10 s) and at once when something changes; the emulators ask `due(tag, t_s)` and, when they
send, `take(tag, t_s)`. A shielded tag (wrapped in foil) sends nothing at all: no status, no ranges, no
adverts. Commands (`strap`, `battery`, `press`, `shield`) come from tests or the control topic, from any
thread. Batteries start at a seeded plausible level and drain slowly. Pure; no Django.
"""

from __future__ import annotations

import itertools
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from readers.adapters.ble_adv import (
    BAND_BUTTON,
    BAND_LOW_BATTERY,
    BAND_LOW_BATTERY_MV,
    BAND_STRAP_CUT,
    BAND_STRAP_LOOSE,
    COIN_CELL_MV_PCT,
    BandFrame,
)
from readers.reads import TagStatus

HEARTBEAT_S = 10.0
DRAIN_PCT_PER_H = 0.05  # a coin cell lasting about three months of 10 s heartbeats and UWB blinks
START_PCT = (40.0, 100.0)  # batteries in use: somewhere between fresh and well used, none low yet
STRAP_FLAGS = {"closed": 0, "loose": BAND_STRAP_LOOSE, "cut": BAND_STRAP_CUT}
STRAP_STATES = tuple(STRAP_FLAGS)


class UnknownBand(KeyError):
    """The tag is not a band tag of this book."""

    def __str__(self) -> str:
        return f"{self.args[0]!r} is not a band tag (infant or mother) of the running emulators"


def mv_from_battery_pct(battery_pct: float) -> int:
    """Battery % -> coin-cell voltage: the inverse of ble_adv.battery_pct_from_mv's curve."""
    points = COIN_CELL_MV_PCT
    if battery_pct <= points[0][1]:
        return points[0][0]
    for (mv0, pct0), (mv1, pct1) in itertools.pairwise(points):
        if battery_pct <= pct1:
            return round(mv0 + (mv1 - mv0) * (battery_pct - pct0) / (pct1 - pct0))
    return points[-1][0]


@dataclass
class _Band:
    battery_pct: float  # at battery_at_s (None: from the first moment the book is asked about it)
    battery_at_s: float | None = None
    strap: str = "closed"
    pressed: bool = False  # pressed, not yet sent
    button_until_s: float = float("-inf")  # a sent press shows until then (one heartbeat)
    shielded: bool = False
    next_seq: int = 0
    sent_at_s: float | None = None
    news: bool = False  # a command changed something: tell at once
    last: BandFrame | None = field(default=None)


class BandBook:
    """The band tags of the emulated hospital, keyed by tag id (a UWB id like "B001" or a BLE MAC)."""

    def __init__(
        self, tag_ids: Iterable[str], *, seed: int, heartbeat_s: float = HEARTBEAT_S,
        drain_pct_per_h: float = DRAIN_PCT_PER_H, clock: Callable[[], float] = time.time,
    ) -> None:
        self.heartbeat_s, self.drain_pct_per_h, self.clock = heartbeat_s, drain_pct_per_h, clock
        self._lock = threading.Lock()
        self._bands = {tag_id: _Band(_start_pct(seed, tag_id)) for tag_id in tag_ids}

    def __contains__(self, tag_id: object) -> bool:
        return tag_id in self._bands

    @property
    def tag_ids(self) -> list[str]:
        return sorted(self._bands)

    # --- commands (any thread) -----------------------------------------------------------------------

    def strap(self, tag_id: str, state: str) -> None:
        """The strap becomes "closed", "loose" or "cut"."""
        if state not in STRAP_FLAGS:
            raise ValueError(f"strap state {state!r}: one of {', '.join(STRAP_STATES)}")
        with self._lock:
            band = self._band(tag_id)
            band.strap, band.news = state, True

    def battery(self, tag_id: str, pct: float, *, at_s: float | None = None) -> None:
        """The battery is at `pct` % now (at_s; default the clock), draining on from there."""
        if not 0 <= pct <= 100:
            raise ValueError(f"battery {pct} %: want 0..100")
        with self._lock:
            band = self._band(tag_id)
            band.battery_pct, band.battery_at_s, band.news = float(pct), self._at(at_s), True

    def press(self, tag_id: str) -> None:
        """The button is pressed: the next frame carries it, and the frames of one heartbeat after it."""
        with self._lock:
            band = self._band(tag_id)
            band.pressed, band.news = True, True

    def shield(self, tag_id: str, on: bool) -> None:
        """Wrap the tag in foil (on) or unwrap it: a shielded tag is not heard at all."""
        with self._lock:
            self._band(tag_id).shielded = on

    # --- what the emulators ask ----------------------------------------------------------------------

    def shielded(self, tag_id: str) -> bool:
        band = self._bands.get(tag_id)
        return band is not None and band.shielded

    def status(self, tag_id: str, t_s: float) -> TagStatus | None:
        """What the tag would report at t_s; None for a tag that is no band, or shielded."""
        with self._lock:
            band = self._bands.get(tag_id)
            if band is None or band.shielded:
                return None
            return self._frame(band, t_s, band.next_seq).status

    def due(self, tag_id: str, t_s: float) -> bool:
        """Whether the tag sends a status frame at t_s: the first, a heartbeat, or news (a command, or a
        flag that turned by itself: the battery running low, a press shown for its heartbeat)."""
        with self._lock:
            band = self._bands.get(tag_id)
            if band is None or band.shielded:
                return False
            if band.news or band.last is None or band.sent_at_s is None:
                return True
            if t_s - band.sent_at_s >= self.heartbeat_s:
                return True
            return self._frame(band, t_s, band.next_seq).flags != band.last.flags

    def take(self, tag_id: str, t_s: float) -> BandFrame:
        """The frame the tag sends at t_s (whether due or not): its sequence number steps on."""
        with self._lock:
            band = self._band(tag_id)
            if band.pressed:
                band.pressed, band.button_until_s = False, t_s + self.heartbeat_s
            frame = self._frame(band, t_s, band.next_seq)
            band.next_seq = (band.next_seq + 1) & 0xFFFF
            band.sent_at_s, band.news, band.last = t_s, False, frame
            return frame

    def current(self, tag_id: str, t_s: float) -> BandFrame:
        """The frame a BLE band advertises at t_s: a fresh one when due, else the last one again."""
        if self.due(tag_id, t_s):
            return self.take(tag_id, t_s)
        with self._lock:
            last = self._band(tag_id).last
        return last if last is not None else self.take(tag_id, t_s)

    # --- inside --------------------------------------------------------------------------------------

    def _band(self, tag_id: str) -> _Band:
        band = self._bands.get(tag_id)
        if band is None:
            raise UnknownBand(tag_id)
        return band

    def _at(self, at_s: float | None) -> float:
        return self.clock() if at_s is None else at_s

    def _frame(self, band: _Band, t_s: float, seq: int) -> BandFrame:
        if band.battery_at_s is None:
            band.battery_at_s = t_s
        pct = max(0.0, band.battery_pct - self.drain_pct_per_h * max(0.0, t_s - band.battery_at_s) / 3600)
        battery_mv = mv_from_battery_pct(pct)
        flags = STRAP_FLAGS[band.strap]
        if band.pressed or t_s < band.button_until_s:
            flags |= BAND_BUTTON
        if battery_mv < BAND_LOW_BATTERY_MV:
            flags |= BAND_LOW_BATTERY
        return BandFrame(flags=flags, battery_mv=battery_mv, seq=seq)


def _start_pct(seed: int, tag_id: str) -> float:
    """Each tag's own generator: adding a band leaves the others' batteries as they were."""
    rng = np.random.default_rng([seed, zlib.crc32(tag_id.encode())])
    return round(float(rng.uniform(*START_PCT)), 1)
