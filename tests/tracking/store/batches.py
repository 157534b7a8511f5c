"""Builders of the store tests: a World of pks, batches from short row tables, an empty history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection

from floorplans.models import Floor
from tracking.store.fixes import Crossings, FixBatch, ZoneEvents
from tracking.store.partitions import history_partitions_forget

T0_S = 1_795_000_000.0  # 2026-11-18T09:46:40Z


@dataclass(frozen=True)
class World:
    floor: Floor
    zones: dict[str, int]  # code -> pk
    doors: dict[str, int]
    tags: list[int]  # pks


def history_drop_all() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT inhrelid::regclass::text FROM pg_inherits "
                    "WHERE inhparent = 'tracking_locationhistory'::regclass")
        for (name,) in cur.fetchall():
            cur.execute(f'DROP TABLE "{name}"')
    history_partitions_forget()


def fixes(world: World, rows: list[tuple[int, float, float, float]], *, zone: str | None = "3N-C",
          **columns: Any) -> FixBatch:
    """A batch from rows (tag index, x_m, y_m, seen_at offset s from T0_S) on the world's floor."""
    n = len(rows)
    tag, x_m, y_m, dt_s = (np.array(c) for c in zip(*rows, strict=True)) if rows else ([], [], [], [])
    base: dict[str, Any] = {
        "tag_pk": np.asarray(world.tags, dtype=np.int64)[np.asarray(tag, dtype=int)],
        "floor_id": np.full(n, world.floor.pk), "zone_id": np.full(n, world.zones[zone] if zone else -1),
        "x_m": x_m, "y_m": y_m, "accuracy_m": np.full(n, 0.5), "method": np.zeros(n, np.int16),
        "stationary": np.zeros(n, bool), "seen_at_s": T0_S + np.asarray(dt_s, dtype=float),
    }
    return FixBatch(**(base | columns))


def zone_events(world: World, rows: list[tuple[int, str, bool, float]]) -> ZoneEvents:
    """From rows (tag index, zone code, entered, at offset s)."""
    if not rows:
        return ZoneEvents.empty()
    tag, code, entered, dt_s = zip(*rows, strict=True)
    return ZoneEvents(tag_pk=np.asarray(world.tags)[list(tag)], zone_id=np.array([world.zones[c] for c in code]),
                      entered=np.array(entered), at_s=T0_S + np.array(dt_s, dtype=float))


def crossings(world: World, rows: list[tuple[int, str, bool, float]]) -> Crossings:
    """From rows (tag index, door code, inward, at offset s)."""
    if not rows:
        return Crossings.empty()
    tag, code, inward, dt_s = zip(*rows, strict=True)
    return Crossings(tag_pk=np.asarray(world.tags)[list(tag)], door_id=np.array([world.doors[c] for c in code]),
                     inward=np.array(inward), at_s=T0_S + np.array(dt_s, dtype=float))
