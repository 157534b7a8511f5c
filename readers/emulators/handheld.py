"""A handheld UHF reader on an audit round: a biomedical engineer carries it from store to utility to room
on one floor, a while in each, and it hears the RFID tags within reach. It speaks LLRP like the installed
readers (LlrpReaderEmulator takes this as its source); its reads feed an audit sweep, never the map. No Django.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from readers.emulators.floorgraph import FloorGraph
from readers.emulators.scenario import TagPosition
from readers.emulators.sightings import RfidSighting

# where equipment is kept or used: the stops of a round, visited in code order
ROUND_KINDS = frozenset({"storage", "clean_utility", "dirty_utility", "room", "bay", "treatment_room"})
RSSI_AT_1M_DBM = -48.0


class HandheldRound:
    """t_s -> the sightings of a handheld carried round the floor's equipment places, `stop_s` in each.

    The carrier stands at a point inside each stop in turn; the reader hears every RFID tag of the floor
    within `reach_m` (through a wall too, as a real handheld does at close range), with RSSI falling 20 dB
    per decade of distance and a seeded ±2 dB jitter.
    """

    def __init__(self, graph: FloorGraph, floor_code: str, positions: Callable[[float], list[TagPosition]], *,
                 stop_s: float = 8.0, reach_m: float = 3.0, seed: int = 0) -> None:
        codes = sorted(code for code, kind in graph.kinds.items() if kind in ROUND_KINDS and code in graph.zones)
        if not codes:
            raise ValueError(f"floor {floor_code}: no storage, utility or patient room for a handheld round")
        spots = [graph.zones[code].representative_point() for code in codes]
        self.stops = [(code, float(p.x), float(p.y)) for code, p in zip(codes, spots, strict=True)]
        self.floor_code, self.positions = floor_code, positions
        self.stop_s, self.reach_m = stop_s, reach_m
        self.rng = np.random.default_rng(seed)

    def carrier_at(self, t_s: float) -> tuple[str, float, float]:
        """The stop the carrier stands at at t_s (code, x_m, y_m)."""
        return self.stops[int(t_s // self.stop_s) % len(self.stops)]

    def __call__(self, t_s: float) -> list[RfidSighting]:
        _, x_m, y_m = self.carrier_at(t_s)
        heard = []
        for tag in self.positions(t_s):
            if tag.tech != "rfid" or tag.floor_code != self.floor_code:
                continue
            distance_m = math.hypot(tag.x_m - x_m, tag.y_m - y_m)
            if distance_m <= self.reach_m:
                rssi_dbm = RSSI_AT_1M_DBM - 20.0 * math.log10(max(distance_m, 0.3)) + float(self.rng.normal(0, 2))
                heard.append(RfidSighting(tag.tag_id, 1, round(rssi_dbm, 1)))
        return heard
