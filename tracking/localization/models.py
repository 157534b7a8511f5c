"""Measurement models: what a receiver should report for a tag at a position.

A model answers `predict(xy_m) -> (z_hat (n, k), J (n, k, 2))`: the expected reading of each of the
k receivers/anchors for n tag positions and its Jacobian with respect to the horizontal position.
Anchor heights are taken into account (3-D distance with the tag at `tag_height_m`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ._arrays import Float, Int, as_float, offsets_3d, offsets_at
from .radiomap import ResidualMap

LN10 = float(np.log(10.0))
MIN_DISTANCE_M = 0.1


class MeasurementModel(Protocol):
    """anchors_m (k, 2|3) receivers; sigma (k,) noise std of one reading; predict / closeness / noise_var
    (variance of the mean of `counts` readings, (n, k)); predict_at: predict for given receivers of each row,
    (n, m) indices -> (n, m), (n, m, 2), equal to the matching columns of predict."""

    @property
    def anchors_m(self) -> Float: ...

    @property
    def sigma(self) -> Float: ...

    def predict(self, xy_m: Float) -> tuple[Float, Float]: ...

    def predict_at(self, xy_m: Float, receiver: Int) -> tuple[Float, Float]: ...

    def closeness(self, z: Float) -> Float: ...

    def noise_var(self, counts: Float) -> Float: ...


def distances_3d_m(xy_m: Float, anchors_m: Float, tag_height_m: float) -> tuple[Float, Float]:
    """3-D tag-anchor distances (n, k), floored at 0.1 m, and the offsets (n, k, 3)."""
    v = offsets_3d(xy_m, anchors_m, tag_height_m)
    dx, dy, dz = v[..., 0], v[..., 1], v[..., 2]  # contiguous planes (see offsets_3d)
    return np.maximum(np.sqrt(dx * dx + dy * dy + dz * dz), MIN_DISTANCE_M), v


def distances_at_m(xy_m: Float, anchors_m: Float, receiver: Int, tag_height_m: float) -> tuple[Float, Float]:
    """distances_3d_m towards each row's own receivers only.   receiver (n, m)   returns (n, m), (n, m, 3)"""
    v = offsets_at(xy_m, anchors_m, receiver, tag_height_m)
    dx, dy, dz = v[..., 0], v[..., 1], v[..., 2]
    return np.maximum(np.sqrt(dx * dx + dy * dy + dz * dz), MIN_DISTANCE_M), v


