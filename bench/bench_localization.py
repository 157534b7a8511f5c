"""Speed of the localization core against the obvious per-tag implementations, on one core.

    python -m bench.bench_localization

Scene (seeded): a 40 x 25 m floor with 8 ceiling anchors (2.2-3.2 m high) round its edge; every tag
(1.2 m high) hears its nearest 4-8 anchors; ranges carry 0.1 m Gaussian noise.
  multilateration: engine `multilaterate` (batched robust Gauss-Newton, IRLS until each tag converges) vs a loop of
    scipy.optimize.least_squares per tag: same residuals (r_k - |p - a_k|_3d) / sigma, same Huber loss
    and threshold, same start (the engine's weighted centroid), analytic Jacobian.
  Kalman: `ConstantVelocity2D.predict` + `update_position` over all tags vs a loop of filterpy
    KalmanFilter.predict(F, Q) + update(z, R) per tag (F, Q built beforehand, outside its timing).
Times: time.perf_counter, one warm-up, best of several repeats, one BLAS/OpenMP thread.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy loads its BLAS: one core, for an honest per-core figure

import gc  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
from filterpy.kalman import KalmanFilter  # type: ignore[import-untyped]  # noqa: E402
from scipy.optimize import least_squares  # type: ignore[import-untyped]  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # type: ignore[import-untyped]  # noqa: E402

from tracking.localization import kalman  # noqa: E402
from tracking.localization._arrays import Float  # noqa: E402
from tracking.localization.models import RangeModel  # noqa: E402
from tracking.localization.multilateration import Solution, multilaterate, weighted_centroid  # noqa: E402

FLOOR_M = (40.0, 25.0)
TAG_HEIGHT_M, SIGMA_M, HUBER_K = 1.2, 0.1, 1.5  # HUBER_K: the engine's default
SIZES = (100, 1_000, 10_000)
SCIPY_SUBSET = 1_000  # the scipy loop is timed on at most this many tags and extrapolated per fix
Q_M2PS3 = 0.03


@dataclass(frozen=True)
class Scene:
    anchors_m: Float  # (8, 3)
    truth_m: Float  # (n, 2)
    ranges_m: Float  # (n, 8), NaN where not heard


def make_scene(n: int, seed: int) -> Scene:
    rng = np.random.default_rng(seed)
    w, h = FLOOR_M
    edge = np.array([[0, 0], [w / 2, 0], [w, 0], [w, h / 2], [w, h], [w / 2, h], [0, h], [0, h / 2]])
    anchors = np.column_stack([edge + rng.uniform(-2, 2, edge.shape), rng.uniform(2.2, 3.2, len(edge))])
    truth = rng.uniform([0, 0], FLOOR_M, (n, 2))
    tag = np.column_stack([truth, np.full(n, TAG_HEIGHT_M)])
    d = np.linalg.norm(tag[:, None, :] - anchors[None], axis=2)
    heard = np.argsort(np.argsort(d, axis=1), axis=1) < rng.integers(4, 9, n)[:, None]  # nearest 4-8
    ranges = np.where(heard, d + rng.normal(0, SIGMA_M, d.shape), np.nan)
    return Scene(anchors, truth, ranges)


def best_time_s(fn: Callable[[], object], *, repeats: int) -> float:
    """Best wall time of `repeats` runs after one warm-up run; the garbage collector paused, as timeit does."""
    fn()
    best = np.inf
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    finally:
        gc.enable()
    return float(best)


def engine_start(scene: Scene) -> Float:
    """The start multilaterate's Gauss-Newton uses: the 1/range^2 weighted centroid of the anchors heard."""
    k = len(scene.anchors_m)
    model = RangeModel(anchors_m=scene.anchors_m, bias_m=np.zeros(k), sigma=np.full(k, SIGMA_M))
    heard = np.isfinite(scene.ranges_m)
    closeness = np.where(heard, model.closeness(np.where(heard, scene.ranges_m, 0.0)), 0.0)
    return weighted_centroid(scene.anchors_m[:, :2], closeness)


def scipy_fix(anchors_m: Float, ranges_m: Float, xy0_m: Float) -> Float:
    """One tag by scipy: robust least squares on the ranges it heard.   returns (2,)"""
    heard = np.isfinite(ranges_m)
    a, r = anchors_m[heard], ranges_m[heard]
    dz2 = (TAG_HEIGHT_M - a[:, 2]) ** 2

    def residual(p: Float) -> Float:
        return np.asarray((r - np.sqrt(((p - a[:, :2]) ** 2).sum(axis=1) + dz2)) / SIGMA_M)

    def jacobian(p: Float) -> Float:
        v = p - a[:, :2]
        return np.asarray(-v / np.sqrt((v**2).sum(axis=1) + dz2)[:, None] / SIGMA_M)

    return np.asarray(least_squares(residual, xy0_m, jac=jacobian, loss="huber", f_scale=HUBER_K).x)


@dataclass(frozen=True)
class Row:
    task: str
    n: int
    engine_per_s: float
    loop_per_s: float
    max_diff: float
    unit: str
    note: str


