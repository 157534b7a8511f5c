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
TOL_M = 1e-5  # converged: the next step would move the row less than this (10 um; see `irls`)
MAX_ITERATIONS = 100  # a guard against rows that never settle, not a budget: the slowest need about 70


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
    return _gdop(J, valid)


def _gdop(J: Float, valid: Bool) -> Float:
    """gdop from the Jacobian J (n, k, 2) already evaluated at the positions."""
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
    """One robust Gauss-Newton step from xy for every row: Huber weights w_k = w0_k min(1, huber_k / |u_k|),
    u_k = (z_k - h_k(xy)) sqrt(w0_k), then (J'WJ) dx = J'W r, scaled down to MAX_STEP_M at most.

    z, w0 (n, k): readings and base weights 1/sigma^2 (0 where unheard)   xy_m (n, 2)   returns dx (n, 2) m
    """
    z_hat, J = model.predict(xy_m)
    Jx, Jy = J[..., 0], J[..., 1]
    r = z - z_hat  # unheard anchors carry w0 = 0 and drop out below
    w = w0 * np.minimum(1.0, huber_k / np.maximum(np.abs(r) * np.sqrt(w0), 1e-12))  # Huber IRLS weights
    wJx, wJy = w * Jx, w * Jy
    a, b, c = _dot(wJx, Jx), _dot(wJx, Jy), _dot(wJy, Jy)  # J'WJ = [[a, b], [b, c]]
    gx, gy = _dot(wJx, r), _dot(wJy, r)  # J'W r
    a, c = a + 1e-9, c + 1e-9
    det = a * c - b * b  # [[a, b], [b, c]] dx = g in closed form
    dx, dy = (c * gx - b * gy) / det, (a * gy - b * gx) / det
    scale = MAX_STEP_M / np.maximum(np.sqrt(dx * dx + dy * dy), MAX_STEP_M)
    step = np.empty_like(xy_m)
    step[:, 0], step[:, 1] = dx * scale, dy * scale
    return step


def _dot(u: Float, v: Float) -> Float:
    """Row-wise dot product of two (n, k) planes -> (n,)."""
    return np.asarray(np.einsum("nk,nk->n", u, v), dtype=np.float64)


def irls(
    model: MeasurementModel,
    z: Float,
    w0: Float,
    xy0_m: Float,
    *,
    huber_k: float = 1.5,
    tol_m: float = TOL_M,
    max_iterations: int = MAX_ITERATIONS,
) -> Float:
    """Iterate irls_step from xy0 until each row converges.   z, w0 (n, k) as irls_step, xy0_m (n, 2) -> xy (n, 2)

    A row stops once its next step is shorter than tol_m (default TOL_M, 1e-5 m), or after max_iterations
    steps (default MAX_ITERATIONS, 100). Most rows stop after 4-6 steps. IRLS converges only linearly while
    Huber damps a reading, so those rows (a few in a hundred) take 10-70 and stop a few tol_m short of the
    minimum (at most 0.09 mm in the 10,000-tag scene of bench.bench_localization; tol_m 1e-6 gives 0.008 mm
    and costs 15-20 % more time at 1,000 tags). Only rows still moving are stepped: the active set is
    compressed whenever rows stop, so that tail costs little.
    Damping: a step that undoes more than half of the previous one is taken at half length, the next such at
    a quarter, and so on; the share doubles back towards 1 once steps stop reversing. Plain Gauss-Newton can
    cycle between two points on a poorly determined fix (seen on a BLE track start far outside the
    receivers); the fixed points, and so the answers elsewhere, are unchanged.
    Each row's answer depends only on its own readings, whatever else is in the batch. An empty batch returns
    at once.
    """
    if not (tol_m >= 0 and max_iterations >= 0):
        raise ValueError(f"tol_m {tol_m}, max_iterations {max_iterations}: need both >= 0")
    xy = np.array(xy0_m, dtype=np.float64)  # the answers; a row's is written when it stops
    if len(xy) == 0:
        return xy
    rows = np.arange(len(xy))  # the rows still moving; every array below holds theirs
    z_a, w0_a, xy_a = z, w0, xy
    last, damping = np.zeros_like(xy), np.ones(len(xy))  # the step taken last; share of the next one to take
    for _ in range(max_iterations):
        step = irls_step(model, z_a, w0_a, xy_a, huber_k=huber_k)
        sx, sy, lx, ly = step[:, 0], step[:, 1], last[:, 0], last[:, 1]
        undoes = sx * lx + sy * ly < -0.5 * (lx * lx + ly * ly)
        damping = np.minimum(1.0, np.where(undoes, 0.5, 2.0) * damping)
        last = step * damping[:, None]
        xy_a = xy_a + last
        moving = sx * sx + sy * sy >= tol_m * tol_m
        if not moving.all():  # some rows stop: keep their answer, step only the others from now on
            xy[rows] = xy_a
            keep = np.flatnonzero(moving)
            rows, z_a, w0_a, xy_a = rows[keep], z_a.take(keep, axis=0), w0_a.take(keep, axis=0), xy_a[keep]
            last, damping = last[keep], damping[keep]
            if not len(rows):
                break
    xy[rows] = xy_a
    return xy


