"""Constant-velocity Kalman filter, batched over tags.

State per tag  x = [x_m, y_m, vx_mps, vy_mps]; covariance P (4, 4).
Every function accepts a leading batch axis: x (n, 4), P (n, 4, 4), z (n, m), H (n, m, 4) or (m, 4),
R (n, m, m) or (m, m). Pure functions carry the maths; `ConstantVelocity2D` is a thin holder.
Textbook forms (predict, update, iterated_update) sit beside fast forms that give the same estimates
(cv_predict, position_update, iterated_position_update); tests pin each pair together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._arrays import Bool, Float

POSITION_H = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])


def cv_transition(dt_s: Float) -> Float:
    """F for x_k = F x_{k-1}: position += velocity * dt.   dt_s : (n,)  returns : (n, 4, 4)"""
    F = np.broadcast_to(np.eye(4), (len(dt_s), 4, 4)).copy()
    F[:, 0, 2] = dt_s
    F[:, 1, 3] = dt_s
    return F


def cv_process_noise(dt_s: Float, q_m2ps3: float) -> Float:
    """Q of a white-acceleration model with spectral density q (m^2/s^3).   returns : (n, 4, 4)

    per axis: Q = q [[dt^3/3, dt^2/2], [dt^2/2, dt]]
    """
    Q = np.zeros((len(dt_s), 4, 4))
    for pos, vel in ((0, 2), (1, 3)):
        Q[:, pos, pos] = q_m2ps3 * dt_s**3 / 3
        Q[:, pos, vel] = Q[:, vel, pos] = q_m2ps3 * dt_s**2 / 2
        Q[:, vel, vel] = q_m2ps3 * dt_s
    return Q


def fit_white_acceleration(t_s: Sequence[Float], xy_m: Sequence[Float], *, dt_s: float) -> float:
    """Spectral density q (m^2/s^3) of the white-acceleration model from labelled paths.

    t_s[i] (N_i,) ascending, xy_m[i] (N_i, 2): true positions of path i, resampled every dt_s. With
    v_k the mean velocity over step k, white acceleration gives  Var(v_{k+1} - v_k) = 2 q dt / 3  per axis.
    """
    dv = []
    for t, xy in zip(t_s, xy_m, strict=True):
        grid = np.arange(t[0], t[-1], dt_s)
        p = np.column_stack([np.interp(grid, t, xy[:, 0]), np.interp(grid, t, xy[:, 1])])
        dv.append(np.diff(np.diff(p, axis=0) / dt_s, axis=0).ravel())
    dv_all = np.concatenate(dv)
    if len(dv_all) == 0:
        raise ValueError(f"paths too short for dt_s={dt_s}: need >= 3 samples")
    return 1.5 * float(np.mean(dv_all**2)) / dt_s


def predict(x: Float, P: Float, F: Float, Q: Float) -> tuple[Float, Float]:
    """x = F x ;  P = F P F' + Q.   x (n, 4), P (n, 4, 4), F/Q (n, 4, 4) or (4, 4)"""
    x = (F @ x[..., None])[..., 0]
    P = F @ P @ np.swapaxes(F, -1, -2) + Q
    return x, P


def innovation(x: Float, P: Float, z: Float, H: Float, R: Float) -> tuple[Float, Float]:
    """y = z - H x ;  S = H P H' + R.   returns y (n, m), S (n, m, m)"""
    y = z - (H @ x[..., None])[..., 0]
    S = H @ P @ np.swapaxes(H, -1, -2) + R
    return y, S


def mahalanobis2(y: Float, S: Float) -> Float:
    """d^2 = y' S^-1 y per row.   y (n, m), S (n, m, m)  returns (n,)"""
    return np.asarray(np.einsum("ni,ni->n", y, np.linalg.solve(S, y[..., None])[..., 0]), dtype=np.float64)


def update(x: Float, P: Float, z: Float, H: Float, R: Float) -> tuple[Float, Float]:
    """Linear Kalman update with the Joseph form.

    K = P H' S^-1 ;  x = x + K y ;  P = (I - K H) P (I - K H)' + K R K'
    """
    y, S = innovation(x, P, z, H, R)
    K = np.swapaxes(np.linalg.solve(S, H @ P), -1, -2)  # (S^-1 H P)' = P H' S^-1 (S, P symmetric)
    return _joseph(x, P, K, y, H, R)


def _joseph(x: Float, P: Float, K: Float, y: Float, H: Float, R: Float) -> tuple[Float, Float]:
    x = x + (K @ y[..., None])[..., 0]
    IKH = np.eye(P.shape[-1]) - K @ H
    P = IKH @ P @ np.swapaxes(IKH, -1, -2) + K @ R @ np.swapaxes(K, -1, -2)
    return x, 0.5 * (P + np.swapaxes(P, -1, -2))


def _planes(A: Float) -> Float:
    """A copy of a stack (n, i, j) stored entry-major (i, j, n): each matrix entry a contiguous vector over
    the batch. numpy is fast on long vectors and slow on stacks of small matrices."""
    return np.array(np.moveaxis(A, 0, -1), order="C")


