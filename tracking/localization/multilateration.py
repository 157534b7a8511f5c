"""Batched, weighted, robust Gauss-Newton multilateration (2-D with anchor heights).

One call solves every tag of a window at once: z (n, k) readings of k anchors, NaN or masked where a
tag was not heard. Works for any `MeasurementModel` (UWB ranges, BLE RSSI in dB).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from ._arrays import Bool, Float, Int, as_float
from .models import MeasurementModel, RangeModel

MIN_ANCHORS = 3
MAX_STEP_M = 5.0
MAX_GDOP = 10.0  # beyond this the anchors heard barely fix the position (near-collinear, all on one side)


class Method(enum.IntEnum):
    MULTILATERATION = 0
    PROXIMITY = 1  # 1-2 anchors: weighted centroid of the anchors heard, zone-level accuracy
    TRACKED = 2  # Kalman estimate
    NONE = 3
    SMOOTHED = 4  # fixed-lag smoothed track estimate (TagTracker.smoothed), reported late by the lag


@dataclass(frozen=True)
class Solution:
    """xy_m (n, 2), cov_m2 (n, 2, 2), accuracy_m (n,), method (n,) of `Method` values."""

    xy_m: Float
    cov_m2: Float
    accuracy_m: Float
    method: Int


def weighted_centroid(anchors_xy_m: Float, weights: Float) -> Float:
    """sum_k w_k a_k / sum_k w_k.   anchors (k, 2), weights (n, k) >= 0   returns (n, 2); NaN if no weight"""
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((weights @ anchors_xy_m) / total, dtype=np.float64)


def accuracy_radius_m(cov_m2: Float) -> Float:
    """DRMS radius sqrt(trace(P_xy)) (about 65 % of fixes fall inside).   cov (n, 2, 2) -> (n,)"""
    return np.asarray(np.sqrt(np.maximum(np.trace(cov_m2, axis1=1, axis2=2), 0.0)), dtype=np.float64)


def normal_2x2(w: Float, J: Float) -> tuple[Float, Float, Float]:
    """J' W J of every row as its three distinct entries a, b, c of [[a, b], [b, c]].

    w (n, k), J (n, k, 2)   returns three (n,); closed form on (n, k) planes, no (n, 2, 2) stacks
    """
    Jx, Jy = J[..., 0], J[..., 1]
    wJx = w * Jx
    return np.einsum("nk,nk->n", wJx, Jx), np.einsum("nk,nk->n", wJx, Jy), np.einsum("nk,nk->n", w * Jy, Jy)


def pinv_2x2(a: Float, b: Float, c: Float) -> Float:
    """Pseudo-inverse of symmetric PSD [[a, b], [b, c]] per row, as np.linalg.pinv (cutoff 1e-15 lambda_max).

    full rank: [[c, -b], [-b, a]] / (ac - b^2);  rank 1 (M = lambda v v'): v v' / lambda = M / lambda^2;  zero: 0
    a, b, c (n,)   returns (n, 2, 2)
    """
    lam_max = 0.5 * (a + c) + np.hypot(0.5 * (a - c), b)
    det = a * c - b * b
    full = det > 1e-15 * lam_max**2  # lambda_min = det / lambda_max
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(full, 1.0 / det, np.where(lam_max > 0, 1.0 / lam_max**2, 0.0))
    out = np.empty((len(a), 2, 2))
    out[:, 0, 0] = np.where(full, c, a) * scale
    out[:, 1, 1] = np.where(full, a, c) * scale
    out[:, 0, 1] = out[:, 1, 0] = np.where(full, -b, b) * scale
    return out


def gdop(model: MeasurementModel, xy_m: Float, valid: Bool) -> Float:
    """Geometric dilution of precision sqrt(trace((J'J)^-1)) with unit-normalised Jacobian rows; inf where
    the anchors heard fix no position (all bearings parallel: collinear or coincident anchors, 1 anchor)."""
    _, J = model.predict(xy_m)
    unit = valid / np.maximum(np.hypot(J[..., 0], J[..., 1]), 1e-12)
    a, b, c = normal_2x2(unit * unit, J)
    det = a * c - b * b  # trace(M^-1) = (a + c) / det
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(det > 1e-12 * (a + c) ** 2, np.sqrt((a + c) / det), np.inf), dtype=np.float64)


def _check(model: MeasurementModel, z: Float, valid: Bool, xy0_m: Float) -> None:
    k = len(model.anchors_m)
    if z.ndim != 2 or z.shape[1] != k or valid.shape != z.shape or xy0_m.shape != (len(z), 2):
        raise ValueError(f"z {z.shape}, valid {valid.shape}, xy0_m {xy0_m.shape}: need (n, {k}), (n, {k}), (n, 2)")


def irls_step(model: MeasurementModel, z: Float, w0: Float, xy_m: Float, *, huber_k: float) -> Float:
    """One robust Gauss-Newton step for every row: Huber weights at xy, then (J'WJ) dx = J'W r, capped at MAX_STEP_M.

    z, w0 (n, k): readings and base weights 1/sigma^2 (0 where unheard)   xy_m (n, 2)
    returns the new xy (n, 2)
    """
    z_hat, J = model.predict(xy_m)
    r = z - z_hat  # unheard anchors carry w0 = 0 and drop out below
    w = w0 * np.minimum(1.0, huber_k / np.maximum(np.abs(r) * np.sqrt(w0), 1e-12))  # Huber IRLS weights
    a, b, c = normal_2x2(w, J)
    a, c = a + 1e-9, c + 1e-9
    wr = w * r
    gx, gy = np.einsum("nk,nk->n", wr, J[..., 0]), np.einsum("nk,nk->n", wr, J[..., 1])
    det = a * c - b * b  # [[a, b], [b, c]] dx = g in closed form
    dx, dy = (c * gx - b * gy) / det, (a * gy - b * gx) / det
    scale = np.minimum(1.0, MAX_STEP_M / np.maximum(np.hypot(dx, dy), 1e-12))
    return np.asarray(xy_m + np.column_stack([dx, dy]) * scale[:, None], dtype=np.float64)


def gauss_newton(
    model: MeasurementModel,
    z: Float,
    valid: Bool,
    xy0_m: Float,
    *,
    counts: Float | None = None,
    huber_k: float = 1.5,
    iterations: int = 10,
) -> tuple[Float, Float]:
    """Robust weighted least squares  min_x sum_k w_k rho((z_k - h_k(x)) / sigma_k)  by IRLS Gauss-Newton.

    counts (n, k): reads averaged into each z; weight 1 / model.noise_var(counts). Huber rho, threshold huber_k.
    A fixed number of steps for every row (IRLS converges only linearly while Huber down-weights a reading,
    so a few rows in a hundred stop short of the minimum by up to centimetres).
    Returns xy (n, 2) and its covariance (J' W J)^-1 (n, 2, 2).
    """
    _check(model, z, valid, xy0_m)
    w0 = valid / model.noise_var(np.ones(z.shape) if counts is None else counts)
    z = np.where(valid, z, 0.0)
    xy = xy0_m.copy()
    for _ in range(iterations):
        xy = irls_step(model, z, w0, xy, huber_k=huber_k)
    _, J = model.predict(xy)
    return xy, pinv_2x2(*normal_2x2(w0, J))


def locate(
    model: MeasurementModel,
    z: Float,
    valid: Bool,
    *,
    counts: Float | None = None,
    proximity_accuracy_m: float = 5.0,
) -> Solution:
    """Fixes for every tag of a window, with a fallback for tags heard by fewer than 3 anchors or by
    anchors whose geometry fixes no position (GDOP > MAX_GDOP or infinite: collinear, coincident).

    The model's closeness(z) (1/range^2, linear RSSI power) weights the centroid that seeds
    Gauss-Newton and is the proximity estimate (Method.PROXIMITY, accuracy proximity_accuracy_m) of
    those tags.
    """
    z = as_float(z, name="z", ndim=2)
    closeness = np.where(valid, model.closeness(np.where(valid, z, 0.0)), 0.0)
    xy0 = weighted_centroid(model.anchors_m[:, :2], closeness)
    n_valid = valid.sum(axis=1)
    xy0 = np.where(n_valid[:, None] > 0, xy0, 0.0)
    xy, cov = gauss_newton(model, z, valid, xy0, counts=counts)
    accuracy = accuracy_radius_m(cov)
    few = (n_valid < MIN_ANCHORS) | ~(gdop(model, xy, valid) <= MAX_GDOP)
    xy[few] = xy0[few]
    accuracy[few] = proximity_accuracy_m
    cov[few] = np.eye(2) * proximity_accuracy_m**2 / 2
    method = np.where(few, Method.PROXIMITY, Method.MULTILATERATION).astype(np.int64)
    method[n_valid == 0] = Method.NONE
    return Solution(xy_m=xy, cov_m2=cov, accuracy_m=accuracy, method=method)


def multilaterate(anchors_m: Float, ranges_m: Float, *, tag_height_m: float = 0.0, sigma_m: float = 0.1) -> Solution:
    """Positions from ranges.   anchors_m (k, 2|3), ranges_m (n, k) with NaN for missing   returns Solution"""
    anchors_m = as_float(anchors_m, name="anchors_m", ndim=2)
    if anchors_m.shape[1] not in (2, 3):
        raise ValueError(f"anchors_m: expected shape (k, 2) or (k, 3), got {anchors_m.shape}")
    ranges_m = as_float(ranges_m, name="ranges_m", ndim=2)
    if ranges_m.shape[1] != len(anchors_m):
        raise ValueError(f"ranges_m {ranges_m.shape}: need (n, {len(anchors_m)}) for {len(anchors_m)} anchors")
    k = len(anchors_m)
    model = RangeModel(anchors_m=anchors_m, bias_m=np.zeros(k), sigma=np.full(k, sigma_m), tag_height_m=tag_height_m)
    valid = np.isfinite(ranges_m) & (ranges_m > 0)
    z = np.where(valid, ranges_m, 0.0)
    return locate(model, z, valid)
