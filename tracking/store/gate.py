"""Which fixes go to the location history. Pure numpy, batched, with per-tag state.

A fix is written when it is its tag's first (since start or `forget`), or, compared with the tag's last
*written* fix, it is on another floor or in another zone, it moved >= `min_move_m`, or `still_every_s`
passed. A fix not newer than the last written one (a replay, a duplicate) is never written.

State lives in arrays sorted by tag pk; a batch costs one `searchsorted` per round, where round r holds
each tag's r-th fix of the batch in time order (one round unless a tag has several fixes in the window),
so a tag's second fix is judged against its first when the first was written.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .fixes import Bool, FixBatch, Float, Int


class HistoryGate:
    def __init__(self, *, min_move_m: float = 1.0, still_every_s: float = 30.0) -> None:
        if min_move_m < 0 or still_every_s <= 0:
            raise ValueError(f"min_move_m {min_move_m} must be >= 0 and still_every_s {still_every_s} > 0")
        self.min_move_m = float(min_move_m)
        self.still_every_s = float(still_every_s)
        # the last written fix of each known tag, sorted by tag pk
        self._tag: Int = np.empty(0, np.int64)
        self._floor: Int = np.empty(0, np.int64)
        self._zone: Int = np.empty(0, np.int64)
        self._xy_m: Float = np.empty((0, 2))
        self._t_s: Float = np.empty(0)

    def __len__(self) -> int:
        """Number of tags with state."""
        return len(self._tag)

    def select(self, batch: FixBatch) -> Bool:
        """(n,) bool: True for the fixes of `batch` to write to history; the state moves on to them."""
        keep = np.zeros(len(batch), dtype=bool)
        if not len(batch):
            return keep
        order = np.lexsort((batch.seen_at_s, batch.tag_pk))  # by tag, then time
        tags = batch.tag_pk[order]
        starts = np.flatnonzero(np.r_[True, tags[1:] != tags[:-1]])
        self._add_tags(tags[starts])
        rank = np.arange(len(tags)) - np.repeat(starts, np.diff(np.r_[starts, len(tags)]))
        for r in range(int(rank.max()) + 1):
            rows = order[rank == r]
            slot = np.searchsorted(self._tag, batch.tag_pk[rows])
            chosen = self._judge(batch, rows, slot)
            keep[rows[chosen]] = True
            self._remember(batch, rows[chosen], slot[chosen])
        return keep

    def forget(self, tag_pks: Iterable[int] | Int) -> None:
        """Drop these tags' state: their next fix counts as a first fix."""
        gone = np.isin(self._tag, np.fromiter(tag_pks, dtype=np.int64))
        if gone.any():
            stay = ~gone
            self._tag, self._floor, self._zone = self._tag[stay], self._floor[stay], self._zone[stay]
            self._xy_m, self._t_s = self._xy_m[stay], self._t_s[stay]

    def _judge(self, batch: FixBatch, rows: Int, slot: Int) -> Bool:
        xy_m = np.column_stack([batch.x_m[rows], batch.y_m[rows]])
        t_s = batch.seen_at_s[rows]
        moved_m = np.hypot(*(xy_m - self._xy_m[slot]).T)  # NaN for a tag never written: no comparison holds
        changed = (batch.floor_id[rows] != self._floor[slot]) | (batch.zone_id[rows] != self._zone[slot])
        due = t_s - self._t_s[slot] >= self.still_every_s  # inf for a tag never written
        newer = t_s > self._t_s[slot]
        return np.asarray(newer & (changed | (moved_m >= self.min_move_m) | due))

    def _remember(self, batch: FixBatch, rows: Int, slot: Int) -> None:
        self._floor[slot] = batch.floor_id[rows]
        self._zone[slot] = batch.zone_id[rows]
        self._xy_m[slot, 0], self._xy_m[slot, 1] = batch.x_m[rows], batch.y_m[rows]
        self._t_s[slot] = batch.seen_at_s[rows]

    def _add_tags(self, tags: Int) -> None:
        """Give unknown tags (sorted, unique) a 'never written' state: time -inf, position NaN."""
        new = tags[~np.isin(tags, self._tag, assume_unique=True)]
        if not len(new):
            return
        at = np.searchsorted(self._tag, new)
        self._tag = np.insert(self._tag, at, new)
        self._floor = np.insert(self._floor, at, -2)  # no real floor or zone (zone -1 means "none")
        self._zone = np.insert(self._zone, at, -2)
        self._xy_m = np.insert(self._xy_m, at, np.nan, axis=0)
        self._t_s = np.insert(self._t_s, at, -np.inf)