def _stack(A: Float) -> Float:
    """Entry-major (i, j, n) seen as a stack (n, i, j) again: a view, no copy (the next call's _planes is
    then a plain contiguous copy)."""
    return np.moveaxis(A, -1, 0)


def _matmul_planes(A: Float, B: Float) -> Float:
    """A @ B for every batch member of entry-major stacks: (i, k, n) x (k, j, n) -> (i, j, n)."""
    return np.asarray(np.einsum("ikn,kjn->ijn", A, B), dtype=np.float64)


def cv_predict(x: Float, P: Float, dt_s: Float, q_m2ps3: float) -> tuple[Float, Float]:
    """predict(x, P, cv_transition(dt_s), cv_process_noise(dt_s, q)) without building F and Q.

    F = I + dt S, where S moves velocity into position, so  F P F' = P + dt (S P + P S') + dt^2 S P S':
    a row operation (F P) then a column operation ((F P) F'), then + Q.   x (n, 4), P (n, 4, 4), dt_s (n,)
    """
    x = x.copy()
    x[:, :2] += dt_s[:, None] * x[:, 2:]
    Pc = _planes(P)
    Pc[:2] += dt_s * Pc[2:]  # F P: position rows += dt * velocity rows
    Pc[:, :2] += dt_s * Pc[:, 2:]  # (F P) F': position columns += dt * velocity columns
    for pos, vel in ((0, 2), (1, 3)):  # + Q, as cv_process_noise
        Pc[pos, pos] += q_m2ps3 * dt_s**3 / 3
        Pc[pos, vel] += q_m2ps3 * dt_s**2 / 2
        Pc[vel, pos] += q_m2ps3 * dt_s**2 / 2
        Pc[vel, vel] += q_m2ps3 * dt_s
    return x, _stack(Pc)


def position_update(x: Float, P: Float, z_m: Float, R: Float) -> tuple[Float, Float]:
    """update(x, P, z_m, POSITION_H, R) with H = [I 0] applied by indexing and S^-1 in closed form.

    S = P_pp + R ;  K = P H' S^-1 = P[:, :2] S^-1 ;  x = x + K y
    Joseph form as update:  M = (I - K H) P = P - K P[:2] ;  P = M (I - K H)' + K R K' = M - M[:, :2] K' + K R K'
    x (n, 4), P (n, 4, 4), z_m (n, 2), R (n, 2, 2)
    """
    Pc, Rc = _planes(P), _planes(R)
    S = Pc[:2, :2] + Rc
    det = S[0, 0] * S[1, 1] - S[0, 1] * S[1, 0]
    S_inv = np.array([[S[1, 1], -S[0, 1]], [-S[1, 0], S[0, 0]]]) / det
    K = _matmul_planes(Pc[:, :2], S_inv)  # (4, 2, n)
    x = x + np.einsum("ikn,nk->ni", K, z_m - x[:, :2])
    Kt = K.transpose(1, 0, 2)
    M = np.subtract(Pc, _matmul_planes(K, Pc[:2]))
    P_new = np.subtract(M, _matmul_planes(M[:, :2], Kt))
    P_new += _matmul_planes(_matmul_planes(K, Rc), Kt)
    P_new += P_new.transpose(1, 0, 2).copy()
    P_new *= 0.5
    return x, _stack(P_new)


MeasurementFn = Callable[[Float], tuple[Float, Float]]
"""h(x (n, 4)) -> (predicted z (n, m), Jacobian H (n, m, 4))."""


def iterated_update(
    x: Float, P: Float, z: Float, h: MeasurementFn, R: Float, *, iterations: int = 3
) -> tuple[Float, Float]:
    """Iterated EKF update (Gauss-Newton on prior + measurements).

    x_{i+1} = x + K_i (z - h(x_i) - H_i (x - x_i)),   K_i = P H_i' (H_i P H_i' + R)^-1
    """
    x_i = x
    for _ in range(max(1, iterations)):
        z_hat, H = h(x_i)
        y = z - z_hat - (H @ (x - x_i)[..., None])[..., 0]
        S = H @ P @ np.swapaxes(H, -1, -2) + R
        K = np.swapaxes(np.linalg.solve(S, H @ P), -1, -2)
        x_i = x + (K @ y[..., None])[..., 0]
    return _joseph(x, P, K, y, H, R)


PositionFn = Callable[[Float], tuple[Float, Float]]
"""h(xy (n, 2)) -> (predicted z (n, m), Jacobian J (n, m, 2)) of readings that depend on the position only."""