@dataclass(frozen=True)
class PathLossModel:
    """Log-distance path loss with per-receiver calibration.

    rssi_dbm = rssi_1m_dbm + offset_db[k] - 10 * exponent[k] * log10(d_m) (+ residual_map[k](x, y))
    anchors_m (k, 3) receivers; offset_db, exponent (k,); sigma (k,) dB std of one read (fast fading);
    window_sigma_db: std of slow shadowing that averaging the reads of one window does not remove.
    """

    anchors_m: Float
    rssi_1m_dbm: float
    offset_db: Float
    exponent: Float
    sigma: Float
    tag_height_m: float = 1.0
    residual_map: ResidualMap | None = field(default=None)
    window_sigma_db: float = 0.0

    def __post_init__(self) -> None:
        k = len(self.anchors_m)
        for name in ("offset_db", "exponent", "sigma"):
            if np.shape(getattr(self, name)) != (k,):
                raise ValueError(f"{name}: expected shape ({k},), got {np.shape(getattr(self, name))}")

    def predict(self, xy_m: Float) -> tuple[Float, Float]:
        """Expected RSSI (n, k) dBm and d(RSSI)/d(xy) (n, k, 2). The map's gradient is ignored."""
        xy_m = as_float(xy_m, name="xy_m", ndim=2, cols=2)
        d_m, v = distances_3d_m(xy_m, self.anchors_m, self.tag_height_m)
        residual_db = None if self.residual_map is None else self.residual_map.lookup_db(xy_m)
        return self._rssi(d_m, v, self.offset_db, self.exponent, residual_db)

    def predict_at(self, xy_m: Float, receiver: Int) -> tuple[Float, Float]:
        """predict for the receivers of each row only.   receiver (n, m) indices   returns (n, m), (n, m, 2)"""
        xy_m = as_float(xy_m, name="xy_m", ndim=2, cols=2)
        d_m, v = distances_at_m(xy_m, self.anchors_m, receiver, self.tag_height_m)
        residual_db = None if self.residual_map is None else self.residual_map.lookup_db_at(xy_m, receiver)
        return self._rssi(d_m, v, self.offset_db.take(receiver), self.exponent.take(receiver), residual_db)

    def _rssi(self, d_m: Float, v: Float, offset_db: Float, exponent: Float,
              residual_db: Float | None) -> tuple[Float, Float]:
        rssi_dbm = self.rssi_1m_dbm + offset_db - 10.0 * exponent * np.log10(d_m)
        if residual_db is not None:
            rssi_dbm = rssi_dbm + residual_db
        # d/dxy [-10 n log10 d] = -10 n / (ln10 d^2) * (xy - a_xy)
        J = (-10.0 * exponent / (LN10 * d_m**2))[..., None] * v[..., :2]
        return rssi_dbm, J

    def closeness(self, z: Float) -> Float:
        """Linear received power 10^(rssi/10): weights of a centroid."""
        return np.asarray(10.0 ** (z / 10.0), dtype=np.float64)

    def noise_var(self, counts: Float) -> Float:
        """Variance of a mean of `counts` reads (n, k): window_sigma^2 + sigma_k^2 / counts."""
        return np.asarray(self.window_sigma_db**2 + self.sigma**2 / np.maximum(counts, 1.0), dtype=np.float64)

    def range_m(self, rssi_dbm: Float, receiver: Int) -> Float:
        """Invert the model: d = 10^((rssi_1m + offset - rssi) / (10 n)); 3-D metres."""
        ref = self.rssi_1m_dbm + self.offset_db[receiver]
        return np.asarray(10.0 ** ((ref - rssi_dbm) / (10.0 * self.exponent[receiver])), dtype=np.float64)


@dataclass(frozen=True)
class RangeModel:
    """Two-way ranging (UWB): range_m = |tag - anchor|_3d + bias_m[k], noise sigma (k,) m."""

    anchors_m: Float
    bias_m: Float
    sigma: Float
    tag_height_m: float = 0.0

    def predict(self, xy_m: Float) -> tuple[Float, Float]:
        """Expected range (n, k) m and its Jacobian (n, k, 2): d|v|/dxy = (xy - a_xy) / d."""
        d_m, v = distances_3d_m(as_float(xy_m, name="xy_m", ndim=2, cols=2), self.anchors_m, self.tag_height_m)
        return d_m + self.bias_m, v[..., :2] / d_m[..., None]

    def predict_at(self, xy_m: Float, receiver: Int) -> tuple[Float, Float]:
        """predict for the anchors of each row only.   receiver (n, m) indices   returns (n, m), (n, m, 2)"""
        d_m, v = distances_at_m(as_float(xy_m, name="xy_m", ndim=2, cols=2), self.anchors_m, receiver,
                                self.tag_height_m)
        return d_m + self.bias_m.take(receiver), v[..., :2] / d_m[..., None]

    def closeness(self, z: Float) -> Float:
        """1 / range^2: weights of a centroid."""
        return np.asarray(1.0 / np.maximum(z - self.bias_m, MIN_DISTANCE_M) ** 2, dtype=np.float64)

    def noise_var(self, counts: Float) -> Float:
        """Variance of a mean of `counts` ranges (n, k): sigma_k^2 / counts (independent ranging errors)."""
        return np.asarray(self.sigma**2 / np.maximum(counts, 1.0), dtype=np.float64)


