"""Per-tag tracking across windows: the stateful heart of the engine.

Each window: reduce reads to one reading per (tag, receiver); start tracks for new tags with a
multilateration fix; predict known tracks to the window time and fuse the readings directly with an
iterated EKF (tightly coupled: a tag heard by 1-2 receivers still improves its track); down-weight
readings whose innovation is implausible; flag stationary tags; forget tags that go silent.
All of it batched over the tags of the window.

The update works on the receivers each tag was heard by only (ekf_heard: information form, 2x2 algebra
per tag), not on every receiver of the floor (ekf_dense: the textbook form with k x k matrices, k = 16-33
gateways, kept as the reference it is tested against and TrackerConfig.dense_update). Same estimates;
bench.bench_localization times both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from . import kalman
from ._arrays import Bool, Float, Int
from .models import MeasurementModel
from .multilateration import Method, accuracy_radius_m, locate
from .smoother import LagBuffer
from .window import Aggregate, ReadWindow, Str, aggregate, heard_receivers

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackerConfig:
    q_m2ps3: float = 0.03  # white-acceleration density: a person walking, stopping and turning
    init_speed_std_mps: float = 0.7
    gate_sigma: float = 3.0  # innovations beyond this many sigma get their R inflated (soft gate)
    chi2_gate: float = 13.8  # 2-D position fixes: 99.9 % chi-square gate
    reinit_after_rejections: int = 3
    iterations: int = 3
    max_silence_s: float = 60.0
    stationary_speed_mps: float = 0.15
    stationary_after_s: float = 5.0
    bounds_m: tuple[float, float, float, float] | None = None  # x_min, y_min, x_max, y_max
    init_window_s: float = 2.0  # reads of an unknown tag pooled until 3 receivers are heard
    smoother_lag_s: float = 0.0  # > 0: keep filter history so smoothed() can report positions this late
    smoother_steps: int = 16  # filter steps kept per tag; must span smoother_lag_s
    dense_update: bool = False  # True: ekf_dense, the textbook k x k update (the reference; slow, for tests and bench)


@dataclass(frozen=True)
class Fixes:
    """One row per tag updated in a window: xy_m (n, 2), accuracy_m (n,), method (n,) `Method`,
    stationary (n,), t_s (n,) time of the estimate (unix s)."""

    tag_id: Str
    t_s: Float
    xy_m: Float
    accuracy_m: Float
    method: Int
    stationary: Bool


def concat_fixes(parts: list[Fixes]) -> Fixes:
    return Fixes(*(np.concatenate([getattr(p, f) for p in parts]) for f in Fixes.__dataclass_fields__))


def measurement_fn(model: MeasurementModel, valid: Bool) -> kalman.MeasurementFn:
    """h over the CV state with unheard receivers masked out (zero rows, zero prediction)."""

    def h(x: Float) -> tuple[Float, Float]:
        z_hat, J = model.predict(x[:, :2])
        H = np.zeros((*J.shape[:2], 4))
        H[..., :2] = J * valid[..., None]
        return z_hat * valid, H

    return h


def robust_R(x: Float, P: Float, z: Float, R: Float, h: kalman.MeasurementFn, gate_sigma: float) -> Float:
    """Soft innovation gate: R_kk *= max(1, (|y_k| / (gate_sigma sqrt(S_kk)))^2), y = z - h(x).

    A reading far outside its predicted spread is down-weighted so much that it barely moves the
    track (Huber-like), instead of being trusted or thrown away outright.
    """
    z_hat, H = h(x)
    y = z - z_hat  # masked receivers: z = z_hat = 0
    S = H @ P @ np.swapaxes(H, -1, -2) + R
    s = np.abs(y) / np.sqrt(np.diagonal(S, axis1=1, axis2=2))
    scale = np.maximum(1.0, (s / gate_sigma) ** 2)
    return np.asarray(R * scale[:, :, None], dtype=np.float64)  # R is diagonal: scale its rows


def soft_gate_weights(P: Float, y: Float, J: Float, sigma2: Float, heard: Bool, gate_sigma: float) -> Float:
    """robust_R as weights w_k = 1 / R_kk (0 where not heard): the gate reads only the diagonal of S,

        S_kk = J_k P_pp J_k' + sigma2_k ;   R_kk = sigma2_k max(1, y_k^2 / (gate_sigma^2 S_kk))

    P (n, 4, 4); y, sigma2, heard (n, m); J (n, m, 2)   returns w (n, m)
    """
    Jx, Jy = J[..., 0], J[..., 1]
    p00, p01, p11 = P[:, 0, 0, None], P[:, 0, 1, None] + P[:, 1, 0, None], P[:, 1, 1, None]
    S = Jx * Jx * p00 + Jx * Jy * p01 + Jy * Jy * p11 + sigma2
    scale = np.maximum(1.0, y * y / (gate_sigma**2 * S))
    return np.asarray(np.where(heard, 1.0 / (sigma2 * scale), 0.0), dtype=np.float64)


def ekf_dense(model: MeasurementModel, x: Float, P: Float, z: Float, counts: Float, *, gate_sigma: float,
              iterations: int) -> tuple[Float, Float]:
    """The textbook update of predicted tracks x (n, 4), P (n, 4, 4) with a window's readings z, counts (n, k):
    every receiver of the floor in H (n, k, 4) and R (n, k, k), unheard ones masked (robust_R, iterated_update).
    O(k^3) per tag: the reference that ekf_heard is tested and benchmarked against."""
    valid = counts > 0
    sigma2 = np.where(valid, model.noise_var(counts), 1.0)
    R = sigma2[:, :, None] * np.eye(valid.shape[1])
    h = measurement_fn(model, valid)
    z = np.where(valid, z, 0.0)
    R = robust_R(x, P, z, R, h, gate_sigma)
    return kalman.iterated_update(x, P, z, h, R, iterations=iterations)


def ekf_heard(model: MeasurementModel, x: Float, P: Float, z: Float, counts: Float, *, gate_sigma: float,
              iterations: int) -> tuple[Float, Float]:
    """ekf_dense over the m receivers each tag was heard by (4 of 27, say), in the information form: the same
    estimates (up to rounding) at O(m) per tag. R is diagonal, so the readings are independent terms of J'WJ
    (kalman.iterated_position_update) and the soft gate needs only the diagonal of S (soft_gate_weights)."""
    receiver, heard = heard_receivers(counts > 0)
    z_h = np.take_along_axis(z, receiver, axis=1)
    sigma2 = np.take_along_axis(model.noise_var(counts), receiver, axis=1)

    def h(xy_m: Float) -> tuple[Float, Float]:
        return model.predict_at(xy_m, receiver)

    z_hat, J = h(x[:, :2])
    w = soft_gate_weights(P, z_h - z_hat, J, sigma2, heard, gate_sigma)
    return kalman.iterated_position_update(x, P, z_h, h, w, iterations=iterations, h0=(z_hat, J))


class TagTracker:
    """Constant-velocity tracks for every tag of one technology on one floor."""

    def __init__(self, model: MeasurementModel, config: TrackerConfig | None = None) -> None:
        self.model, self.config = model, config or TrackerConfig()
        self.tag_id: Str = np.zeros(0, dtype=np.str_)
        self.x, self.P = np.zeros((0, 4)), np.zeros((0, 4, 4))
        self.t_s, self.horizon_s, self.still_since_s = np.zeros(0), np.zeros(0), np.zeros(0)
        self.rejections = np.zeros(0, dtype=np.int64)
        self.dropped = {"duplicate": 0, "stale": 0}
        self._row: dict[str, int] = {}  # tag id -> track row, kept in step with tag_id
        self._pending = ReadWindow.of([], [], [], [])
        lagged = self.config.smoother_lag_s > 0
        self.history: LagBuffer | None = LagBuffer(self.config.smoother_steps) if lagged else None

    def rows(self, tag_id: Str) -> Int:
        """Track row of each tag, -1 if unknown."""
        row = self._row
        return np.array([row.get(t, -1) for t in tag_id.tolist()], dtype=np.int64)

    def step(self, window: ReadWindow) -> Fixes:
        """Absorb one window of reads; return fixes of the tags heard in it (tracked or proximity)."""
        distinct, code = window.tag_codes
        track = self.rows(distinct)  # per distinct tag of the window: its track row, -1 if none yet
        horizon = np.full(len(distinct), -np.inf)
        horizon[track >= 0] = self.horizon_s[track[track >= 0]]
        agg = aggregate(window, n_receivers=len(self.model.anchors_m), horizon_s=horizon)
        self.dropped["duplicate"] += agg.duplicates
        self.dropped["stale"] += agg.stale
        if agg.duplicates or agg.stale:
            logger.debug("dropped %d duplicate and %d stale reads", agg.duplicates, agg.stale)
        rows = track[agg.tag_index]
        known = rows >= 0
        if known.any():
            self._advance(agg, known, rows[known])
        tracked = self._fixes(rows[known], np.full(int(known.sum()), Method.TRACKED))
        return concat_fixes([tracked, self._start_pending(window, track[code] < 0)])

    def _start_pending(self, window: ReadWindow, fresh: Bool) -> Fixes:
        """Buffer reads of unknown tags (fresh (N,): the window's reads of tags with no track yet) for
        init_window_s; start a track once >= 3 receivers are heard, else report a proximity fix without a track."""
        p = self._pending
        if len(p.tag_id) == 0 and not fresh.any():
            return no_fixes()
        pairs = ((p.tag_id, window.tag_id), (p.receiver, window.receiver), (p.t_s, window.t_s), (p.value, window.value))
        merged = ReadWindow(*(np.concatenate([a, b[fresh]]) for a, b in pairs))
        recent = merged.t_s >= (merged.t_s.max(initial=-np.inf) - self.config.init_window_s)
        merged = ReadWindow(merged.tag_id[recent], merged.receiver[recent], merged.t_s[recent], merged.value[recent])
        pend = aggregate(merged, n_receivers=len(self.model.anchors_m))
        sol = locate(self.model, pend.z, pend.valid, counts=pend.counts)
        ready = sol.method == Method.MULTILATERATION
        if ready.any():
            self._start(pend, ready, sol.xy_m[ready], sol.cov_m2[ready])
        started = np.zeros(len(merged.tag_codes[0]), dtype=bool)
        started[pend.tag_index[ready]] = True
        keep = ~started[merged.tag_codes[1]]
        self._pending = ReadWindow(merged.tag_id[keep], merged.receiver[keep], merged.t_s[keep], merged.value[keep])
        heard_now = np.isin(pend.tag_id, window.tag_id[fresh])
        new_rows = self.rows(pend.tag_id[ready & heard_now])
        started_fixes = self._fixes(new_rows, sol.method[ready & heard_now])
        near = ~ready & heard_now & (sol.method != Method.NONE)
        proximity = Fixes(tag_id=pend.tag_id[near], t_s=pend.t_s[near], xy_m=self._clamp(sol.xy_m[near]),
                          accuracy_m=sol.accuracy_m[near], method=sol.method[near],
                          stationary=np.zeros(int(near.sum()), dtype=bool))
        return concat_fixes([started_fixes, proximity])

    def _start(self, agg: Aggregate, new: Bool, xy_m: Float, cov_m2: Float) -> None:
        P = self._fresh_P(cov_m2 + 1e-6 * np.eye(2))
        x = np.column_stack([self._clamp(xy_m), np.zeros((len(xy_m), 2))])
        first = len(self.tag_id)
        self.tag_id = np.concatenate([self.tag_id, agg.tag_id[new]])
        self._row.update((t, first + i) for i, t in enumerate(agg.tag_id[new].tolist()))
        self.x, self.P = np.concatenate([self.x, x]), np.concatenate([self.P, P])
        t = agg.t_s[new]
        self.t_s, self.still_since_s = np.concatenate([self.t_s, t]), np.concatenate([self.still_since_s, t])
        self.horizon_s = np.concatenate([self.horizon_s, agg.t_last_s[new]])
        self.rejections = np.concatenate([self.rejections, np.zeros(len(t), dtype=np.int64)])
        if self.history is not None:
            self.history.add(len(t))
            self._remember(np.arange(len(self.x) - len(t), len(self.x)), t, x, P, x, P, np.eye(4))

    def _advance(self, agg: Aggregate, sel: Bool, rows: Int) -> None:
        """Predict the tracks `rows` to their readings' time and fuse the readings (ekf_heard, or ekf_dense)."""
        t_s = agg.t_s[sel]
        dt_s = t_s - self.t_s[rows]
        x_pred, P_pred = kalman.cv_predict(self.x[rows], self.P[rows], dt_s, self.config.q_m2ps3)
        update = ekf_dense if self.config.dense_update else ekf_heard
        x, P = update(self.model, x_pred, P_pred, agg.z[sel], agg.counts[sel], gate_sigma=self.config.gate_sigma,
                      iterations=self.config.iterations)
        x[:, :2] = self._clamp(x[:, :2])
        self._store(rows, x, P, t_s, agg.t_last_s[sel])
        if self.history is not None:
            self._remember(rows, t_s, x, P, x_pred, P_pred, kalman.cv_transition(dt_s))

    def _remember(self, rows: Int, t_s: Float, x: Float, P: Float, x_pred: Float, P_pred: Float, F: Float) -> None:
        if self.history is not None:
            n = len(rows)
            self.history.push(rows, t_s, x, P, x_pred, P_pred, np.broadcast_to(F, (n, 4, 4)))

    def _store(self, rows: Int, x: Float, P: Float, t_s: Float, t_last_s: Float) -> None:
        self.x[rows], self.P[rows], self.t_s[rows] = x, P, t_s
        self.horizon_s[rows] = np.maximum(self.horizon_s[rows], t_last_s)
        moving = np.hypot(x[:, 2], x[:, 3]) > self.config.stationary_speed_mps
        self.still_since_s[rows] = np.where(moving, t_s, self.still_since_s[rows])

    def update_positions(self, tag_id: Str, xy_m: Float, cov_m2: Float, t_s: Float) -> Bool:
        """Fuse external position fixes (e.g. RFID zone centres) for known tags; chi-square gated.

        Returns accepted (n,). A tag rejected `reinit_after_rejections` times in a row is restarted there.
        """
        rows = self.rows(tag_id)
        if (rows < 0).any():
            raise ValueError(f"unknown tags: {tag_id[rows < 0].tolist()}")
        dt_s = np.maximum(t_s - self.t_s[rows], 0.0)
        F = kalman.cv_transition(dt_s)
        Q = kalman.cv_process_noise(dt_s, self.config.q_m2ps3)
        x_pred, P_pred = kalman.predict(self.x[rows], self.P[rows], F, Q)
        x, P = x_pred, P_pred
        ok = kalman.gate(x, P, xy_m, kalman.POSITION_H, cov_m2, chi2=self.config.chi2_gate)
        self.rejections[rows] = np.where(ok, 0, self.rejections[rows] + 1)
        restart = self.rejections[rows] >= self.config.reinit_after_rejections
        xu, Pu = kalman.update(x, P, xy_m, kalman.POSITION_H, cov_m2)
        x = np.where(ok[:, None], xu, x)
        P = np.where(ok[:, None, None], Pu, P)
        x[restart] = np.column_stack([xy_m[restart], np.zeros((int(restart.sum()), 2))])
        P[restart] = self._fresh_P(cov_m2[restart])
        self.rejections[rows[restart]] = 0
        t_fix_s = np.maximum(t_s, self.t_s[rows])
        self._store(rows, x, P, t_fix_s, t_s)
        if self.history is not None:
            self.history.clear(rows[restart])
        self._remember(rows, t_fix_s, x, P, x_pred, P_pred, F)
        return ok | restart

    def _fresh_P(self, cov_m2: Float) -> Float:
        P = np.zeros((len(cov_m2), 4, 4))
        P[:, :2, :2] = cov_m2
        P[:, 2, 2] = P[:, 3, 3] = self.config.init_speed_std_mps**2
        return P

    def age_out(self, now_s: float) -> Str:
        """Forget tags silent for longer than max_silence_s; return their ids (TagSilent events)."""
        silent = now_s - self.horizon_s > self.config.max_silence_s
        gone = self.tag_id[silent]
        self._keep(~silent)
        return gone

    def forget(self, tag_id: Str) -> None:
        """Drop these tags' tracks, filter histories and pending reads (e.g. tags now on another floor);
        ids without state here are ignored."""
        rows = self.rows(tag_id)
        keep = np.ones(len(self.tag_id), dtype=bool)
        keep[rows[rows >= 0]] = False
        self._keep(keep)
        p = self._pending
        stay = ~np.isin(p.tag_id, tag_id)
        self._pending = ReadWindow(p.tag_id[stay], p.receiver[stay], p.t_s[stay], p.value[stay])

    def _keep(self, keep: Bool) -> None:
        """Keep only the tracks where keep (n,) is True."""
        if keep.all():
            return
        self.tag_id, self.x, self.P = self.tag_id[keep], self.x[keep], self.P[keep]
        self.t_s, self.horizon_s = self.t_s[keep], self.horizon_s[keep]
        self.still_since_s, self.rejections = self.still_since_s[keep], self.rejections[keep]
        self._row = {t: i for i, t in enumerate(self.tag_id.tolist())}
        if self.history is not None:
            self.history.keep(keep)

    def smoothed(self, tag_id: Str) -> Fixes:
        """Fixed-lag smoothed fixes, smoother_lag_s before each tag's newest update (Fixes.t_s says when).

        Tags whose track is younger than the lag are left out; their real-time fixes come from step().
        """
        if self.history is None:
            raise ValueError("smoothed() needs TrackerConfig.smoother_lag_s > 0")
        rows = self.rows(tag_id)
        rows = rows[rows >= 0]
        t_s, xy, cov, ok = self.history.smoothed(rows, self.config.smoother_lag_s)
        rows = rows[ok]
        return Fixes(tag_id=self.tag_id[rows], t_s=t_s[ok], xy_m=self._clamp(xy[ok]),
                     accuracy_m=accuracy_radius_m(cov[ok]), method=np.full(len(rows), Method.SMOOTHED, dtype=np.int64),
                     stationary=self.t_s[rows] - self.still_since_s[rows] >= self.config.stationary_after_s)

    def _clamp(self, xy_m: Float) -> Float:
        b = self.config.bounds_m
        return xy_m if b is None else np.clip(xy_m, [b[0], b[1]], [b[2], b[3]])

    def _fixes(self, rows: Int, method: Int) -> Fixes:
        """Fixes of the tracks `rows` as they stand."""
        stationary = self.t_s[rows] - self.still_since_s[rows] >= self.config.stationary_after_s
        return Fixes(tag_id=self.tag_id[rows], t_s=self.t_s[rows], xy_m=self.x[rows, :2].copy(),
                     accuracy_m=accuracy_radius_m(self.P[rows, :2, :2]), method=method, stationary=stationary)


def no_fixes() -> Fixes:
    f = np.zeros(0)
    return Fixes(np.zeros(0, dtype=np.str_), f, np.zeros((0, 2)), f, np.zeros(0, dtype=np.int64),
                 np.zeros(0, dtype=bool))