def iterated_position_update(
    x: Float, P: Float, z: Float, h: PositionFn, w: Float, *, iterations: int = 3,
    h0: tuple[Float, Float] | None = None,
) -> tuple[Float, Float]:
    """iterated_update for readings of the position only, H = [J 0], with independent noise R = diag(1 / w),
    without any m x m matrix; w = 0 marks a reading to ignore (a receiver that did not hear the tag, padding).

    The readings enter through two sums over the weighted readings (the information form):
        A = H' R^-1 H |pp = J' W J = sum_k w_k J_k' J_k   (2, 2)      g = J' W r = sum_k w_k J_k' r_k   (2,)
    and the push-through identity  H' (H P H' + R)^-1 = [I 0]' (I + A P_pp)^-1 J' W  turns the gain into a 2x2
    solve that needs no inverse of P or R and holds for a singular A (one receiver, none):
        K r = P[:, :2] N g ,   N = (I + A P_pp)^-1   (det(I + A P_pp) >= 1: eigenvalues of A P_pp are >= 0)
    Iterations as iterated_update:  x_{i+1} = x + K_i (z - h(x_i) - H_i (x - x_i)).
    Joseph form at the last linearisation, as iterated_update; with G = P[:, :2] N and L = G A:
        K H = [L 0] ,  K R K' = G J' W J G' = L G'  (W R W = W) ,  M = (I - K H) P = P - L P[:2]
        P = (I - K H) P (I - K H)' + K R K' = M - M[:, :2] L' + L G'
    x (n, 4), P (n, 4, 4), z, w (n, m) >= 0; h0 = h(x[:, :2]) when the caller has it already.
    """
    Pc = _planes(P)  # (4, 4, n)
    p00, p01, p10, p11 = Pc[0, 0], Pc[0, 1], Pc[1, 0], Pc[1, 1]
    x_i = x
    for i in range(max(1, iterations)):
        z_hat, J = h0 if i == 0 and h0 is not None else h(x_i[:, :2])
        Jx, Jy = J[..., 0], J[..., 1]
        dx, dy = x[:, 0] - x_i[:, 0], x[:, 1] - x_i[:, 1]
        r = z - z_hat - Jx * dx[:, None] - Jy * dy[:, None]  # z - h(x_i) - H_i (x - x_i)
        wJx, wJy = w * Jx, w * Jy
        a, b, c = _rowdot(wJx, Jx), _rowdot(wJx, Jy), _rowdot(wJy, Jy)  # A = [[a, b], [b, c]]
        gx, gy = _rowdot(wJx, r), _rowdot(wJy, r)
        m00, m01 = 1.0 + a * p00 + b * p10, a * p01 + b * p11  # M = I + A P_pp
        m10, m11 = b * p00 + c * p10, 1.0 + b * p01 + c * p11
        det = m00 * m11 - m01 * m10
        ux, uy = (m11 * gx - m01 * gy) / det, (m00 * gy - m10 * gx) / det  # u = M^-1 g
        x_i = x + (Pc[:, 0] * ux + Pc[:, 1] * uy).T  # x + P[:, :2] u
    N = np.array([[m11, -m01], [-m10, m00]]) / det  # M^-1 of the last linearisation   (2, 2, n)
    G = _matmul_planes(Pc[:, :2], N)  # (4, 2, n)
    L = _matmul_planes(G, np.array([[a, b], [b, c]]))  # G A: K H = [L 0]
    M = Pc - _matmul_planes(L, Pc[:2])  # (I - K H) P
    P_new = M - _matmul_planes(M[:, :2], L.transpose(1, 0, 2)) + _matmul_planes(L, G.transpose(1, 0, 2))
    P_new += P_new.transpose(1, 0, 2).copy()
    P_new *= 0.5
    return x_i, _stack(P_new)


def _rowdot(u: Float, v: Float) -> Float:
    """Row-wise dot product of two (n, m) planes -> (n,)."""
    return np.asarray(np.einsum("nk,nk->n", u, v), dtype=np.float64)


def gate(x: Float, P: Float, z: Float, H: Float, R: Float, *, chi2: float) -> Bool:
    """True where the innovation passes the chi-square gate  y' S^-1 y <= chi2.   returns (n,)"""
    y, S = innovation(x, P, z, H, R)
    return mahalanobis2(y, S) <= chi2


class ConstantVelocity2D:
    """A batch of constant-velocity tracks; a thin holder over the pure functions above.

    It steps the tracks in blocks of BLOCK rows, written back in place: a block's temporaries stay in
    the CPU cache and the allocator is not asked for fresh megabytes on every call.
    """

    BLOCK = 2048

    def __init__(self, x: Float, P: Float, *, q_m2ps3: float) -> None:
        if x.ndim != 2 or x.shape[1] != 4 or P.shape != (len(x), 4, 4):
            raise ValueError(f"x {x.shape} / P {P.shape}: need (n, 4) and (n, 4, 4)")
        self.x, self.P, self.q_m2ps3 = x.copy(), P.copy(), q_m2ps3

    def _blocks(self) -> list[slice]:
        return [slice(i, i + self.BLOCK) for i in range(0, len(self.x), self.BLOCK)]

    def predict(self, dt_s: Float) -> None:
        for b in self._blocks():
            self.x[b], self.P[b] = cv_predict(self.x[b], self.P[b], dt_s[b], self.q_m2ps3)

    def update_position(self, z_m: Float, R: Float) -> None:
        """Fuse position fixes z_m (n, 2) with covariances R (n, 2, 2)."""
        for b in self._blocks():
            self.x[b], self.P[b] = position_update(self.x[b], self.P[b], z_m[b], R[b])

    @property
    def speed_mps(self) -> Float:
        return np.asarray(np.hypot(self.x[:, 2], self.x[:, 3]), dtype=np.float64)