def base_weights(model: MeasurementModel, valid: Bool, counts: Float | None) -> Float:
    """w0 = 1 / model.noise_var(counts) where heard, 0 elsewhere (n, k); counts None: one read each."""
    return np.asarray(valid / model.noise_var(np.ones(valid.shape) if counts is None else counts), dtype=np.float64)


def gauss_newton(
    model: MeasurementModel,
    z: Float,
    valid: Bool,
    xy0_m: Float,
    *,
    counts: Float | None = None,
    huber_k: float = 1.5,
    tol_m: float = TOL_M,
    max_iterations: int = MAX_ITERATIONS,
) -> tuple[Float, Float]:
    """Robust weighted least squares  min_x sum_k w_k rho((z_k - h_k(x)) / sigma_k)  by IRLS Gauss-Newton.

    counts (n, k): reads averaged into each z; weight 1 / model.noise_var(counts). Huber rho, threshold huber_k.
    Every row is iterated until it converges (see `irls` for tol_m and max_iterations).
    Returns xy (n, 2) and its covariance (J' W J)^-1 (n, 2, 2).
    """
    _check(model, z, valid, xy0_m)
    w0 = base_weights(model, valid, counts)
    xy = irls(model, np.where(valid, z, 0.0), w0, xy0_m, huber_k=huber_k, tol_m=tol_m, max_iterations=max_iterations)
    _, J = model.predict(xy)
    return xy, pinv_2x2(*normal_2x2(w0, J))


def locate(
    model: MeasurementModel,
    z: Float,
    valid: Bool,
    *,
    counts: Float | None = None,
    proximity_accuracy_m: float = 5.0,
    tol_m: float = TOL_M,
    max_iterations: int = MAX_ITERATIONS,
) -> Solution:
    """Fixes for every tag of a window, with a fallback for tags heard by fewer than 3 anchors or by
    anchors whose geometry fixes no position (GDOP > MAX_GDOP or infinite: collinear, coincident).

    The model's closeness(z) (1/range^2, linear RSSI power) weights the centroid that seeds
    Gauss-Newton and is the proximity estimate (Method.PROXIMITY, accuracy proximity_accuracy_m) of
    those tags. tol_m, max_iterations: see `irls`.
    """
    z = as_float(z, name="z", ndim=2)
    closeness = np.where(valid, model.closeness(np.where(valid, z, 0.0)), 0.0)
    xy0 = weighted_centroid(model.anchors_m[:, :2], closeness)
    n_valid = valid.sum(axis=1)
    xy0 = np.where(n_valid[:, None] > 0, xy0, 0.0)
    _check(model, z, valid, xy0)
    w0 = base_weights(model, valid, counts)
    # rows heard by fewer than MIN_ANCHORS keep their centroid, so Gauss-Newton is not tried on them: with two
    # anchors many rows would wander on for all max_iterations (two mirror answers and the ridge between them)
    xy = xy0.copy()
    solve = np.flatnonzero(n_valid >= MIN_ANCHORS)
    xy[solve] = irls(model, np.where(valid, z, 0.0)[solve], w0[solve], xy0[solve], tol_m=tol_m,
                     max_iterations=max_iterations)
    _, J = model.predict(xy)  # one Jacobian at the answers for both the covariance and the GDOP
    cov = pinv_2x2(*normal_2x2(w0, J))
    accuracy = accuracy_radius_m(cov)
    few = (n_valid < MIN_ANCHORS) | ~(_gdop(J, valid) <= MAX_GDOP)
    xy[few] = xy0[few]
    accuracy[few] = proximity_accuracy_m
    cov[few] = np.eye(2) * proximity_accuracy_m**2 / 2
    method = np.where(few, Method.PROXIMITY, Method.MULTILATERATION).astype(np.int64)
    method[n_valid == 0] = Method.NONE
    return Solution(xy_m=xy, cov_m2=cov, accuracy_m=accuracy, method=method)


def multilaterate(
    anchors_m: Float,
    ranges_m: Float,
    *,
    tag_height_m: float = 0.0,
    sigma_m: float = 0.1,
    tol_m: float = TOL_M,
    max_iterations: int = MAX_ITERATIONS,
) -> Solution:
    """Positions from ranges.   anchors_m (k, 2|3), ranges_m (n, k) with NaN for missing   returns Solution
    (tol_m, max_iterations: see `irls`)"""
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
    return locate(model, z, valid, tol_m=tol_m, max_iterations=max_iterations)