def fit_path_loss(
    *,
    distance_m: Float,
    rssi_dbm: Float,
    receiver: Int,
    anchors_m: Float,
    tag_height_m: float,
    prior_reads: float = 0.0,
) -> PathLossModel:
    """Fit a per-receiver log-distance model from labelled reads (survey points or ground truth).

    distance_m, rssi_dbm, receiver : (N,). A global fit rssi = A + s log10(d) is made first; each
    receiver then gets a ridge fit pulled towards it with the weight of `prior_reads` reads.
    """
    n_rx = len(anchors_m)
    if not (distance_m.shape == rssi_dbm.shape == receiver.shape) or distance_m.ndim != 1:
        raise ValueError(
            f"distance_m {distance_m.shape}, rssi_dbm {rssi_dbm.shape}, receiver {receiver.shape}: need equal (N,)"
        )
    X = np.column_stack([np.ones_like(distance_m), np.log10(np.maximum(distance_m, MIN_DISTANCE_M))])
    g, *_ = np.linalg.lstsq(X, rssi_dbm, rcond=None)
    coef, sigma = np.tile(g, (n_rx, 1)), np.full(n_rx, np.std(rssi_dbm - X @ g))
    ridge = prior_reads * np.eye(2)
    for k in range(n_rx):  # one 2x2 solve per receiver: calibration, not the hot path
        Xk, yk = X[receiver == k], rssi_dbm[receiver == k]
        if len(yk) >= 3:
            coef[k] = np.linalg.solve(Xk.T @ Xk + ridge, Xk.T @ yk + ridge @ g)
            sigma[k] = float(np.std(yk - Xk @ coef[k]))
    return PathLossModel(
        anchors_m=anchors_m, rssi_1m_dbm=float(g[0]), offset_db=coef[:, 0] - g[0],
        exponent=-coef[:, 1] / 10.0, sigma=sigma, tag_height_m=tag_height_m,
    )


def fit_range_bias(*, range_m: Float, true_range_m: Float, receiver: Int, n_anchors: int) -> tuple[Float, Float]:
    """Per-anchor range bias (median of range - truth) and robust std (1.4826 MAD), both (k,) m."""
    if not (range_m.shape == true_range_m.shape == receiver.shape):
        raise ValueError(
            f"range_m {range_m.shape}, true_range_m {true_range_m.shape}, receiver {receiver.shape}: need equal (N,)"
        )
    err = range_m - true_range_m
    bias, sigma = np.zeros(n_anchors), np.full(n_anchors, 1.4826 * np.median(np.abs(err - np.median(err))))
    for k in range(n_anchors):
        e = err[receiver == k]
        if len(e):
            bias[k] = np.median(e)
            sigma[k] = max(1.4826 * float(np.median(np.abs(e - bias[k]))), 1e-3)
    return bias, sigma


def fit_read_noise(*, residual: Float, cell: Int) -> tuple[float, float]:
    """Split reading noise into a part that averages out within a window and a part that does not.

    residual (N,) measured - model of labelled reads; cell (N,) id of the (window, receiver) each read
    belongs to. Returns (read_sigma, window_sigma):
        read_sigma^2   = pooled within-cell variance (fast fading; independent from read to read)
        window_sigma^2 = mean over cells of (cell mean - overall mean)^2 - read_sigma^2 / n_cell, >= 0
    """
    if residual.shape != cell.shape or residual.ndim != 1:
        raise ValueError(f"residual {residual.shape}, cell {cell.shape}: need equal (N,)")
    _, which, n = np.unique(cell, return_inverse=True, return_counts=True)
    mean = np.bincount(which, weights=residual) / n
    within = float(((residual - mean[which]) ** 2).sum()) / max(int((n - 1).sum()), 1)
    between = float(np.mean((mean - residual.mean()) ** 2 - within / n))
    return float(np.sqrt(within)), float(np.sqrt(max(between, 0.0)))
