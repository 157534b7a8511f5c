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

Live pipeline, one BLE floor of a hospital (seeded): 90 x 30 m, 27 ceiling gateways (a 9 x 3 grid 10 m apart,
2.7 m high), 27 rooms, 5,000 tags walking, each advertising once a second and heard by its 4 nearest gateways
(log-distance RSSI + 3 dB noise): 500 tags x 4 reads, interleaved, in every 100 ms window. Tracks are running
(2 s of windows first, untimed; the engine seeded with every tag's committed state, as the pipeline starts one);
then 1 s of windows (10) is timed, from the same state each repeat, in CPU time (time.process_time: what the
window costs a core shared with PostgreSQL, Redis, the broker and daphne).
  tracker step: TagTracker.step on the floor's BLE ReadWindow: the information-form update over the gateways
    heard (the default) vs the textbook k x k iterated EKF (TrackerConfig(dense_update=True)).
  engine step: route() (reader codes -> floor, receiver indices) + FloorEngine.step (tracker, zones with
    hysteresis, fixes), as the live pipeline drives a window; the same two trackers inside.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy loads its BLAS: one core, for an honest per-core figure

import gc  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import partial  # noqa: E402
from typing import TypeVar  # noqa: E402

import numpy as np  # noqa: E402
from filterpy.kalman import KalmanFilter  # type: ignore[import-untyped]  # noqa: E402
from scipy.optimize import least_squares  # type: ignore[import-untyped]  # noqa: E402
from shapely.geometry import box  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # type: ignore[import-untyped]  # noqa: E402

from tracking.localization import kalman  # noqa: E402
from tracking.localization._arrays import Float  # noqa: E402
from tracking.localization.floormap import FloorMap  # noqa: E402
from tracking.localization.models import PathLossModel, RangeModel  # noqa: E402
from tracking.localization.multilateration import Solution, multilaterate, weighted_centroid  # noqa: E402
from tracking.localization.tracker import TagTracker, TrackerConfig  # noqa: E402
from tracking.pipeline.engine import EngineConfig, FloorEngine  # noqa: E402
from tracking.pipeline.layout import FloorLayout, ReceiverSet, RtlsConfig, TagInfo  # noqa: E402
from tracking.pipeline.windows import BLE, FloorReads, ReadArrays, route  # noqa: E402

FLOOR_M = (40.0, 25.0)
TAG_HEIGHT_M, SIGMA_M, HUBER_K = 1.2, 0.1, 1.5  # HUBER_K: the engine's default
SIZES = (100, 1_000, 10_000)
T = TypeVar("T")
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


RTLS_FLOOR_M, RTLS_GRID = (90.0, 30.0), (9, 3)  # gateways and rooms: a 9 x 3 grid of 10 m cells
RTLS_TAGS, RTLS_HEARD, RTLS_WINDOW_S, RTLS_WARM_S = 5_000, 4, 0.1, 2
RTLS_FLOOR_ID, RTLS_T0_S = 1, 1_790_000_000.0


@dataclass(frozen=True)
class RtlsScene:
    model: PathLossModel  # of the floor's gateways
    layout: FloorLayout
    config: RtlsConfig
    windows: list[ReadArrays]  # consecutive 100 ms windows of reads


def rtls_scene(seconds: int, seed: int) -> RtlsScene:
    """The floor above, and `seconds` of its reads cut into 100 ms windows."""
    rng = np.random.default_rng(seed)
    cells = [(10.0 * i, 10.0 * j) for j in range(RTLS_GRID[1]) for i in range(RTLS_GRID[0])]
    k = len(cells)
    gateways = np.array([[x + 5.0, y + 5.0, 2.7] for x, y in cells])
    model = PathLossModel(anchors_m=gateways, rssi_1m_dbm=-59.0, offset_db=np.zeros(k), exponent=np.full(k, 2.0),
                          sigma=np.full(k, 4.0), tag_height_m=1.2, window_sigma_db=2.0)
    codes = tuple(f"GW-{i:02d}" for i in range(k))
    floor_map = FloorMap(outline=box(0, 0, *RTLS_FLOOR_M), zones=[box(x, y, x + 10, y + 10) for x, y in cells],
                         doors=[])
    layout = FloorLayout(floor_id=RTLS_FLOOR_ID, width_m=RTLS_FLOOR_M[0], height_m=RTLS_FLOOR_M[1],
                         floor_map=floor_map, zone_pk=np.arange(100, 100 + k), ble=ReceiverSet(codes, model))
    tags = np.array([f"ble-{i:05d}" for i in range(RTLS_TAGS)])
    config = RtlsConfig(floors={RTLS_FLOOR_ID: layout}, reader_floor=dict.fromkeys(codes, RTLS_FLOOR_ID),
                        tags={t: TagInfo(i + 1, t, "ble") for i, t in enumerate(tags.tolist())})
    xy = rng.uniform((0, 0), RTLS_FLOOR_M, (RTLS_TAGS, 2))
    phase = rng.uniform(0, 1, RTLS_TAGS)  # when in its second each tag advertises
    windows = []
    for second in range(seconds):
        xy = np.clip(xy + rng.normal(0, 0.5, xy.shape), 0, RTLS_FLOOR_M)  # walking, ~0.5 m/s
        for w in range(round(1 / RTLS_WINDOW_S)):
            sel = np.flatnonzero((phase >= w * RTLS_WINDOW_S) & (phase < (w + 1) * RTLS_WINDOW_S))
            d = np.linalg.norm(np.column_stack([xy[sel], np.full(len(sel), 1.2)])[:, None] - gateways[None], axis=2)
            near = np.argsort(d, axis=1)[:, :RTLS_HEARD]
            rssi = -59.0 - 20.0 * np.log10(np.take_along_axis(d, near, axis=1)) + rng.normal(0, 3.0, near.shape)
            n = near.size
            t_s = RTLS_T0_S + second + phase[sel, None] + 0.002 * np.arange(RTLS_HEARD)
            mixed = rng.permutation(n)  # the gateways' reports interleave
            windows.append(ReadArrays(tag_id=np.repeat(tags[sel], RTLS_HEARD)[mixed],
                                      reader_id=np.array(codes)[near.ravel()][mixed], tech=np.full(n, BLE),
                                      t_s=t_s.ravel()[mixed], rssi_dbm=rssi.ravel()[mixed],
                                      range_m=np.full(n, np.nan), antenna=np.full(n, -1)))
    return RtlsScene(model, layout, config, windows)


def floor_reads(scene: RtlsScene, reads: ReadArrays) -> FloorReads:
    routed, drops = route(reads, scene.config)
    assert not drops, drops
    return routed[RTLS_FLOOR_ID]


def cpu_s_per_second(make: Callable[[], T], step: Callable[[T, int], object], windows: range, *, repeats: int,
                     ) -> float:
    """Best CPU time of stepping `windows` (one second of them) through the state make() returns, made afresh
    for each repeat (by replaying the warm-up: a deep copy would lose the prepared shapely geometries)."""
    best = np.inf
    for _ in range(repeats):
        fresh = make()
        gc.collect()
        gc.disable()
        try:
            t0 = time.process_time()
            for i in windows:
                step(fresh, i)
            best = min(best, time.process_time() - t0)
        finally:
            gc.enable()
    return float(best)


@dataclass(frozen=True)
class WindowRow:
    task: str
    new_s: float  # CPU s for one second of windows
    old_s: float
    tags: int  # tags located in that second
    note: str


def bench_rtls_window() -> list[WindowRow]:
    scene = rtls_scene(RTLS_WARM_S + 1, seed=5)
    per_s = round(1 / RTLS_WINDOW_S)
    warm, timed = range(RTLS_WARM_S * per_s), range(RTLS_WARM_S * per_s, (RTLS_WARM_S + 1) * per_s)
    ble = [floor_reads(scene, reads).ble for reads in scene.windows]
    tags = sum(len(np.unique(ble[i].tag_id)) for i in timed)
    bounds = (0.0, 0.0, *RTLS_FLOOR_M)
    configs = {"new": TrackerConfig(bounds_m=bounds), "old": TrackerConfig(bounds_m=bounds, dense_update=True)}

    def tracker(config: TrackerConfig) -> TagTracker:
        t = TagTracker(scene.model, config)
        for i in warm:
            t.step(ble[i])
        return t

    def engine(config: TrackerConfig) -> FloorEngine:
        e = FloorEngine(scene.layout, EngineConfig(tracker=config))
        tag_ids = list(scene.config.tags)  # seeded with the committed state, as the pipeline starts an engine
        e.seed(tag_id=tag_ids, tech=[BLE] * len(tag_ids), zone_pk=[-1] * len(tag_ids),
               seen_at_s=[RTLS_T0_S - 30.0] * len(tag_ids))
        for i in warm:
            e.step(floor_reads(scene, scene.windows[i]))
        return e

    def tracker_step(t: TagTracker, i: int) -> None:
        t.step(ble[i])

    def engine_step(e: FloorEngine, i: int) -> None:
        e.step(floor_reads(scene, scene.windows[i]))

    tracker_s, engine_s = {}, {}
    for name, config in configs.items():
        repeats = 5 if name == "new" else 2
        tracker_s[name] = cpu_s_per_second(partial(tracker, config), tracker_step, timed, repeats=repeats)
        engine_s[name] = cpu_s_per_second(partial(engine, config), engine_step, timed, repeats=repeats)
    new, old = tracker(configs["new"]), tracker(configs["old"])
    diff_m = max(float(np.abs(new.step(ble[i]).xy_m - old.step(ble[i]).xy_m).max()) for i in timed)
    reads = sum(len(ble[i].tag_id) for i in timed)
    return [
        WindowRow("tracker step (TagTracker.step)", tracker_s["new"], tracker_s["old"], tags,
                  f"{tags / per_s:.0f} tags x {reads / tags:.1f} reads per window; max |fix| new - old {diff_m:.1e} m"),
        WindowRow("engine step (route + FloorEngine.step)", engine_s["new"], engine_s["old"], tags,
                  f"+ routing, 27 zones with hysteresis, last sightings; engine seeded with {len(scene.config.tags):,} "
                  "tags"),
    ]


def print_window_table(rows: list[WindowRow]) -> None:
    per_s = round(1 / RTLS_WINDOW_S)
    print(f"\nLive pipeline: one BLE floor, {RTLS_TAGS:,} tags/s, {RTLS_HEARD} of {RTLS_GRID[0] * RTLS_GRID[1]} "
          f"gateways heard per tag, {1000 * RTLS_WINDOW_S:.0f} ms windows: CPU ms per window (best of repeats), "
          "tags per CPU-s")
    print(f"{'task':40s} {'new ms':>8s} {'old ms':>8s} {'speed-up':>9s} {'new tags/CPU-s':>15s} "
          f"{'old tags/CPU-s':>15s}  note")
    print("-" * 150)
    for r in rows:
        print(f"{r.task:40s} {1000 * r.new_s / per_s:>8.2f} {1000 * r.old_s / per_s:>8.2f} {r.old_s / r.new_s:>8.1f}x "
              f"{r.tags / r.new_s:>15,.0f} {r.tags / r.old_s:>15,.0f}  {r.note}")
    print("new = the information-form update over the gateways heard (the default); old = the textbook k x k "
          "iterated EKF over all 27 (TrackerConfig(dense_update=True)); the rest of the code is the same")


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
        print_window_table(bench_rtls_window())


if __name__ == "__main__":
    main()
