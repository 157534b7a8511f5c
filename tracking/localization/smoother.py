"""Fixed-lag Rauch-Tung-Striebel smoothing of constant-velocity tracks, batched over tags.

The filter's estimate at step k uses the reads up to k. A display allowed to lag `lag_s` behind can
also use the reads that arrived since: run the RTS backward pass over the buffered filter history
and report the smoothed state at (newest step time - lag_s).

    G_j   = P_j F_{j+1}' (P^-_{j+1})^-1                  (P^- : prediction into step j+1)
    x^s_j = x_j + G_j (x^s_{j+1} - x^-_{j+1})
    P^s_j = P_j + G_j (P^s_{j+1} - P^-_{j+1}) G_j'
"""

from __future__ import annotations

import numpy as np

from ._arrays import Bool, Float, Int


def rts_step(x: Float, P: Float, x_pred: Float, P_pred: Float, F: Float, xs: Float, Ps: Float) -> tuple[Float, Float]:
    """One backward step.   x, x_pred, xs (n, 4); P, P_pred, F, Ps (n, 4, 4); x_pred/P_pred/F of step j+1."""
    G = np.swapaxes(np.linalg.solve(P_pred, F @ P), -1, -2)  # (P^-^-1 F P)' = P F' P^-^-1 (symmetric P, P^-)
    x_s = x + (G @ (xs - x_pred)[..., None])[..., 0]
    P_s = P + G @ (Ps - P_pred) @ np.swapaxes(G, -1, -2)
    return x_s, 0.5 * (P_s + np.swapaxes(P_s, -1, -2))


def rts_smooth(x: Float, P: Float, x_pred: Float, P_pred: Float, F: Float) -> tuple[Float, Float]:
    """RTS over a history.   x (n, T, 4), P (n, T, 4, 4) filtered; x_pred (n, T, 4), P_pred (n, T, 4, 4)
    the prediction into step t and F (n, T, 4, 4) the transition t-1 -> t (unused at t = 0).
    Returns the smoothed x (n, T, 4), P (n, T, 4, 4); the last step equals the filtered one."""
    xs, Ps = x.copy(), P.copy()
    for t in range(x.shape[1] - 2, -1, -1):  # over time steps, batched over tags
        xs[:, t], Ps[:, t] = rts_step(x[:, t], P[:, t], x_pred[:, t + 1], P_pred[:, t + 1], F[:, t + 1],
                                      xs[:, t + 1], Ps[:, t + 1])
    return xs, Ps


def interpolate_at(t_s: Float, x: Float, P: Float, t_out_s: Float) -> tuple[Float, Float, Bool]:
    """Position at t_out by linear interpolation between the two history steps around it.

    t_s (n, T) ascending along T, NaN for empty slots; x (n, T, 4); P (n, T, 4, 4); t_out_s (n,).
    Returns xy (n, 2), covariance (n, 2, 2) of the step before, ok (n,) where history reaches t_out.
    """
    n, T = t_s.shape
    before = np.where(np.isnan(t_s), False, t_s <= t_out_s[:, None] + 1e-9)
    ok: Bool = np.asarray(before.any(axis=1))
    j = np.where(ok, T - 1 - np.argmax(before[:, ::-1], axis=1), 0)  # last step at or before t_out
    k = np.minimum(j + 1, T - 1)
    rows = np.arange(n)
    span = t_s[rows, k] - t_s[rows, j]
    w = np.where(span > 0, (t_out_s - t_s[rows, j]) / np.where(span > 0, span, 1.0), 0.0)[:, None]
    xy = (1 - w) * x[rows, j, :2] + w * x[rows, k, :2]
    return xy, P[rows, j, :2, :2], ok


class LagBuffer:
    """The last `steps` filter steps of every track: filtered x, P, prediction x^-, P^-, F and time."""

    def __init__(self, steps: int) -> None:
        if steps < 1:
            raise ValueError(f"steps: need >= 1, got {steps}")
        self.steps = steps
        self.t_s = np.zeros((0, steps))
        self.x, self.x_pred = np.zeros((0, steps, 4)), np.zeros((0, steps, 4))
        self.P, self.P_pred, self.F = (np.zeros((0, steps, 4, 4)) for _ in range(3))

    def add(self, n: int) -> None:
        """Append n empty histories (new tracks)."""
        eye = np.broadcast_to(np.eye(4), (n, self.steps, 4, 4))
        self.t_s = np.concatenate([self.t_s, np.full((n, self.steps), np.nan)])
        self.x, self.x_pred = (np.concatenate([a, np.zeros((n, self.steps, 4))]) for a in (self.x, self.x_pred))
        self.P, self.P_pred, self.F = (np.concatenate([a, eye]) for a in (self.P, self.P_pred, self.F))

    def keep(self, rows: Bool) -> None:
        """Keep only the histories where rows is True (forgotten tracks go)."""
        for name in ("t_s", "x", "x_pred", "P", "P_pred", "F"):
            setattr(self, name, getattr(self, name)[rows])

    def clear(self, rows: Int) -> None:
        """Empty the histories of restarted tracks: their past is not the same track."""
        self.t_s[rows] = np.nan
        self.P[rows] = self.P_pred[rows] = self.F[rows] = np.eye(4)

    def push(self, rows: Int, t_s: Float, x: Float, P: Float, x_pred: Float, P_pred: Float, F: Float) -> None:
        """Append one step to the histories of `rows`, dropping their oldest step."""
        for name, new in (("t_s", t_s), ("x", x), ("P", P), ("x_pred", x_pred), ("P_pred", P_pred), ("F", F)):
            a = getattr(self, name)
            a[rows] = np.concatenate([a[rows, 1:], new[:, None]], axis=1)

    def smoothed(self, rows: Int, lag_s: float) -> tuple[Float, Float, Float, Bool]:
        """Smoothed position lag_s before each track's newest step.

        Returns t (n,), xy (n, 2), covariance (n, 2, 2), ok (n,) (False: history too short yet).
        """
        xs, Ps = rts_smooth(self.x[rows], self.P[rows], self.x_pred[rows], self.P_pred[rows], self.F[rows])
        t_out = self.t_s[rows, -1] - lag_s
        xy, cov, ok = interpolate_at(self.t_s[rows], xs, Ps, t_out)
        return t_out, xy, cov, ok & ~np.isnan(t_out)
