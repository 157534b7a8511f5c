"""Utilization: how each asset's time in a period splits into in use / available / needs cleaning / out for
repair / missing (and retired, unknown), as interval arithmetic on arrays. Pure numpy, no Django.

The trick used throughout: every asset gets its own stretch of one number line, asset i's period [t0, t1)
mapped to [i L, (i + 1) L) with L = t1 - t0. Status changes, sightings and gaps of all assets then sort,
merge and search together in single numpy calls, and nothing ever straddles two assets.

    status_seconds     (N, S) seconds per asset and state, from status changes and "unseen" intervals
    unseen_intervals   where an asset was seen nowhere for longer than a grace period (the missing time)
    group_seconds      (G, S) sums per group (category, unit), and the fractions of each row

Missing is a place fact laid over the status: an asset whose status says it should be around (available,
in use, needs cleaning, or not known) but that no reader saw for more than the grace period counts as
missing from the end of the grace period until it is seen again. Out for repair and retired are not
missing: they are away on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]

STATES: Final = ("in_use", "available", "needs_cleaning", "out_for_repair", "missing", "retired", "unknown")
STATE: Final = {name: i for i, name in enumerate(STATES)}
MISSABLE: Final = np.array([STATE["in_use"], STATE["available"], STATE["needs_cleaning"], STATE["unknown"]])


def _check_period(start_s: float, end_s: float) -> float:
    if not np.isfinite(start_s) or not np.isfinite(end_s) or end_s <= start_s:
        raise ValueError(f"period [{start_s}, {end_s}) is empty or not finite")
    return end_s - start_s


def status_seconds(*, initial: Int, change_asset: Int, change_t_s: Float, change_state: Int,
                   unseen_asset: Int, unseen_start_s: Float, unseen_end_s: Float,
                   start_s: float, end_s: float) -> Float:
    """Seconds each asset spent in each state during [start_s, end_s).

    initial (N,)        state index before the asset's first change (STATE[...])
    change_* (K,)       asset index, Unix time and new state of each status change (any order; changes before
                        start_s set the state at the start, later ones override earlier ones, ties by order)
    unseen_* (M,)       asset index and [start, end) Unix times where the asset was seen nowhere (may overlap)
    returns (N, len(STATES)) seconds; each row sums to end_s - start_s
    """
    n = len(initial)
    span = _check_period(start_s, end_s)
    if not (change_asset.shape == change_t_s.shape == change_state.shape):
        raise ValueError(f"change arrays {change_asset.shape} {change_t_s.shape} {change_state.shape}: need (K,)")
    if not (unseen_asset.shape == unseen_start_s.shape == unseen_end_s.shape):
        raise ValueError(f"unseen arrays {unseen_asset.shape} {unseen_start_s.shape} {unseen_end_s.shape}: need (M,)")
    floor = np.arange(n, dtype=np.float64) * span  # where each asset's stretch of the line begins
    # status segments on the line: each asset's initial state at its floor, then its changes (clipped to the
    # start; changes at or after the end never take effect); sorted by key, ties in the given time order
    keep = change_t_s < end_s
    change_key = floor[change_asset[keep]] + np.clip(change_t_s[keep], start_s, end_s) - start_s
    seg_key = np.concatenate([floor, change_key])
    seg_state = np.concatenate([initial, change_state[keep]]).astype(np.int64)
    seg_time = np.concatenate([np.full(n, -np.inf), change_t_s[keep]])
    order = np.lexsort((np.arange(len(seg_key)), seg_time, seg_key))
    seg_key, seg_state = seg_key[order], seg_state[order]
    # unseen intervals on the line, clipped to the period
    a = np.clip(unseen_start_s, start_s, end_s) - start_s + floor[unseen_asset]
    b = np.clip(unseen_end_s, start_s, end_s) - start_s + floor[unseen_asset]
    a, b = np.sort(a[b > a]), np.sort(b[b > a])
    # elementary intervals between every breakpoint; each has one status and is unseen or not
    edges = np.unique(np.concatenate([floor, [n * span], seg_key, a, b]))
    mid = (edges[:-1] + edges[1:]) / 2
    length = np.diff(edges)
    state = seg_state[np.searchsorted(seg_key, mid, side="right") - 1]
    unseen = (np.searchsorted(a, mid, side="right") - np.searchsorted(b, mid, side="right")) > 0
    state = np.where(unseen & np.isin(state, MISSABLE), STATE["missing"], state)
    out = np.zeros((n, len(STATES)))
    np.add.at(out, (np.minimum((mid // span).astype(np.int64), n - 1), state), length)
    return out


def unseen_intervals(*, n_assets: int, seen_asset: Int, seen_start_s: Float, seen_end_s: Float,
                     start_s: float, end_s: float, grace_s: float) -> tuple[Int, Float, Float]:
    """The parts of [start_s, end_s) where an asset had been seen nowhere for more than grace_s.

    seen_* (M,)   asset index and [start, end] Unix times of each sighting interval (zone stays; a single
                  sighting is start == end); any order, overlapping allowed
    returns (asset, start, end) of the missing intervals; an asset with no sighting since start_s - grace_s
    is missing from start_s.
    """
    if grace_s < 0:
        raise ValueError(f"grace_s must be >= 0, got {grace_s}")
    w0 = start_s - grace_s  # sightings before this cannot shorten a gap that reaches into the period
    span = _check_period(w0, end_s)
    floor = np.arange(n_assets, dtype=np.float64) * span
    s = np.clip(seen_start_s, w0, end_s)
    e = np.clip(seen_end_s, w0, end_s)
    ok = (seen_end_s >= w0) & (seen_start_s <= end_s) & (e >= s)
    # every asset ends with a zero-length sighting at its end, so the gap after its last sighting is closed
    asset = np.concatenate([seen_asset[ok], np.arange(n_assets)])
    start_key = np.concatenate([floor[seen_asset[ok]] + s[ok] - w0, floor + span])
    end_key = np.concatenate([floor[seen_asset[ok]] + e[ok] - w0, floor + span])
    order = np.lexsort((asset, start_key))
    asset, start_key, end_key = asset[order], start_key[order], end_key[order]
    covered = np.maximum.accumulate(end_key)  # the line is covered up to here by the sightings so far
    before = np.concatenate([[-np.inf], covered[:-1]])
    gap_start = np.maximum(before, floor[asset])
    gap_end = start_key
    missing_start = gap_start + grace_s
    keep = gap_end > missing_start
    base = floor[asset[keep]] - w0
    return asset[keep], missing_start[keep] - base, gap_end[keep] - base


def group_seconds(seconds: Float, group: Int, n_groups: int) -> tuple[Float, Float]:
    """(G, S) summed seconds per group and the row fractions (0 where a group has no time)."""
    if seconds.ndim != 2 or group.shape != (seconds.shape[0],):
        raise ValueError(f"seconds {seconds.shape} / group {group.shape}: need (N, S) and (N,)")
    out = np.zeros((n_groups, seconds.shape[1]))
    np.add.at(out, group, seconds)
    total = out.sum(axis=1, keepdims=True)
    fractions = np.divide(out, total, out=np.zeros_like(out), where=total > 0)
    return out, fractions


@dataclass(frozen=True)
class UtilizationTable:
    """Rows of one grouping (by category, by unit, or both): labels, asset counts, seconds and fractions (G, S)."""

    labels: list[str]
    assets: list[int]
    seconds: Float
    fractions: Float

    def rows(self) -> list[dict[str, object]]:
        return [{"group": label, "assets": n,
                 "hours": {s: round(float(h) / 3600, 2) for s, h in zip(STATES, sec, strict=True)},
                 "fractions": {s: round(float(f), 4) for s, f in zip(STATES, frac, strict=True)}}
                for label, n, sec, frac in zip(self.labels, self.assets, self.seconds, self.fractions, strict=True)]
