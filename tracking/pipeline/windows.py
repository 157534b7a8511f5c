"""One window of reads: gathered for at most `window_s`, turned into arrays once, split by floor and
technology into the engine's ReadWindows. Pure (no Django); the only per-read Python is the one pass
that copies TagRead fields into lists, and lookups run per distinct reader or tag, never per read.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from readers.reads import TagRead
from tracking.localization._arrays import Bool, Float, Int
from tracking.localization.window import ReadWindow, Str
from tracking.pipeline.layout import TECH_CODES, FloorLayout, RtlsConfig

RFID, BLE, UWB = TECH_CODES["rfid"], TECH_CODES["ble"], TECH_CODES["uwb"]
T = TypeVar("T")


@dataclass(frozen=True)
class ReadArrays:
    """N reads as columns: tag_id, reader_id (N,) str; tech (N,) TECH_CODES; t_s (N,) unix s;
    rssi_dbm, range_m (N,) NaN where absent; antenna (N,) -1 where absent."""

    tag_id: Str
    reader_id: Str
    tech: Int
    t_s: Float
    rssi_dbm: Float
    range_m: Float
    antenna: Int

    def __len__(self) -> int:
        return len(self.tag_id)

    @classmethod
    def from_reads(cls, reads: Sequence[TagRead]) -> ReadArrays:
        nan = math.nan
        return cls(
            tag_id=np.array([r.tag_id for r in reads], dtype=np.str_),
            reader_id=np.array([r.reader_id for r in reads], dtype=np.str_),
            tech=np.array([TECH_CODES[r.tech.value] for r in reads], dtype=np.int64),
            t_s=np.array([r.seen_at.timestamp() for r in reads], dtype=np.float64),
            rssi_dbm=np.array([nan if r.rssi_dbm is None else r.rssi_dbm for r in reads], dtype=np.float64),
            range_m=np.array([nan if r.range_m is None else r.range_m for r in reads], dtype=np.float64),
            antenna=np.array([-1 if r.antenna is None else r.antenna for r in reads], dtype=np.int64),
        )

    def take(self, rows: Bool | Int) -> ReadArrays:
        return ReadArrays(*(getattr(self, name)[rows] for name in self.__dataclass_fields__))


@dataclass(frozen=True)
class FloorReads:
    """The reads of one floor in one window, per technology (receiver = index in the floor layout)."""

    ble: ReadWindow
    uwb: ReadWindow
    rfid: ReadWindow  # receiver = antenna index, value = rssi_dbm

    def __len__(self) -> int:
        return len(self.ble.tag_id) + len(self.uwb.tag_id) + len(self.rfid.tag_id)

    @classmethod
    def empty(cls) -> FloorReads:
        none = ReadWindow.of([], [], [], [])
        return cls(none, none, none)


def lookup(keys: npt.NDArray[np.generic], table: Mapping[str, int], *, missing: int = -1) -> Int:
    """table[key] for every element of keys (one dict lookup per distinct key)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    distinct, inverse = np.unique(keys, return_inverse=True)
    values = np.array([table.get(str(k), missing) for k in distinct.tolist()], dtype=np.int64)
    return np.asarray(values[inverse.reshape(-1)], dtype=np.int64)


def route(reads: ReadArrays, config: RtlsConfig, *, floors: Mapping[int, FloorLayout] | None = None,
          ) -> tuple[dict[int, FloorReads], Counter[str]]:
    """Split a window by floor (the floor of each read's reader) and technology.

    Reads that cannot be used are dropped and counted by reason: unknown_reader, unregistered_tag,
    other_floor (a floor this worker does not own), unknown_receiver (the reader is not a receiver of
    that technology on its floor, or the antenna port is not registered), missing_value.
    """
    floors = config.floors if floors is None else floors
    drops: Counter[str] = Counter()
    readers, tags = Coded.of(reads.reader_id), Coded.of(reads.tag_id)
    floor_id = readers.lookup(config.reader_floor)
    ok = _count(drops, "unknown_reader", floor_id >= 0)
    ok &= _count(drops, "unregistered_tag", tags.known(config.tags) | ~ok)
    ok &= _count(drops, "other_floor", np.isin(floor_id, list(floors)) | ~ok)
    out: dict[int, FloorReads] = {}
    for fid in np.unique(floor_id[ok]).tolist():
        rows = np.flatnonzero(ok & (floor_id == fid))
        out[int(fid)], floor_drops = _split(reads.take(rows), readers.take(rows), tags.take(rows), floors[int(fid)])
        drops.update(floor_drops)
    return out, drops


