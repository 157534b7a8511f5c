"""A window of reads as arrays, and its reduction to one reading per (tag, receiver).

Duplicate reads (same tag, receiver and time) count once; reads older than what a tag's track has
already absorbed (late, out of order) are dropped and counted; order inside a window does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @classmethod
    def of(cls, tag_id: list[str], receiver: list[int], t_s: list[float], value: list[float]) -> ReadWindow:
        return cls(np.asarray(tag_id, dtype=np.str_), np.asarray(receiver, dtype=np.int64),
                   np.asarray(t_s, dtype=np.float64), np.asarray(value, dtype=np.float64))


@dataclass(frozen=True)
class Aggregate:
    """Per tag of the window: z (m, k) mean reading (0 where unheard), counts (m, k), valid (m, k),
    t_s (m,) mean read time (the time z refers to), t_last_s (m,) latest read time;
    duplicates / stale = reads discarded as repeated or late."""

    tag_id: Str
    z: Float
    counts: Float
    t_s: Float
    t_last_s: Float
    duplicates: int
    stale: int

    @property
    def valid(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.counts > 0)


def aggregate(window: ReadWindow, *, n_receivers: int, last_t_s: dict[str, float]) -> Aggregate:
    """Mean reading per (tag, receiver); drops duplicates and reads at or before a tag's last update."""
    if window.receiver.size and (window.receiver.min() < 0 or window.receiver.max() >= n_receivers):
        got = f"{window.receiver.min()}..{window.receiver.max()}"
        raise ValueError(f"receiver indices must be in [0, {n_receivers}), got {got}")
    keys = np.rec.fromarrays([window.tag_id, window.receiver, window.t_s])
    _, first = np.unique(keys, return_index=True)
    duplicates = len(window.tag_id) - len(first)
    tag, rx, t, v = (a[first] for a in (window.tag_id, window.receiver, window.t_s, window.value))
    seen, which = np.unique(tag, return_inverse=True)
    horizon = np.array([last_t_s.get(str(s), -np.inf) for s in seen])  # one lookup per tag
    fresh = t > horizon[which] if len(tag) else np.zeros(0, dtype=bool)
    tag, rx, t, v = tag[fresh], rx[fresh], t[fresh], v[fresh]
    tags, row = np.unique(tag, return_inverse=True)
    total, counts = np.zeros((len(tags), n_receivers)), np.zeros((len(tags), n_receivers))
    cells = (row.astype(np.int64), rx.astype(np.int64))
    np.add.at(total, cells, v)
    np.add.at(counts, cells, 1.0)
    t_last, t_sum = np.full(len(tags), -np.inf), np.zeros(len(tags))
    np.maximum.at(t_last, row, t)
    np.add.at(t_sum, row, t)
    z = np.divide(total, counts, out=np.zeros_like(total), where=counts > 0)
    return Aggregate(tag_id=tags, z=z, counts=counts, t_s=t_sum / np.maximum(counts.sum(axis=1), 1.0),
                     t_last_s=t_last, duplicates=duplicates, stale=int((~fresh).sum()))
