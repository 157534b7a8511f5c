"""Where people can walk on a floor: zones joined by doors and open passages, and routes through them.

Built from a floor GeoJSON document (docs/floor-geojson.md); pure shapely, no Django.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.ops import unary_union

# zones a person passes through without a door between them
OPEN_KINDS = frozenset({"corridor", "lobby", "waiting", "elevator_lobby", "entrance", "exit"})
NOT_WALKABLE = frozenset({"ward", "bed"})  # containers and furniture, not places of their own
STEP_IN_M = 0.7  # how far past a doorway a route's waypoint sits


@dataclass(frozen=True)
class Portal:
    """A way from one zone into another: the doorway's middle and a point just inside each side."""

    a: str
    b: str
    middle: tuple[float, float]
    inside: dict[str, tuple[float, float]]


class FloorGraph:
    def __init__(self, document: dict[str, Any]) -> None:
        header = document["hospital_iot"]["floor"]
        self.floor_code: str = header["code"]
        features = [f for f in document["features"]]
        self.zones: dict[str, Polygon] = {}
        self.kinds: dict[str, str] = {}
        self.parents: dict[str, str | None] = {}
        for f in features:
            props = f["properties"]
            if props["feature"] == "zone":
                self.kinds[props["code"]] = props["kind"]
                self.parents[props["code"]] = props.get("parent")
                if props["kind"] not in NOT_WALKABLE:
                    self.zones[props["code"]] = shape(f["geometry"])
        self.portals: dict[str, list[Portal]] = {code: [] for code in self.zones}
        openings: list[LineString] = []
        for f in features:
            if f["properties"]["feature"] == "door":
                props, line = f["properties"], shape(f["geometry"])
                self._add_portal(props["from_zone"], props["to_zone"], line)
                openings.append(line)
        openings += self._add_open_passages()
        self.walls = _walls(self.zones.values(), openings)
        self.wall_index = shapely.STRtree(_segments(self.walls))

    def _add_portal(self, a: str, b: str, line: LineString) -> None:
        if a not in self.zones or b not in self.zones:
            return
        middle = line.interpolate(0.5, normalized=True)
        inside = {code: _step_into(self.zones[code], middle, line) for code in (a, b)}
        portal = Portal(a, b, (middle.x, middle.y), inside)
        self.portals[a].append(portal)
        self.portals[b].append(portal)

    def _add_open_passages(self) -> list[LineString]:
        """Join open zones (corridor segments, lobbies) that share an edge; returns those edges."""
        open_codes = [code for code in self.zones if self.kinds[code] in OPEN_KINDS]
        passages = []
        for i, a in enumerate(open_codes):
            for b in open_codes[i + 1:]:
                shared = self.zones[a].boundary.intersection(self.zones[b].boundary)
                if shared.length >= 1.0:
                    line = LineString(_longest_line(shared).coords)
                    self._add_portal(a, b, line)
                    passages.append(line)
        return passages

    def route(self, start: str, goal: str) -> list[Portal]:
        """The doorways to pass, in order, from zone `start` to zone `goal` (fewest zones; [] if same)."""
        came: dict[str, tuple[str, Portal] | None] = {start: None}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if here == goal:
                break
            for portal in self.portals.get(here, []):
                there = portal.b if portal.a == here else portal.a
                if there not in came:
                    came[there] = (here, portal)
                    queue.append(there)
        if goal not in came:
            raise ValueError(f"no way from {start} to {goal} on floor {self.floor_code}")
        path: list[Portal] = []
        step = came[goal]
        while step is not None:
            previous, portal = step
            path.append(portal)
            step = came[previous]
        return path[::-1]

    def waypoints(self, start: str, goal: str, start_xy: tuple[float, float],
                  goal_xy: tuple[float, float]) -> list[tuple[float, float]]:
        """Points to walk through from start_xy in `start` to goal_xy in `goal`, via the doorways."""
        points = [start_xy]
        here = start
        for portal in self.route(start, goal):
            there = portal.b if portal.a == here else portal.a
            points += [portal.inside[here], portal.middle, portal.inside[there]]
            here = there
        return [*points, goal_xy]

    def random_point(self, code: str, rng: np.random.Generator, margin_m: float = 0.5) -> tuple[float, float]:
        """A point inside the zone, away from its walls, from which every doorway of the zone is in sight
        (so walking straight to a door never cuts through a wall of an L-shaped room)."""
        zone = self.zones[code]
        inner = zone.buffer(-margin_m)
        area = inner if not inner.is_empty else zone
        doors = np.array([p.inside[code] for p in self.portals.get(code, [])]).reshape(-1, 2)
        x0, y0, x1, y1 = area.bounds
        for _ in range(200):
            xy = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
            if area.contains(Point(*xy)) and not walls_crossed(self, np.repeat(xy[None], len(doors), 0), doors).any():
                return float(xy[0]), float(xy[1])
        point = area.representative_point()
        return float(point.x), float(point.y)


def _step_into(zone: Polygon, middle: Point, line: LineString) -> tuple[float, float]:
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    length = max(float(np.hypot(x1 - x0, y1 - y0)), 1e-9)
    normal = np.array([-(y1 - y0), x1 - x0]) / length
    for sign in (1.0, -1.0):
        x, y = middle.x + sign * STEP_IN_M * normal[0], middle.y + sign * STEP_IN_M * normal[1]
        if zone.contains(Point(x, y)):
            return float(x), float(y)
    nearest = shapely.ops.nearest_points(zone.buffer(-0.1) if not zone.buffer(-0.1).is_empty else zone, middle)[0]
    return float(nearest.x), float(nearest.y)


def _longest_line(geometry: Any) -> LineString:
    parts = list(getattr(geometry, "geoms", [geometry]))
    lines = [p for p in parts if isinstance(p, LineString)]
    if not lines:
        merged = shapely.line_merge(geometry)
        lines = list(getattr(merged, "geoms", [merged]))
    return max(lines, key=lambda line: line.length)


def _segments(geometry: Any) -> list[LineString]:
    """Every straight piece of a (multi)line geometry."""
    pieces = []
    for line in getattr(geometry, "geoms", [geometry]):
        coords = list(line.coords)
        pieces += [LineString(coords[k:k + 2]) for k in range(len(coords) - 1)]
    return pieces


def walls_crossed(graph: FloorGraph, starts_m: Any, ends_m: Any) -> Any:
    """How many wall pieces each segment start->end crosses; starts_m, ends_m: (n, 2) -> (n,) int."""
    segments = shapely.linestrings(np.stack([starts_m, ends_m], axis=1))
    hits = graph.wall_index.query(segments, predicate="intersects")
    return np.bincount(hits[0], minlength=len(segments))


def _walls(zones: Any, openings: list[LineString]) -> Any:
    """Every zone outline with the doorways and open passages cut out."""
    outlines = unary_union([zone.exterior for zone in zones])
    if not openings:
        return outlines
    return outlines.difference(unary_union([opening.buffer(0.15) for opening in openings]))
