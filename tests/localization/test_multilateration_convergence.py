"""The solver iterates each tag until it converges: scipy's answer on the same residuals, a compressed
active set that changes nothing, and no cycling where plain Gauss-Newton cycles."""

import numpy as np
import pytest
from scipy.optimize import least_squares  # type: ignore[import-untyped]

from tracking.localization.models import MeasurementModel, PathLossModel, RangeModel
from tracking.localization.multilateration import (
    MAX_ITERATIONS,
    TOL_M,
    base_weights,
    irls,
    irls_step,
    multilaterate,
    weighted_centroid,
)

HUBER_K, SIGMA_M, TAG_HEIGHT_M = 1.5, 0.1, 1.2
Scene = tuple[MeasurementModel, np.ndarray, np.ndarray, np.ndarray]  # model, z (n, k), valid (n, k), xy0 (n, 2)


def range_scene(n: int, seed: int) -> Scene:
    """8 ceiling anchors round a 40 x 25 m floor; every tag hears its nearest 4-8 with 0.1 m noise (the scene of
    bench.bench_localization, where a few tags in a hundred have a reading damped by Huber)."""
    rng = np.random.default_rng(seed)
    edge = np.array([[0, 0], [20, 0], [40, 0], [40, 12.5], [40, 25], [20, 25], [0, 25], [0, 12.5]])
    anchors = np.column_stack([edge + rng.uniform(-2, 2, edge.shape), rng.uniform(2.2, 3.2, 8)])
    tag = np.column_stack([rng.uniform([0, 0], [40, 25], (n, 2)), np.full(n, TAG_HEIGHT_M)])
    d = np.linalg.norm(tag[:, None, :] - anchors[None], axis=2)
    valid = np.argsort(np.argsort(d, axis=1), axis=1) < rng.integers(4, 9, n)[:, None]
    z = np.where(valid, d + rng.normal(0, SIGMA_M, d.shape), 0.0)
    model = RangeModel(anchors_m=anchors, bias_m=np.zeros(8), sigma=np.full(8, SIGMA_M), tag_height_m=TAG_HEIGHT_M)
    return model, z, valid, start(model, z, valid)


def ble_far_outside_scene() -> Scene:
    """One BLE tag read far outside six receivers with 6 dB errors: plain Gauss-Newton cycles between two points."""
    rng = np.random.default_rng(13)
    k = int(rng.integers(4, 7))
    anchors = np.column_stack([rng.uniform(0, 10, (k, 2)), np.full(k, 2.5)])
    model = PathLossModel(anchors_m=anchors, rssi_1m_dbm=-60.0, offset_db=np.zeros(k), exponent=np.full(k, 2.0),
                          sigma=np.full(k, 3.0), tag_height_m=1.0)
    z_hat, _ = model.predict(rng.uniform(-15, 25, (1, 2)))
    z = z_hat + rng.normal(0, 6.0, z_hat.shape)
    valid = np.ones(z.shape, dtype=bool)
    return model, z, valid, start(model, z, valid)


