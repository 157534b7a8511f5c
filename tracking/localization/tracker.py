"""Per-tag tracking across windows: the stateful heart of the engine.

Each window: reduce reads to one reading per (tag, receiver); start tracks for new tags with a
multilateration fix; predict known tracks to the window time and fuse the readings directly with an
iterated EKF (tightly coupled: a tag heard by 1-2 receivers still improves its track); down-weight
readings whose innovation is implausible; flag stationary tags; forget tags that go silent.
All of it batched over the tags of the window.
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
from .window import Aggregate, ReadWindow, Str, aggregate

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


class TagTracker:
    """Constant-velocity tracks for every tag of one technology on one floor."""

    def __init__(self, model: MeasurementModel, config: TrackerConfig | None = None) -> None:
        self.model, self.config = model, config or TrackerConfig()
        self.tag_id: Str = np.zeros(0, dtype=np.str_)
        self.x, self.P = np.zeros((0, 4)), np.zeros((0, 4, 4))
        self.t_s, self.horizon_s, self.still_since_s = np.zeros(0), np.zeros(0), np.zeros(0)
        self.rejections = np.zeros(0, dtype=np.int64)
        self.dropped = {"duplicate": 0, "stale": 0}
        self._pending = ReadWindow.of([], [], [], [])
        lagged = self.config.smoother_lag_s > 0
        self.history: LagBuffer | None = LagBuffer(self.config.smoother_steps) if lagged else None

    def rows(self, tag_id: Str) -> Int:
        """Track row of each tag, -1 if unknown."""
        lookup = {t: i for i, t in enumerate(self.tag_id.tolist())}
        return np.array([lookup.get(t, -1) for t in tag_id.tolist()], dtype=np.int64)

    def step(self, window: ReadWindow) -> Fixes:
        """Absorb one window of reads; return fixes of the tags heard in it (tracked or proximity)."""
        horizon = dict(zip(self.tag_id.tolist(), self.horizon_s.tolist(), strict=True))
        agg = aggregate(window, n_receivers=len(self.model.anchors_m), last_t_s=horizon)
        self.dropped["duplicate"] += agg.duplicates
        self.dropped["stale"] += agg.stale
        if agg.duplicates or agg.stale:
            logger.debug("dropped %d duplicate and %d stale reads", agg.duplicates, agg.stale)
        rows = self.rows(agg.tag_id)
        if (rows >= 0).any():
            self._advance(agg, rows >= 0, rows[rows >= 0])
        tracked = self._fixes(agg.tag_id[rows >= 0], np.full(int((rows >= 0).sum()), Method.TRACKED))
        return concat_fixes([tracked, self._start_pending(window)])

    def _start_pending(self, window: ReadWindow) -> Fixes:
        """Buffer reads of unknown tags for init_window_s; start a track once >= 3 receivers are heard,
        else report a proximity fix without a track."""
        fresh = ~np.isin(window.tag_id, self.tag_id)  # reads of tags with no track yet
        p = self._pending
        pairs = ((p.tag_id, window.tag_id), (p.receiver, window.receiver), (p.t_s, window.t_s), (p.value, window.value))
        merged = ReadWindow(*(np.concatenate([a, b[fresh]]) for a, b in pairs))
        recent = merged.t_s >= (merged.t_s.max(initial=-np.inf) - self.config.init_window_s)
        merged = ReadWindow(merged.tag_id[recent], merged.receiver[recent], merged.t_s[recent], merged.value[recent])
        pend = aggregate(merged, n_receivers=len(self.model.anchors_m), last_t_s={})
        sol = locate(self.model, pend.z, pend.valid, counts=pend.counts)
        ready = sol.method == Method.MULTILATERATION
        if ready.any():
            self._start(pend, ready, sol.xy_m[ready], sol.cov_m2[ready])
        keep = ~np.isin(merged.tag_id, pend.tag_id[ready])
        self._pending = ReadWindow(merged.tag_id[keep], merged.receiver[keep], merged.t_s[keep], merged.value[keep])
        heard_now = np.isin(pend.tag_id, window.tag_id[fresh])
        started = self._fixes(pend.tag_id[ready & heard_now], sol.method[ready & heard_now])
        near = ~ready & heard_now & (sol.method != Method.NONE)
        proximity = Fixes(tag_id=pend.tag_id[near], t_s=pend.t_s[near], xy_m=self._clamp(sol.xy_m[near]),
                          accuracy_m=sol.accuracy_m[near], method=sol.method[near],
                          stationary=np.zeros(int(near.sum()), dtype=bool))
        return concat_fixes([started, proximity])

    def _start(self, agg: Aggregate, new: Bool, xy_m: Float, cov_m2: Float) -> None:
        P = self._fresh_P(cov_m2 + 1e-6 * np.eye(2))
        x = np.column_stack([self._clamp(xy_m), np.zeros((len(xy_m), 2))])
        self.tag_id = np.concatenate([self.tag_id, agg.tag_id[new]])
        self.x, self.P = np.concatenate([self.x, x]), np.concatenate([self.P, P])
        t = agg.t_s[new]
        self.t_s, self.still_since_s = np.concatenate([self.t_s, t]), np.concatenate([self.still_since_s, t])
        self.horizon_s = np.concatenate([self.horizon_s, agg.t_last_s[new]])
        self.rejections = np.concatenate([self.rejections, np.zeros(len(t), dtype=np.int64)])
        if self.history is not None:
            self.history.add(len(t))
            self._remember(np.arange(len(self.x) - len(t), len(self.x)), t, x, P, x, P, np.eye(4))

    def _advance(self, agg: Aggregate, sel: Bool, rows: Int) -> None:
        z, valid, counts = agg.z[sel], agg.valid[sel], agg.counts[sel]
        dt_s = agg.t_s[sel] - self.t_s[rows]
        F = kalman.cv_transition(dt_s)
        Q = kalman.cv_process_noise(dt_s, self.config.q_m2ps3)
        x_pred, P_pred = kalman.predict(self.x[rows], self.P[rows], F, Q)
        sigma2 = np.where(valid, self.model.noise_var(counts), 1.0)
        R = sigma2[:, :, None] * np.eye(valid.shape[1])
        h = measurement_fn(self.model, valid)
        z = np.where(valid, z, 0.0)
        R = robust_R(x_pred, P_pred, z, R, h, self.config.gate_sigma)
        x, P = kalman.iterated_update(x_pred, P_pred, z, h, R, iterations=self.config.iterations)
        x[:, :2] = self._clamp(x[:, :2])
        self._store(rows, x, P, agg.t_s[sel], agg.t_last_s[sel])
        self._remember(rows, agg.t_s[sel], x, P, x_pred, P_pred, F)

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
        keep = ~silent
        self.tag_id, self.x, self.P = self.tag_id[keep], self.x[keep], self.P[keep]
        self.t_s, self.horizon_s = self.t_s[keep], self.horizon_s[keep]
        self.still_since_s, self.rejections = self.still_since_s[keep], self.rejections[keep]
        if self.history is not None:
            self.history.keep(keep)
        return gone

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

    def _fixes(self, tag_id: Str, method: Int) -> Fixes:
        rows = self.rows(tag_id)
        stationary = self.t_s[rows] - self.still_since_s[rows] >= self.config.stationary_after_s
        return Fixes(tag_id=tag_id, t_s=self.t_s[rows], xy_m=self.x[rows, :2].copy(),
                     accuracy_m=accuracy_radius_m(self.P[rows, :2, :2]), method=method, stationary=stationary)
