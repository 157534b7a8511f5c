"""A window of reads as arrays, and its reduction to one reading per (tag, receiver).

Duplicate reads (same tag, receiver and time) count once; reads older than what a tag's track has
already absorbed (late, out of order) are dropped and counted; order inside a window does not matter.
Tag ids are strings only until the window's one np.unique (ReadWindow.tag_codes); after it, integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from ._arrays import Float, Int

Str = npt.NDArray[np.str_]


@dataclass(frozen=True)
class ReadWindow:
    """N reads of one technology.   tag_id (N,) str, receiver (N,) int index, t_s (N,) unix s,
    value (N,): rssi_dbm for BLE/RFID, range_m for UWB."""

    tag_id: Str
    receiver: Int
    t_s: Float
    value: Float

    def __post_init__(self) -> None:
        n = len(self.tag_id)
        shapes = {name: np.shape(getattr(self, name)) for name in ("tag_id", "receiver", "t_s", "value")}
        if any(s != (n,) for s in shapes.values()):
            raise ValueError(f"ReadWindow arrays must all have shape (N,), got {shapes}")

    @cached_property
    def tag_codes(self) -> tuple[Str, Int]:
        """The distinct tag ids (d,), sorted, and each read's index in them (N,): the window's one sort of
        strings, shared by everything that groups its reads by tag."""
        distinct, index = np.unique(self.tag_id, return_inverse=True)
        return distinct, np.asarray(index, dtype=np.int64).reshape(-1)

    @classmethod
    def coded(cls, tag_id: Str, receiver: Int, t_s: Float, value: Float, *, tags: Str, tag_index: Int) -> ReadWindow:
        """A window whose tag coding is known already: tag_index (N,) into the sorted distinct ids `tags`, which may
        hold ids none of these reads carry (those of the larger window these reads were cut from)."""
        window = cls(tag_id, receiver, t_s, value)
        present = np.zeros(len(tags), dtype=bool)
        present[tag_index] = True
        window.__dict__["tag_codes"] = (tags[present], (np.cumsum(present) - 1)[tag_index])  # cached_property's slot
        return window

    @classmethod
    def of(cls, tag_id: list[str], receiver: list[int], t_s: list[float], value: list[float]) -> ReadWindow:
        return cls(np.asarray(tag_id, dtype=np.str_), np.asarray(receiver, dtype=np.int64),
                   np.asarray(t_s, dtype=np.float64), np.asarray(value, dtype=np.float64))


@dataclass(frozen=True)
class Aggregate:
    """Per tag of the window: z (m, k) mean reading (0 where unheard), counts (m, k), valid (m, k),
    t_s (m,) mean read time (the time z refers to), t_last_s (m,) latest read time; tag_index (m,) the
    tag's index in the window's distinct tags (ReadWindow.tag_codes); duplicates / stale = reads discarded
    as repeated or late."""

    tag_id: Str
    z: Float
    counts: Float
    t_s: Float
    t_last_s: Float
    duplicates: int
    stale: int
    tag_index: Int

    @property
    def valid(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.counts > 0)


def aggregate(window: ReadWindow, *, n_receivers: int, horizon_s: Float | None = None) -> Aggregate:
    """Mean reading per (tag, receiver); drops duplicates and reads at or before a tag's horizon.

    horizon_s (d,): for each distinct tag of the window (ReadWindow.tag_codes), the time of the latest read
    its track has absorbed, -inf if none; None: no read is stale. Tags come out sorted by id.
    """
    if window.receiver.size and (window.receiver.min() < 0 or window.receiver.max() >= n_receivers):
        got = f"{window.receiver.min()}..{window.receiver.max()}"
        raise ValueError(f"receiver indices must be in [0, {n_receivers}), got {got}")
    distinct, code = window.tag_codes
    # one sort, by tag, then time, then receiver: repeated reads become neighbours, a tag's reads a run ending
    # in its latest
    order = np.lexsort((window.receiver, window.t_s, code))
    tag, rx, t, v = code[order], window.receiver[order], window.t_s[order], window.value[order]
    repeat = np.zeros(len(tag), dtype=bool)
    repeat[1:] = (tag[1:] == tag[:-1]) & (t[1:] == t[:-1]) & (rx[1:] == rx[:-1])
    fresh = ~repeat if horizon_s is None else ~repeat & (t > horizon_s[tag])
    stale = int(len(tag) - repeat.sum() - fresh.sum())
    tag, rx, t, v = tag[fresh], rx[fresh], t[fresh], v[fresh]
    present = np.bincount(tag, minlength=len(distinct)) > 0
    row = (np.cumsum(present) - 1)[tag]  # row of each read's tag among the tags with fresh reads
    m = int(present.sum())
    cell = row * n_receivers + rx
    counts = np.bincount(cell, minlength=m * n_receivers).astype(np.float64).reshape(m, n_receivers)
    total = np.bincount(cell, weights=v, minlength=m * n_receivers).astype(np.float64, copy=False)
    total = total.reshape(m, n_receivers)
    last = np.flatnonzero(np.append(row[1:] != row[:-1], True)) if len(row) else np.zeros(0, dtype=np.int64)
    z = np.divide(total, counts, out=np.zeros_like(total), where=counts > 0)
    t_mean = np.bincount(row, weights=t, minlength=m) / np.maximum(np.bincount(row, minlength=m), 1)
    return Aggregate(tag_id=distinct[present], z=z, counts=counts, t_s=t_mean, t_last_s=t[last],
                     duplicates=int(repeat.sum()), stale=stale, tag_index=np.flatnonzero(present))


def heard_receivers(valid: npt.NDArray[np.bool_]) -> tuple[Int, npt.NDArray[np.bool_]]:
    """The receivers each row was heard by, packed to the left in index order.

    valid (n, k)   returns receiver (n, m) indices and heard (n, m), m = the most receivers any row heard;
    padding has heard False and receiver 0.
    """
    n_heard = valid.sum(axis=1)
    row, col = np.nonzero(valid)  # row-major: each row's receivers in index order
    slot = np.arange(len(row)) - (np.cumsum(n_heard) - n_heard)[row]
    m = int(n_heard.max(initial=0))
    receiver, heard = np.zeros((len(valid), m), dtype=np.int64), np.zeros((len(valid), m), dtype=bool)
    receiver[row, slot] = col
    heard[row, slot] = True
    return receiver, heard