def bench_multilateration(n: int) -> Row:
    scene = make_scene(n, seed=n)
    sol: list[Solution] = []
    engine_s = best_time_s(lambda: sol.append(multilaterate(scene.anchors_m, scene.ranges_m,
                                                            tag_height_m=TAG_HEIGHT_M, sigma_m=SIGMA_M)), repeats=7)
    m = min(n, SCIPY_SUBSET)
    xy0, fixes = engine_start(scene)[:m], np.zeros((m, 2))

    def loop() -> None:
        for i in range(m):
            fixes[i] = scipy_fix(scene.anchors_m, scene.ranges_m[i], xy0[i])

    loop_s = best_time_s(loop, repeats=3 if m <= 100 else 1)
    diff_mm = 1000 * np.linalg.norm(sol[-1].xy_m[:m] - fixes, axis=1)
    note = f"{(diff_mm > 1).sum()} of {m} > 1 mm; p99 {np.percentile(diff_mm, 99):.2f} mm"
    if m < n:
        note += f"; scipy timed on {m} tags, per-fix rate extrapolated"
    return Row("multilateration (fixes/s)", n, n / engine_s, m / loop_s, float(diff_mm.max()), "mm", note)


def kalman_inputs(n: int, seed: int) -> tuple[Float, Float, Float, Float, Float]:
    """x0 (n, 4), P0 (n, 4, 4), dt_s (n,), z_m (n, 2), R (n, 2, 2) of one window."""
    rng = np.random.default_rng(seed)
    x0 = np.column_stack([rng.uniform([0, 0], FLOOR_M, (n, 2)), rng.normal(0, 0.7, (n, 2))])
    A = rng.normal(0, 0.3, (n, 4, 4))
    P0 = A @ np.swapaxes(A, 1, 2) + 0.05 * np.eye(4)
    dt_s = rng.uniform(0.1, 1.0, n)
    z = x0[:, :2] + dt_s[:, None] * x0[:, 2:] + rng.normal(0, 0.3, (n, 2))
    R = np.eye(2) * rng.uniform(0.05, 0.5, (n, 1, 1))
    return x0, P0, dt_s, z, R


def filterpy_filters(x0: Float, P0: Float) -> list[KalmanFilter]:
    filters = []
    for x, P in zip(x0, P0, strict=True):
        kf = KalmanFilter(dim_x=4, dim_z=2)
        kf.x, kf.P, kf.H = x[:, None].copy(), P.copy(), kalman.POSITION_H.copy()
        filters.append(kf)
    return filters


def bench_kalman(n: int) -> Row:
    x0, P0, dt_s, z, R = kalman_inputs(n, seed=n)
    F, Q = kalman.cv_transition(dt_s), kalman.cv_process_noise(dt_s, Q_M2PS3)
    cv = kalman.ConstantVelocity2D(x0, P0, q_m2ps3=Q_M2PS3)

    def engine() -> None:
        cv.predict(dt_s)
        cv.update_position(z, R)

    engine_s = best_time_s(engine, repeats=15)
    filters = filterpy_filters(x0, P0)

    def loop() -> None:
        for i, kf in enumerate(filters):
            kf.predict(F=F[i], Q=Q[i])
            kf.update(z[i], R=R[i])

    loop_s = best_time_s(loop, repeats=3)
    cv, filters = kalman.ConstantVelocity2D(x0, P0, q_m2ps3=Q_M2PS3), filterpy_filters(x0, P0)
    engine()  # one clean step of each from the same start, to compare
    loop()
    dx = np.abs(cv.x - np.array([kf.x[:, 0] for kf in filters])).max()
    dP = np.abs(cv.P - np.array([kf.P for kf in filters])).max()
    return Row("Kalman CV predict+update (/s)", n, n / engine_s, n / loop_s, float(max(dx, dP)), "",
               f"max |x| diff {dx:.1e}, max |P| diff {dP:.1e}")


def thread_summary() -> str:
    libs = threadpool_info()
    return ", ".join(f"{lib['internal_api']} {lib['num_threads']} thread(s)" for lib in libs) or "no BLAS found"


def print_table(rows: list[Row]) -> None:
    head = f"{'task':31s} {'tags':>6s} {'engine':>12s} {'per-tag loop':>13s} {'ratio':>7s}"
    print(f"{head}  {'max disagreement':>17s}  note")
    print("-" * 150)
    for r in rows:
        diff = f"{r.max_diff:.3f} {r.unit}" if r.unit else f"{r.max_diff:.1e}"
        print(f"{r.task:31s} {r.n:>6,d} {r.engine_per_s:>12,.0f} {r.loop_per_s:>13,.0f} "
              f"{r.engine_per_s / r.loop_per_s:>6,.0f}x  {diff:>17s}  {r.note}")


def main() -> None:
    with threadpool_limits(limits=1):
        print("Localization speed, one core: " + thread_summary()
              + f"; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; numpy {np.__version__}")
        print(f"scene: {FLOOR_M[0]:.0f} x {FLOOR_M[1]:.0f} m floor, 8 anchors 2.2-3.2 m high, tags at "
              f"{TAG_HEIGHT_M} m hear their nearest 4-8, range noise {SIGMA_M} m; best of repeats after a warm-up")
        rows = [bench_multilateration(n) for n in SIZES] + [bench_kalman(n) for n in SIZES]
        print_table(rows)


if __name__ == "__main__":
    main()
