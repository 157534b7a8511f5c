"""The movement scenario the emulators share: people and equipment walking the demo hospital.

Staff walk errands between rooms, utilities and the nurse station; equipment is parked in its store
and now and then taken to a patient room or the dirty utility; infants stay in their mother's room or the
nursery and are carried between them; mothers stay mostly in their room; infusion bags stay where they
hang, at their patient's bed (the tag's home zone; beds are furniture, not walkable zones, so the tag
gives the spot as home_xy). Routes go through doorways (FloorGraph), at walking speed. Deterministic for
a seed (a tag that stays put draws from its own generator, so adding bags leaves everyone else's walk
unchanged); thread-safe (every emulator asks for positions from its own thread). Tests and the demo can
take one tag along given points (`carry`).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from shapely.geometry import Point

from readers.emulators.floorgraph import FloorGraph

STEP_S = 0.2

# per kind: (speed range m/s, dwell range s, zone kinds it goes to, chance to go home instead)
BEHAVIOUR: dict[str, tuple[tuple[float, float], tuple[float, float], frozenset[str], float]] = {
    "staff": ((1.1, 1.4), (15.0, 90.0), frozenset({"room", "bay", "nurse_station", "clean_utility",
                                                  "dirty_utility", "medication_room", "storage", "nursery",
                                                  "treatment_room", "pharmacy", "workshop", "office"}), 0.2),
    "asset": ((0.9, 1.2), (60.0, 600.0), frozenset({"room", "bay", "dirty_utility", "treatment_room"}), 0.5),
    # an infant leaves its mother's room only for the nursery, and is brought back (carried by a nurse)
    "infant": ((0.7, 0.9), (60.0, 900.0), frozenset({"nursery"}), 0.8),
    # a mother stays mostly in her room; now and then to the nursery, the toilet or a walk in the corridor
    "mother": ((0.5, 0.9), (120.0, 1200.0), frozenset({"nursery", "toilet", "corridor"}), 0.7),
    "other": ((0.8, 1.2), (30.0, 300.0), frozenset({"room", "corridor", "waiting", "lobby"}), 0.3),
    # never sets off: placed at its home spot (or in its home zone) and left there
    "bag": ((0.0, 0.0), (float("inf"), float("inf")), frozenset(), 0.0),
}
STAYS_PUT = frozenset({"bag"})  # kinds placed once at home that never walk


@dataclass(frozen=True)
class ScenarioTag:
    """A tag the scenario moves: what carries it (kind), on which floor, and where it belongs."""

    tag_id: str
    tech: str  # rfid | ble | uwb
    kind: str  # staff | asset | infant | mother | bag | other
    floor_code: str
    home_zone: str | None = None
    home_xy: tuple[float, float] | None = None  # where in the home zone a tag that stays put is (a bag: its bed)


@dataclass(frozen=True)
class TagPosition:
    tag_id: str
    tech: str
    floor_code: str
    x_m: float
    y_m: float
    zone: str


@dataclass
class _Walker:
    tag: ScenarioTag
    zone: str
    xy: np.ndarray
    speed_mps: float
    dwell_until_s: float
    waypoints: list[tuple[float, float]] = field(default_factory=list)
    target: str = ""
    carried: bool = False  # taken along given points by carry(): stays at the last one for good


class Scenario:
    def __init__(self, graphs: dict[str, FloorGraph], tags: list[ScenarioTag], *, seed: int, start_s: float) -> None:
        self.graphs = graphs
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.now_s = start_s
        self._lock = threading.Lock()
        self.walkers = [self._place(tag) for tag in tags if tag.floor_code in graphs]

    def _behaviour(self, tag: ScenarioTag) -> tuple[tuple[float, float], tuple[float, float], frozenset[str], float]:
        return BEHAVIOUR.get(tag.kind, BEHAVIOUR["other"])

    def _place(self, tag: ScenarioTag) -> _Walker:
        if tag.kind in STAYS_PUT:
            return self._park(tag)
        graph = self.graphs[tag.floor_code]
        (v0, v1), (_, d1), kinds, _ = self._behaviour(tag)
        zone = tag.home_zone if tag.home_zone in graph.zones else self._pick(graph, kinds)
        xy = np.array(graph.random_point(zone, self.rng))
        dwell = self.now_s + float(self.rng.uniform(0, d1))  # not everyone sets off at once
        return _Walker(tag, zone, xy, float(self.rng.uniform(v0, v1)), dwell, target=zone)

    def _park(self, tag: ScenarioTag) -> _Walker:
        """A tag that stays put: at home_xy, else somewhere in its home zone (a bed's room when the home is
        not walkable), else in a zone of its kinds. Its zone is its home (the bed) when it has one."""
        graph = self.graphs[tag.floor_code]
        rng = np.random.default_rng([self.seed, zlib.crc32(tag.tag_id.encode())])
        home = tag.home_zone or ""
        room = home if home in graph.zones else graph.parents.get(home)
        if room not in graph.zones:
            room = None
        if tag.home_xy is not None:
            xy = np.array(tag.home_xy, dtype=float)
        else:
            room = room or self._pick(graph, self._behaviour(tag)[2], rng)
            xy = np.array(graph.random_point(room, rng))
        zone = home if home in graph.kinds else (room or "")
        return _Walker(tag, zone, xy, 0.0, float("inf"), target=zone)

    def _pick(self, graph: FloorGraph, kinds: frozenset[str], rng: np.random.Generator | None = None) -> str:
        candidates = sorted(code for code, kind in graph.kinds.items() if kind in kinds and code in graph.zones)
        if not candidates:
            candidates = sorted(graph.zones)
        return str(candidates[int((rng or self.rng).integers(len(candidates)))])

    def advance(self, t_s: float) -> None:
        """Move everyone forward to t_s (never backwards) in fixed steps."""
        with self._lock:
            while self.now_s + STEP_S <= t_s:
                self.now_s += STEP_S
                for walker in self.walkers:
                    self._step(walker)

    def _step(self, walker: _Walker) -> None:
        if walker.waypoints:
            self._walk(walker, walker.speed_mps * STEP_S)
        elif self.now_s >= walker.dwell_until_s:
            self._set_off(walker)

    def _set_off(self, walker: _Walker) -> None:
        graph = self.graphs[walker.tag.floor_code]
        _, _, kinds, home_chance = self._behaviour(walker.tag)
        home = walker.tag.home_zone
        go_home = home in graph.zones and walker.zone != home and self.rng.random() < home_chance
        target = home if go_home and home is not None else self._pick(graph, kinds)
        goal_xy = graph.random_point(target, self.rng)
        walker.waypoints = graph.waypoints(walker.zone, target, (float(walker.xy[0]), float(walker.xy[1])), goal_xy)
        walker.target = target
        walker.dwell_until_s = float("inf")

    def _walk(self, walker: _Walker, distance_m: float) -> None:
        while walker.waypoints and distance_m > 0:
            goal = np.array(walker.waypoints[0])
            gap = goal - walker.xy
            length = float(np.hypot(*gap))
            if length <= distance_m:
                walker.xy, distance_m = goal, distance_m - length
                walker.waypoints.pop(0)
            else:
                walker.xy = walker.xy + gap * (distance_m / length)
                distance_m = 0.0
        if not walker.waypoints:
            walker.zone = walker.target
            if walker.carried:
                return  # left where it was carried, and draws nothing from the shared generator
            _, (d0, d1), _, _ = self._behaviour(walker.tag)
            walker.dwell_until_s = self.now_s + float(self.rng.uniform(d0, d1))

    def carry(self, tag_id: str, floor_code: str, waypoints_m: Sequence[tuple[float, float]],
              speed_m_s: float) -> None:
        """Take the tag from where it is along waypoints_m (floor metres, in order) at speed_m_s, from the
        scenario's present moment on; it then stays at the last point (until carried again). A tag on another
        floor is first put at the first point. The caller picks points that keep clear of walls
        (FloorGraph.waypoints makes such a path). Raises ValueError for an unknown tag or floor."""
        graph = self.graphs.get(floor_code)
        if graph is None:
            raise ValueError(f"no floor {floor_code!r} in the scenario; known: {', '.join(sorted(self.graphs))}")
        if not waypoints_m or not speed_m_s > 0:
            raise ValueError(f"carry {tag_id}: need at least one point and a speed > 0 (got {speed_m_s} m/s)")
        points = [(float(x), float(y)) for x, y in waypoints_m]
        with self._lock:
            walker = next((w for w in self.walkers if w.tag.tag_id == tag_id), None)
            if walker is None:
                raise ValueError(f"no tag {tag_id!r} in the scenario")
            if walker.tag.floor_code != floor_code:
                walker.tag = replace(walker.tag, floor_code=floor_code)
                walker.xy = np.array(points[0])
                walker.zone = zone_at(graph, points[0]) or walker.zone
            walker.waypoints, walker.speed_mps, walker.carried = points, float(speed_m_s), True
            walker.target = zone_at(graph, points[-1]) or walker.zone
            walker.dwell_until_s = float("inf")

    def positions(self, t_s: float) -> list[TagPosition]:
        """Where every tag is at t_s (advancing the scenario to it first)."""
        self.advance(t_s)
        with self._lock:
            return [
                TagPosition(w.tag.tag_id, w.tag.tech, w.tag.floor_code, float(w.xy[0]), float(w.xy[1]), w.zone)
                for w in self.walkers
            ]


def zone_at(graph: FloorGraph, xy_m: tuple[float, float]) -> str | None:
    """The walkable zone that holds the point (None: in none of them, e.g. on a doorway's line)."""
    point = Point(xy_m)
    return next((code for code, polygon in graph.zones.items() if polygon.covers(point)), None)
