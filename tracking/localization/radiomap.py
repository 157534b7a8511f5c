"""Residual radio map: per-receiver RSSI corrections on a coarse grid, learned from labelled data.

The log-distance model misses walls and furniture; the mean residual of survey reads per grid cell,
shrunk towards 0 where there are few reads, puts that structure back:  r_k(x, y) = sum / (count + prior).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import Float, Int, as_float


@dataclass(frozen=True)
class ResidualMap:
    """values_db (k, nx, ny) on cells of `cell_m` starting at `origin_m` (2,)."""

    origin_m: Float
    cell_m: float
    values_db: Float

    def lookup_db(self, xy_m: Float) -> Float:
        """Bilinear interpolation between cell centres.   xy_m (n, 2) -> (n, k) dB"""
        i0, i1, f = self._cells(xy_m)
        v = self.values_db
        out = (
            v[:, i0[:, 0], i0[:, 1]] * (1 - f[:, 0]) * (1 - f[:, 1])
            + v[:, i1[:, 0], i0[:, 1]] * f[:, 0] * (1 - f[:, 1])
            + v[:, i0[:, 0], i1[:, 1]] * (1 - f[:, 0]) * f[:, 1]
            + v[:, i1[:, 0], i1[:, 1]] * f[:, 0] * f[:, 1]
        )
        return np.asarray(out.T, dtype=np.float64)

    def lookup_db_at(self, xy_m: Float, receiver: Int) -> Float:
        """lookup_db for the receivers of each row only.   receiver (n, m) indices -> (n, m) dB"""
        i0, i1, f = self._cells(xy_m)
        x0, y0, x1, y1 = i0[:, 0, None], i0[:, 1, None], i1[:, 0, None], i1[:, 1, None]
        fx, fy = f[:, 0, None], f[:, 1, None]
        v = self.values_db
        out = (
            v[receiver, x0, y0] * (1 - fx) * (1 - fy)
            + v[receiver, x1, y0] * fx * (1 - fy)
            + v[receiver, x0, y1] * (1 - fx) * fy
            + v[receiver, x1, y1] * fx * fy
        )
        return np.asarray(out, dtype=np.float64)

    def _cells(self, xy_m: Float) -> tuple[Int, Int, Float]:
        """Lower and upper cell-centre indices (n, 2) around each point and its fraction (n, 2) between them."""
        _, nx, ny = self.values_db.shape
        u = (as_float(xy_m, name="xy_m", ndim=2, cols=2) - self.origin_m) / self.cell_m - 0.5
        u = np.clip(u, 0.0, [nx - 1, ny - 1])
        i0 = np.minimum(np.floor(u).astype(np.int64), [nx - 2, ny - 2]).clip(0)
        return i0, np.minimum(i0 + 1, [nx - 1, ny - 1]), u - i0


def fit_residual_map(
    *,
    xy_m: Float,
    receiver: Int,
    residual_db: Float,
    n_receivers: int,
    extent_m: tuple[float, float, float, float],
    cell_m: float,
    prior_reads: float,
) -> ResidualMap:
    """Mean residual per (receiver, cell), shrunk: sum / (count + prior_reads).

    xy_m (N, 2) labelled positions, receiver (N,), residual_db (N,) = measured - model.
    extent_m = (x_min, y_min, x_max, y_max).
    """
    if xy_m.shape != (len(receiver), 2) or residual_db.shape != receiver.shape:
        raise ValueError(f"xy_m {xy_m.shape}, receiver {receiver.shape}, residual_db {residual_db.shape}")
    origin = np.array(extent_m[:2])
    shape = np.maximum(np.ceil((np.array(extent_m[2:]) - origin) / cell_m).astype(np.int64), 2)
    cell = np.clip(((xy_m - origin) // cell_m).astype(np.int64), 0, shape - 1)
    total, count = np.zeros((n_receivers, *shape)), np.zeros((n_receivers, *shape))
    np.add.at(total, (receiver, cell[:, 0], cell[:, 1]), residual_db)
    np.add.at(count, (receiver, cell[:, 0], cell[:, 1]), 1.0)
    return ResidualMap(origin_m=origin, cell_m=cell_m, values_db=total / (count + prior_reads))