@dataclass(frozen=True)
class Coded:
    """Strings of a window's reads (reader codes, tag ids) sorted once: the distinct values (d,) and each read's
    index in them (N,). Lookups then cost one dict access per distinct value, none per read; the tag coding
    goes on into the engine's ReadWindows (ReadWindow.coded), so a window's tag ids are sorted only here."""

    distinct: Str
    index: Int

    @classmethod
    def of(cls, values: Str) -> Coded:
        distinct, index = np.unique(values, return_inverse=True)
        return cls(distinct, np.asarray(index, dtype=np.int64).reshape(-1))

    def take(self, rows: Bool | Int) -> Coded:
        return Coded(self.distinct, self.index[rows])

    def lookup(self, table: Mapping[str, int], *, missing: int = -1) -> Int:
        """table[value] for every read."""
        values = np.array([table.get(v, missing) for v in self.distinct.tolist()], dtype=np.int64)
        return np.asarray(values[self.index], dtype=np.int64)

    def known(self, table: Mapping[str, object]) -> Bool:
        """value in table, for every read."""
        found = np.array([v in table for v in self.distinct.tolist()], dtype=bool)
        return np.asarray(found[self.index], dtype=bool)

    def window(self, receiver: Int, t_s: Float, value: Float) -> ReadWindow:
        """The reads as a ReadWindow, with its tag coding already made (these are tag ids)."""
        return ReadWindow.coded(self.distinct[self.index], receiver, t_s, value, tags=self.distinct,
                                tag_index=self.index)


def _count(drops: Counter[str], reason: str, keep: Bool) -> Bool:
    if (n := int((~keep).sum())) > 0:
        drops[reason] += n
    return keep


def _split(reads: ReadArrays, readers: Coded, tags: Coded, layout: FloorLayout) -> tuple[FloorReads, Counter[str]]:
    drops: Counter[str] = Counter()
    windows: dict[int, ReadWindow] = {}
    for tech, receivers in ((BLE, layout.ble), (UWB, layout.uwb)):
        rows = np.flatnonzero(reads.tech == tech)
        part = reads.take(rows)
        value = part.range_m if tech == UWB else part.rssi_dbm
        receiver = readers.take(rows).lookup(receivers.index if receivers is not None else {})
        keep = _count(drops, "unknown_receiver", receiver >= 0)
        keep &= _count(drops, "missing_value", np.isfinite(value) | ~keep)
        windows[tech] = tags.take(rows[keep]).window(receiver[keep], part.t_s[keep], value[keep])
    rows = np.flatnonzero(reads.tech == RFID)
    part = reads.take(rows)
    keys = np.char.add(np.char.add(part.reader_id, "#"), part.antenna.astype(np.str_))
    antenna = lookup(keys, {f"{code}#{port}": a for a, (code, port) in enumerate(layout.rfid.keys)})
    keep = _count(drops, "unknown_receiver", antenna >= 0)
    keep &= _count(drops, "missing_value", np.isfinite(part.rssi_dbm) | ~keep)
    windows[RFID] = tags.take(rows[keep]).window(antenna[keep], part.t_s[keep], part.rssi_dbm[keep])
    return FloorReads(ble=windows[BLE], uwb=windows[UWB], rfid=windows[RFID]), drops


def time_slices(t_s: Float, width_s: float) -> list[Int]:
    """Row indices of the reads in consecutive slices of width_s of read time, oldest first (empty slices
    left out). One slice in steady state; a backlog becomes as many slices as it spans."""
    if len(t_s) == 0:
        return []
    bins = np.floor((t_s - t_s.min()) / width_s).astype(np.int64)
    order = np.argsort(bins, kind="stable")
    edges = np.flatnonzero(np.diff(bins[order])) + 1
    return [np.asarray(part, dtype=np.int64) for part in np.split(order, edges)]


def collect_window(poll: Callable[[float], list[T]], *, window_s: float, max_size: int,
                   size: Callable[[T], int] = lambda _: 1, queued_at_s: Callable[[T], float | None] = lambda _: None,
                   quiet_s: float | None = None, clock: Callable[[], float] = time.time) -> list[T]:
    """Items for one window: wait up to window_s for the first, then gather what arrives until window_s
    after the oldest of them was queued (`queued_at_s`, Unix s like `clock`; when unknown, when it was
    taken), or until they reach max_size (by `size`, e.g. reads per delivery), or, with `quiet_s`, until
    nothing more arrived for quiet_s. Items that waited on the bus while the previous window was processed
    thus do not wait a whole window more, and a burst of reads (gateways upload in batches) is not held
    for the rest of the window when nothing follows it. Returns [] when nothing came within window_s."""
    items = poll(window_s)
    if not items:
        return []
    now_s = clock()
    queued = [t for t in map(queued_at_s, items) if t is not None]
    deadline = min([now_s, *queued]) + window_s
    total = sum(size(item) for item in items)
    while total < max_size and (left_s := deadline - clock()) > 0:
        more = poll(left_s if quiet_s is None else min(left_s, quiet_s))
        if not more and quiet_s is not None:
            break
        items.extend(more)
        total += sum(size(item) for item in more)
    return items
