"""The engine of one floor: reads of a window in, fixes, zone changes, portal crossings and departures
out. Pure numpy + shapely (no Django: tests/tracking/pipeline/test_pure_modules.py enforces it).

    BLE reads  -> TagTracker(PathLossModel) -+
    UWB reads  -> TagTracker(RangeModel)    -+-> ZoneHysteresis -> zone enter/exit
    RFID reads -> strongest antenna (zone_presence) -> zone-level fix, zone enter/exit
               -> PortalDetector per door with an inside and an outside antenna -> crossings

State between windows lives here (tracks, zones, portal sides, last sightings), so all reads of a
floor must reach the same engine. A new engine can be seeded with the committed state (open zone stays
and last sightings from the database): reads at or before a tag's committed time are then skipped, and
its zone changes continue from the committed zone (what makes a redelivered read harmless).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import shapely

from tracking.localization._arrays import Bool, Float, Int
from tracking.localization.floormap import NO_ZONE
from tracking.localization.multilateration import Method
from tracking.localization.rfid import PortalDetector, zone_presence
from tracking.localization.tracker import Fixes, TagTracker, TrackerConfig, concat_fixes, no_fixes
from tracking.localization.window import ReadWindow, Str
from tracking.localization.zones import ZoneHysteresis
from tracking.pipeline.layout import FloorLayout
from tracking.pipeline.windows import BLE, RFID, UWB, FloorReads

logger = logging.getLogger(__name__)

ZONE_METHOD = 5  # tracking.models.Method.ZONE: an RFID zone-level position
INSIDE_BY_M = 0.05  # how far inside the outline a fix found outside it is put


@dataclass(frozen=True)
class EngineConfig:
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    # seconds without a read after which a tag has left the floor (None: never; a passive RFID tag is
    # only read near an antenna, so its last zone stands until another antenna reads it)
    silence_s: Mapping[int, float | None] = field(default_factory=lambda: {BLE: 60.0, UWB: 30.0, RFID: None})
    zone_margin_m: float = 0.5
    zone_dwell_s: float = 3.0
    rfid_accuracy_m: float = 3.0
    portal_max_gap_s: float = 5.0


@dataclass(frozen=True)
class FloorFixes:
    """One row per tag located in a window (zone_pk -1: in no zone; seen_at_s: time of the estimate)."""

    tag_id: Str
    x_m: Float
    y_m: Float
    accuracy_m: Float
    method: Int
    stationary: Bool
    zone_pk: Int
    seen_at_s: Float

    def __len__(self) -> int:
        return len(self.tag_id)

    @classmethod
    def empty(cls) -> FloorFixes:
        f, i = np.zeros(0), np.zeros(0, dtype=np.int64)
        return cls(np.zeros(0, dtype=np.str_), f, f, f, i, np.zeros(0, dtype=bool), i, f)


@dataclass(frozen=True)
class ZoneMoves:
    """Zone entries (entered) and exits (not entered), in time order per tag."""

    tag_id: Str
    zone_pk: Int
    entered: Bool
    at_s: Float

    def __len__(self) -> int:
        return len(self.tag_id)


@dataclass(frozen=True)
class DoorCrossings:
    """inward: from the door's from_zone side to its to_zone side (PortalCrossing direction "in")."""

    tag_id: Str
    door_pk: Int
    inward: Bool
    at_s: Float

    def __len__(self) -> int:
        return len(self.tag_id)


@dataclass(frozen=True)
class FloorStep:
    """What one window (or an age-out) changed on one floor. left: tags no longer on the floor;
    silent (subset of left): those that went silent rather than moving to another floor."""

    floor_id: int
    fixes: FloorFixes
    moves: ZoneMoves
    crossings: DoorCrossings
    left: Str
    left_at_s: Float
    silent: Bool

    def __bool__(self) -> bool:
        return bool(len(self.fixes) or len(self.moves) or len(self.crossings) or len(self.left))


