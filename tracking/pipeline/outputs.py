"""A window's engine results turned into what leaves the pipeline: the store's batches, one frame per
floor that changed, and the domain events. Built before the write; sent only after it committed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import numpy as np

from tracking.localization._arrays import Bool, Int
from tracking.pipeline.engine import FloorFixes, FloorStep
from tracking.pipeline.events import (
    DomainEvent,
    FixesLocated,
    PortalCrossed,
    TagSilent,
    ZoneEntered,
    ZoneExited,
    wanted,
)
from tracking.pipeline.frames import floor_group, positions_text
from tracking.pipeline.layout import TagInfo
from tracking.pipeline.windows import lookup
from tracking.store.fixes import Crossings, FixBatch, ZoneEvents


@dataclass
class WindowOutput:
    fixes: FixBatch
    zone_events: ZoneEvents
    crossings: Crossings
    frames: list[tuple[str, str]] = field(default_factory=list)  # (group, text)
    events: list[DomainEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(len(self.fixes) or len(self.zone_events) or len(self.crossings) or self.frames or self.events)


def at(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, UTC)


def window_output(steps: list[FloorStep], *, tags: Mapping[str, TagInfo], pk_of: Mapping[str, int],
                  seq: dict[int, int], now_s: float,
                  described: dict[int, dict[str, float]] | None = None) -> WindowOutput:
    """Store batches, frames and events of the steps (tags missing from the directory are left out).
    One frame per floor that changed, with each tag's latest fix. pk_of: tag id -> Tag pk; seq: the last
    frame number per floor, advanced for each frame made; described: per floor, when its frames last
    described each tag (kept by the caller like seq; None: every frame describes every tag)."""
    fixes, moves, crossings = [], [], []
    out = WindowOutput(FixBatch.empty(), ZoneEvents.empty(), Crossings.empty())
    shown: dict[int, tuple[list[FloorFixes], list[str]]] = {}
    fixes_wanted = wanted(FixesLocated)
    for step in steps:
        fix_pk = lookup(step.fixes.tag_id, pk_of)
        known = fix_pk >= 0
        fixes.append(_fix_batch(step.floor_id, step.fixes, fix_pk, known))
        move_pk = lookup(step.moves.tag_id, pk_of)
        m = move_pk >= 0
        moves.append(ZoneEvents(tag_pk=move_pk[m], zone_id=step.moves.zone_pk[m], entered=step.moves.entered[m],
                                at_s=step.moves.at_s[m]))
        cross_pk = lookup(step.crossings.tag_id, pk_of)
        c = cross_pk >= 0
        crossings.append(Crossings(tag_pk=cross_pk[c], door_id=step.crossings.door_pk[c],
                                   inward=step.crossings.inward[c], at_s=step.crossings.at_s[c]))
        out.events += _events(step, pk_of)
        if fixes_wanted and known.any():
            f = step.fixes
            out.events.append(FixesLocated(step.floor_id, fix_pk[known], f.tag_id[known], f.x_m[known], f.y_m[known],
                                           f.accuracy_m[known], f.zone_pk[known], f.seen_at_s[known]))
        if len(step.fixes) or len(step.left):
            floor_fixes, left = shown.setdefault(step.floor_id, ([], []))
            floor_fixes.append(_take(step.fixes, known))
            left += step.left.tolist()
    for floor_id, (floor_fixes, left) in shown.items():
        seq[floor_id] = seq.get(floor_id, 0) + 1
        text = positions_text(floor_id=floor_id, seq=seq[floor_id], at_s=now_s, fixes=_latest(floor_fixes),
                              left=left, tags=tags,
                              described=None if described is None else described.setdefault(floor_id, {}))
        out.frames.append((floor_group(floor_id), text))
    out.fixes = _concat(FixBatch, fixes)
    out.zone_events = _concat(ZoneEvents, moves)
    out.crossings = _concat(Crossings, crossings)
    return out


def _latest(parts: list[FloorFixes]) -> FloorFixes:
    """The parts as one, with only the latest fix of each tag."""
    f = FloorFixes(*(np.concatenate([getattr(p, name) for p in parts]) for name in FloorFixes.__dataclass_fields__))
    if len(parts) == 1:
        return f
    order = np.lexsort((np.arange(len(f)), f.seen_at_s, f.tag_id))
    tags = f.tag_id[order]
    return _take(f, order[np.r_[tags[1:] != tags[:-1], True]])


def _fix_batch(floor_id: int, f: FloorFixes, tag_pk: np.ndarray, known: Bool) -> FixBatch:
    return FixBatch(tag_pk=tag_pk[known], floor_id=np.full(int(known.sum()), floor_id, dtype=np.int64),
                    zone_id=f.zone_pk[known], x_m=f.x_m[known], y_m=f.y_m[known], accuracy_m=f.accuracy_m[known],
                    method=f.method[known].astype(np.int16), stationary=f.stationary[known],
                    seen_at_s=f.seen_at_s[known])


def _take(f: FloorFixes, rows: Bool | Int) -> FloorFixes:
    return FloorFixes(*(getattr(f, name)[rows] for name in FloorFixes.__dataclass_fields__))


B = TypeVar("B", FixBatch, ZoneEvents, Crossings)


def _concat(kind: type[B], parts: list[B]) -> B:
    if not parts:
        return kind.empty()
    columns = kind.DTYPES
    return kind(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in columns})


def _events(step: FloorStep, pk_of: Mapping[str, int]) -> list[DomainEvent]:
    events: list[DomainEvent] = []
    floor = step.floor_id
    moves = step.moves
    for tag, zone, entered, t_s in zip(moves.tag_id.tolist(), moves.zone_pk.tolist(), moves.entered.tolist(),
                                       moves.at_s.tolist(), strict=True):
        if tag in pk_of:
            kind = ZoneEntered if entered else ZoneExited
            events.append(kind(pk_of[tag], tag, floor, zone, at(t_s)))
    c = step.crossings
    for tag, door, inward, t_s in zip(c.tag_id.tolist(), c.door_pk.tolist(), c.inward.tolist(), c.at_s.tolist(),
                                      strict=True):
        if tag in pk_of:
            events.append(PortalCrossed(pk_of[tag], tag, floor, door, "in" if inward else "out", at(t_s)))
    for tag, t_s, silent in zip(step.left.tolist(), step.left_at_s.tolist(), step.silent.tolist(), strict=True):
        if silent and tag in pk_of:
            events.append(TagSilent(pk_of[tag], tag, floor, at(t_s)))
    return events