def start(model: MeasurementModel, z: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The start locate uses: the centroid of the anchors heard, weighted by closeness."""
    return weighted_centroid(model.anchors_m[:, :2], np.where(valid, model.closeness(z), 0.0))


def scipy_fix(model: MeasurementModel, z: np.ndarray, valid: np.ndarray, xy0: np.ndarray) -> np.ndarray:
    """One tag by scipy: Huber least squares on the same residuals (z - h(x)) / sigma, tolerances tight."""
    scale = np.sqrt(base_weights(model, valid[None], None)[0])[valid]

    def residual(p: np.ndarray) -> np.ndarray:
        return np.asarray((z[valid] - model.predict(p[None])[0][0, valid]) * scale)

    def jacobian(p: np.ndarray) -> np.ndarray:
        return np.asarray(-model.predict(p[None])[1][0, valid] * scale[:, None])

    fit = least_squares(residual, xy0, jac=jacobian, loss="huber", f_scale=HUBER_K, xtol=1e-12, ftol=1e-12, gtol=1e-12)
    return np.asarray(fit.x)


def solve(scene: Scene, *, tol_m: float = TOL_M, max_iterations: int = MAX_ITERATIONS) -> np.ndarray:
    model, z, valid, xy0 = scene
    w0 = base_weights(model, valid, None)
    return irls(model, z, w0, xy0, huber_k=HUBER_K, tol_m=tol_m, max_iterations=max_iterations)


def iterate_every_tag_every_step(scene: Scene, *, tol_m: float, max_iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """The same iteration without an active set: every tag stepped every time, stopped tags left where they
    stopped. Returns xy (n, 2) and the number of steps each tag took (n,)."""
    model, z, valid, xy = scene
    w0 = base_weights(model, valid, None)
    last, damping = np.zeros_like(xy), np.ones(len(xy))
    stopped, steps = np.zeros(len(xy), dtype=bool), np.zeros(len(xy), dtype=np.int64)
    for _ in range(max_iterations):
        step = irls_step(model, z, w0, xy, huber_k=HUBER_K)
        undoes = (step * last).sum(axis=1) < -0.5 * (last * last).sum(axis=1)
        damping = np.minimum(1.0, np.where(undoes, 0.5, 2.0) * damping)
        last = np.where(stopped[:, None], 0.0, step * damping[:, None])
        xy = xy + last
        steps += ~stopped
        stopped |= (step * step).sum(axis=1) < tol_m**2
    return xy, steps


def test_it_converges_to_scipys_answer_on_a_seeded_scene() -> None:
    scene = range_scene(150, seed=3)
    model, z, valid, xy0 = scene
    expected = np.array([scipy_fix(model, z[i], valid[i], xy0[i]) for i in range(len(z))])
    np.testing.assert_allclose(solve(scene, tol_m=1e-9), expected, atol=1e-6, rtol=0)


def test_the_default_tolerance_stops_within_a_tenth_of_a_millimetre_of_the_minimum() -> None:
    scene = range_scene(300, seed=4)
    exact = solve(scene, tol_m=0.0, max_iterations=2000)
    assert np.abs(solve(scene) - exact).max() < 1e-4


def test_the_active_set_gives_what_iterating_every_tag_every_step_gives() -> None:
    scene = range_scene(300, seed=5)
    expected, steps = iterate_every_tag_every_step(scene, tol_m=1e-6, max_iterations=100)
    assert steps.min() <= 5 and steps.max() >= 20  # tags really do stop at different times
    np.testing.assert_allclose(solve(scene, tol_m=1e-6, max_iterations=100), expected, atol=1e-12, rtol=0)


def test_it_settles_where_plain_gauss_newton_cycles() -> None:
    scene = ble_far_outside_scene()
    model, z, valid, xy0 = scene
    xy, w0, visited = xy0.copy(), base_weights(model, valid, None), []
    for _ in range(60):  # undamped Gauss-Newton
        xy = xy + irls_step(model, z, w0, xy, huber_k=HUBER_K)
        visited.append(xy[0])
    assert np.linalg.norm(visited[-1] - visited[-2]) > 1.0  # it jumps back and forth ...
    np.testing.assert_allclose(visited[-1], visited[-3], atol=1e-6)  # ... between the same two points
    np.testing.assert_allclose(solve(scene)[0], scipy_fix(model, z[0], valid[0], xy0[0]), atol=1e-5)


@pytest.mark.parametrize("max_iterations", [0, 1, 3])
def test_it_stops_after_max_iterations(max_iterations: int) -> None:
    scene = range_scene(20, seed=6)
    expected, _ = iterate_every_tag_every_step(scene, tol_m=0.0, max_iterations=max_iterations)
    np.testing.assert_allclose(solve(scene, tol_m=0.0, max_iterations=max_iterations), expected, atol=1e-12)


@pytest.mark.parametrize(("tol_m", "max_iterations"), [(-1e-6, 10), (1e-6, -1), (float("nan"), 10)])
def test_it_rejects_a_negative_tolerance_or_iteration_count(tol_m: float, max_iterations: int) -> None:
    anchors = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    with pytest.raises(ValueError, match="tol_m"):
        multilaterate(anchors, np.full((1, 3), 7.0), tol_m=tol_m, max_iterations=max_iterations)


def test_it_gives_the_same_answer_every_time() -> None:
    model, z, valid, _ = range_scene(200, seed=7)
    ranges = np.where(valid, z, np.nan)
    first = multilaterate(model.anchors_m, ranges, tag_height_m=TAG_HEIGHT_M, sigma_m=SIGMA_M)
    again = multilaterate(model.anchors_m, ranges, tag_height_m=TAG_HEIGHT_M, sigma_m=SIGMA_M)
    np.testing.assert_array_equal(first.xy_m, again.xy_m)
    np.testing.assert_array_equal(first.cov_m2, again.cov_m2)
