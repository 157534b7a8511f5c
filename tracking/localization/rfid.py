"""UHF RFID: presence from antenna -> zone, direction of travel through portals, phase -> range change.

A portal is a door watched by an inside and an outside antenna. A tag read on one side and then on
the other within `max_gap_s` crossed it: inside -> outside is "out" (the basis of exit alarms),
outside -> inside is "in".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import Float, Int
from .window import Str

SPEED_OF_LIGHT_MPS = 299_792_458.0
INSIDE, OUTSIDE, NO_SIDE = 0, 1, -1


def zone_presence(tag_id: Str, antenna: Int, rssi_dbm: Float, antenna_zone: Int) -> tuple[Str, Int]:
    """Zone of each tag in a window: the zone of the antenna that read it strongest.

    tag_id, antenna, rssi_dbm (N,); antenna_zone (A,) zone per antenna   returns tags (m,), zone (m,)
    """
    if not (tag_id.shape == antenna.shape == rssi_dbm.shape):
        raise ValueError(f"tag_id {tag_id.shape}, antenna {antenna.shape}, rssi_dbm {rssi_dbm.shape}: need equal (N,)")
    order = np.lexsort((-rssi_dbm, tag_id))  # by tag, strongest first
    tags, first = np.unique(tag_id[order], return_index=True)
    return tags, antenna_zone[antenna[order][first]]


def phase_range_change_m(phase_rad: Float, frequency_hz: float) -> Float:
    """Change of tag-antenna distance from backscatter phase (one channel, consecutive reads).

    round trip: phase = 4 pi f d / c (mod 2 pi)  ->  d - d_0 = c / (4 pi f) * unwrap(phase - phase_0)
    Positive means moving away from the antenna.   phase_rad (N,) -> (N,) m
    """
    return np.asarray(SPEED_OF_LIGHT_MPS / (4 * np.pi * frequency_hz) * (np.unwrap(phase_rad) - phase_rad[0]),
                      dtype=np.float64)


@dataclass(frozen=True)
class Crossing:
    tag_id: str
    direction: str  # "in" | "out"
    t_s: float


class PortalDetector:
    """Direction of travel through one door from its inside and outside antennas."""

    def __init__(self, *, inside_antenna: int, outside_antenna: int, max_gap_s: float = 5.0) -> None:
        self.inside_antenna, self.outside_antenna, self.max_gap_s = inside_antenna, outside_antenna, max_gap_s
        self.last: dict[str, tuple[int, float]] = {}  # tag -> (side, time) of its latest read

    def update(self, tag_id: Str, antenna: Int, t_s: Float) -> list[Crossing]:
        """Feed one window of reads (any order); return the crossings, oldest first."""
        outside = np.where(antenna == self.outside_antenna, OUTSIDE, NO_SIDE)
        side = np.where(antenna == self.inside_antenna, INSIDE, outside)
        keep = side != NO_SIDE
        order = np.lexsort((t_s[keep], tag_id[keep]))
        tags, sides, times = tag_id[keep][order], side[keep][order], t_s[keep][order]
        crossings = []
        for tag, s, t in zip(tags.tolist(), sides.tolist(), times.tolist(), strict=True):  # reads at one door
            prev = self.last.get(tag)
            if prev is not None and t < prev[1]:
                continue  # late read: older than what we know
            if prev is not None and prev[0] != s and t - prev[1] <= self.max_gap_s:
                crossings.append(Crossing(tag, "out" if s == OUTSIDE else "in", t))
            self.last[tag] = (s, t)
        return sorted(crossings, key=lambda c: c.t_s)