class _Rows:
    """Zone moves or crossings as they are found (a few per window), then as arrays."""

    def __init__(self) -> None:
        self.tag: list[str] = []
        self.key: list[int] = []
        self.flag: list[bool] = []
        self.at_s: list[float] = []

    def add(self, tag: str, key: int, flag: bool, at_s: float) -> None:
        self.tag.append(tag)
        self.key.append(key)
        self.flag.append(flag)
        self.at_s.append(at_s)

    def arrays(self) -> tuple[Str, Int, Bool, Float]:
        return (np.array(self.tag, dtype=np.str_), np.array(self.key, dtype=np.int64),
                np.array(self.flag, dtype=bool), np.array(self.at_s, dtype=np.float64))


class FloorEngine:
    def __init__(self, layout: FloorLayout, config: EngineConfig | None = None) -> None:
        self.layout, self.config = layout, config or EngineConfig()
        self.trackers: dict[int, TagTracker] = {}
        for tech, receivers in ((BLE, layout.ble), (UWB, layout.uwb)):
            if receivers is not None and len(receivers.codes):
                silence = self.config.silence_s.get(tech)
                tracker_config = replace(self.config.tracker, bounds_m=(0.0, 0.0, layout.width_m, layout.height_m),
                                         max_silence_s=np.inf if silence is None else silence)
                self.trackers[tech] = TagTracker(receivers.model, tracker_config)
        self.zones = ZoneHysteresis(layout.floor_map, margin_m=self.config.zone_margin_m,
                                    dwell_s=self.config.zone_dwell_s)
        self.rfid_zone: dict[str, int] = {}  # zone index of RFID tags, from the antenna that read them
        self.portals = [(p, PortalDetector(inside_antenna=p.inside, outside_antenna=p.outside,
                                           max_gap_s=self.config.portal_max_gap_s)) for p in layout.portals]
        self.last_seen_s: dict[str, float] = {}
        self.tech_of: dict[str, int] = {}
        self.committed_s: dict[str, float] = {}  # seeded: reads at or before this were already processed
        self.outline = layout.floor_map.outline
        self.inner = self.outline.buffer(-INSIDE_BY_M)
        shapely.prepare(self.outline)
        self.replayed = 0

    def seed(self, *, tag_id: list[str], tech: list[int], zone_pk: list[int], seen_at_s: list[float]) -> None:
        """Continue from committed state: each tag's zone (pk, -1 none) and the time of its last fix."""
        index = self.layout.zone_index()
        for tag, tech_code, pk, t_s in zip(tag_id, tech, zone_pk, seen_at_s, strict=True):
            zone = index.get(pk, NO_ZONE)
            if zone != NO_ZONE:
                (self.rfid_zone if tech_code == RFID else self.zones.zone)[tag] = zone
            self.last_seen_s[tag] = max(self.last_seen_s.get(tag, -np.inf), t_s)
            self.committed_s[tag] = self.last_seen_s[tag]
            self.tech_of[tag] = tech_code

    def step(self, reads: FloorReads) -> FloorStep:
        """Absorb one window of this floor's reads."""
        located = [self._track(tech, window) for tech, window in ((BLE, reads.ble), (UWB, reads.uwb))]
        fixes = concat_fixes([f for f in located if f is not None] or [no_fixes()])
        fixes = replace(fixes, xy_m=self._inside(fixes.xy_m))
        changes = self.zones.update(fixes.tag_id, fixes.xy_m, fixes.t_s)
        tag, t_s = fixes.tag_id.tolist(), fixes.t_s.tolist()
        moves = _Rows()
        for i in np.flatnonzero(changes.changed).tolist():  # zone changes: a few per window
            self._move(moves, tag[i], int(changes.previous[i]), int(changes.zone[i]), t_s[i])
        tracked = FloorFixes(fixes.tag_id, fixes.xy_m[:, 0].copy(), fixes.xy_m[:, 1].copy(), fixes.accuracy_m,
                             fixes.method, fixes.stationary, self._pk(changes.zone), fixes.t_s)
        rfid_fixes, crossings = self._rfid(self._fresh(reads.rfid), moves)
        all_fixes = FloorFixes(*(np.concatenate([getattr(tracked, name), getattr(rfid_fixes, name)])
                                 for name in FloorFixes.__dataclass_fields__))
        self._saw(tracked, None)
        self._saw(rfid_fixes, RFID)
        return self._result(all_fixes, moves, crossings)

    def _track(self, tech: int, window: ReadWindow) -> Fixes | None:
        tracker = self.trackers.get(tech)
        window = self._fresh(window)
        if tracker is None or len(window.tag_id) == 0:
            return None
        fixes = tracker.step(window)
        shown = fixes.method != Method.NONE
        self.tech_of.update(dict.fromkeys(fixes.tag_id[shown].tolist(), tech))
        return Fixes(*(getattr(fixes, name)[shown] for name in Fixes.__dataclass_fields__))

    def _inside(self, xy_m: Float) -> Float:
        """Fixes outside the floor's outline (the union of its zones) moved just inside its nearest edge. A
        track pushed out of the building (walls weaken every reading, so a tag looks far from all receivers)
        is shown, and given a zone, where it can be."""
        if len(xy_m) == 0 or self.inner.is_empty:
            return xy_m
        outside = ~shapely.contains_xy(self.outline, xy_m[:, 0], xy_m[:, 1])
        if not outside.any():
            return xy_m
        out = xy_m.copy()
        lines = shapely.shortest_line(shapely.points(xy_m[outside]), self.inner)
        out[outside] = shapely.get_coordinates(shapely.get_point(lines, 1))
        return out

    def _fresh(self, window: ReadWindow) -> ReadWindow:
        """Skip reads at or before a seeded tag's committed time (already in the database)."""
        if not self.committed_s or len(window.tag_id) == 0:
            return window
        tags, index = window.tag_codes  # sorted once per window; the tracker reuses it when nothing is skipped
        committed = self.committed_s
        horizon = np.array([committed.get(t, -np.inf) for t in tags.tolist()])[index]
        keep = window.t_s > horizon
        if keep.all():
            return window
        self.replayed += int((~keep).sum())
        return ReadWindow(window.tag_id[keep], window.receiver[keep], window.t_s[keep], window.value[keep])

    def _rfid(self, window: ReadWindow, moves: _Rows) -> tuple[FloorFixes, DoorCrossings]:
        """Zone-level fixes at the antenna that read each tag strongest; crossings at portals."""
        antennas = self.layout.rfid
        if len(window.tag_id) == 0:
            return FloorFixes.empty(), DoorCrossings(*_Rows().arrays())
        tags, antenna = zone_presence(window.tag_id, window.receiver, window.value, np.arange(len(antennas.keys)))
        inverse = np.unique(window.tag_id, return_inverse=True)[1].reshape(-1)
        t_last = np.full(len(tags), -np.inf)
        np.maximum.at(t_last, inverse, window.t_s)
        zones = antennas.zone[antenna].copy()
        for i, (tag, t_s) in enumerate(zip(tags.tolist(), t_last.tolist(), strict=True)):  # tags of the window
            previous = self.rfid_zone.get(tag, NO_ZONE)
            zones[i] = previous if zones[i] == NO_ZONE else zones[i]
            if zones[i] != previous:
                self._move(moves, tag, previous, int(zones[i]), t_s)
                self.rfid_zone[tag] = int(zones[i])
        n = len(tags)
        fixes = FloorFixes(tags, antennas.xy_m[antenna, 0], antennas.xy_m[antenna, 1],
                           np.full(n, self.config.rfid_accuracy_m), np.full(n, ZONE_METHOD, dtype=np.int64),
                           np.zeros(n, dtype=bool), self._pk(zones), t_last)
        return fixes, self._portals(window)

    def _portals(self, window: ReadWindow) -> DoorCrossings:
        out = _Rows()
        for portal, detector in self.portals:  # over doors with portals, not reads
            at = (window.receiver == portal.inside) | (window.receiver == portal.outside)
            if not at.any():
                continue
            for crossing in detector.update(window.tag_id[at], window.receiver[at], window.t_s[at]):
                # the detector's "out" is inside antenna -> outside antenna = from_zone side -> to_zone side
                out.add(crossing.tag_id, portal.door_pk, crossing.direction == "out", crossing.t_s)
        return DoorCrossings(*out.arrays())

    def _move(self, moves: _Rows, tag: str, previous: int, zone: int, t_s: float) -> None:
        """Exit the previous zone, enter the new one (index NO_ZONE: none)."""
        for zone_index, entered in ((previous, False), (zone, True)):
            if zone_index != NO_ZONE:
                moves.add(tag, int(self.layout.zone_pk[zone_index]), entered, t_s)

    def _pk(self, zone_index: Int) -> Int:
        pks = np.append(self.layout.zone_pk, -1)  # NO_ZONE (-1) picks the appended -1
        return np.asarray(pks[zone_index], dtype=np.int64)

    def _saw(self, fixes: FloorFixes, tech: int | None) -> None:
        order = np.argsort(fixes.seen_at_s, kind="stable")  # a tag fixed twice: its later fix is written last
        tags, last = fixes.tag_id[order].tolist(), self.last_seen_s
        seen_s = np.maximum(np.array([last.get(tag, -np.inf) for tag in tags]), fixes.seen_at_s[order])
        last.update(zip(tags, seen_s.tolist(), strict=True))
        if tech is not None:
            self.tech_of.update(dict.fromkeys(tags, tech))

    def _result(self, fixes: FloorFixes, moves: _Rows, crossings: DoorCrossings, left: list[str] | None = None,
                left_at_s: list[float] | None = None, silent: list[bool] | None = None) -> FloorStep:
        return FloorStep(self.layout.floor_id, fixes, ZoneMoves(*moves.arrays()), crossings,
                         np.array(left or [], dtype=np.str_), np.array(left_at_s or [], dtype=np.float64),
                         np.array(silent or [], dtype=bool))

    def age_out(self, now_s: float) -> FloorStep:
        """Tags silent for longer than their technology's silence_s leave the floor (zone exits at their
        last sighting)."""
        gone = []
        for tag, t_s in self.last_seen_s.items():  # once a second, over the floor's tags
            silence = self.config.silence_s.get(self.tech_of.get(tag, BLE))
            if silence is not None and now_s - t_s > silence:
                gone.append(tag)
        for tracker in self.trackers.values():
            tracker.age_out(now_s)
        return self._depart(gone, silent=True)

    def depart(self, tag_id: list[str]) -> FloorStep:
        """Tags now located on another floor: forget them here (zone exits at their last sighting)."""
        present = [tag for tag in tag_id if tag in self.last_seen_s]
        for tracker in self.trackers.values():
            tracker.forget(np.array(present, dtype=np.str_))
        return self._depart(present, silent=False)

    def _depart(self, tags: list[str], *, silent: bool) -> FloorStep:
        moves = _Rows()
        at_s = []
        for tag in tags:
            t_s = self.last_seen_s.pop(tag)
            at_s.append(t_s)
            zone = self.rfid_zone.pop(tag, self.zones.zone.get(tag, NO_ZONE))
            self._move(moves, tag, zone, NO_ZONE, t_s)
            self.tech_of.pop(tag, None)
            self.committed_s.pop(tag, None)
        self.zones.forget(np.array(tags, dtype=np.str_))
        return self._result(FloorFixes.empty(), moves, DoorCrossings(*_Rows().arrays()), tags, at_s,
                            [silent] * len(tags))
