"""Zone assignment with hysteresis and dwell, so a tag standing on a boundary does not flicker.

A tag stays in its zone while it is within `margin_m` of it; a new zone is adopted only after the
tag has been seen there for `dwell_s`. State is kept per tag between windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ._arrays import Bool, Float, Int
from .floormap import NO_ZONE, FloorMap
from .window import Str


@dataclass(frozen=True)
class ZoneChanges:
    """tag_id (n,), zone (n,) after the update, previous (n,), changed (n,)."""

    tag_id: Str
    zone: Int
    previous: Int
    changed: Bool


class ZoneHysteresis:
    def __init__(self, floor: FloorMap, *, margin_m: float = 0.5, dwell_s: float = 3.0) -> None:
        self.floor, self.dwell_s = floor, dwell_s
        self.padded = np.array([z.buffer(margin_m) for z in floor.zones], dtype=object)  # (z,) prepared
        shapely.prepare(self.padded)
        self.zone: dict[str, int] = {}
        self.candidate: dict[str, tuple[int, float]] = {}

    def update(self, tag_id: Str, xy_m: Float, t_s: Float) -> ZoneChanges:
        """Assign zones to fixes xy_m (n, 2) at t_s (n,)."""
        zone = self.zone
        current = np.array([zone.get(t, NO_ZONE) for t in tag_id.tolist()], dtype=np.int64)
        inside = np.flatnonzero(current != NO_ZONE)
        still_near = np.zeros(len(current), dtype=bool)  # each tag against its own zone's padded outline
        still_near[inside] = shapely.contains_xy(self.padded[current[inside]], xy_m[inside, 0], xy_m[inside, 1])
        seen = current.copy()
        seen[~still_near] = self.floor.zone_at(xy_m[~still_near])  # only tags that left theirs (or had none)
        new = self._dwell(tag_id, current, seen, t_s)
        return ZoneChanges(tag_id=tag_id, zone=new, previous=current, changed=new != current)

    def _dwell(self, tag_id: Str, current: Int, seen: Int, t_s: Float) -> Int:
        """Adopt `seen` once it has been seen continuously for dwell_s (a tag with no zone adopts at once)."""
        new = current.copy()
        stay = seen == current
        if self.candidate:  # back in (or still in) their zone: no candidate any more
            for tag in self.candidate.keys() & set(tag_id[stay].tolist()):
                del self.candidate[tag]
        tags = tag_id.tolist()
        for i in np.flatnonzero(~stay).tolist():  # tags seen elsewhere: a few per window
            tag = tags[i]
            zone, since = self.candidate.get(tag, (int(seen[i]), float(t_s[i])))
            if zone != seen[i]:
                zone, since = int(seen[i]), float(t_s[i])
            self.candidate[tag] = (zone, since)
            if current[i] == NO_ZONE or t_s[i] - since >= self.dwell_s:
                new[i] = zone
                self.zone[tag] = zone
                self.candidate.pop(tag, None)
        return new

    def forget(self, tag_id: Str) -> None:
        for tag in tag_id.tolist():
            self.zone.pop(tag, None)
            self.candidate.pop(tag, None)
