"""The heard-receivers-only update (information form) agrees with the textbook k x k update.

kalman.iterated_position_update against kalman.iterated_update with H (n, k, 4) and R (n, k, k); the tracker's
ekf_heard (soft gate from the diagonal of S) against ekf_dense (robust_R); predict_at against predict; whole
trackers stepped both ways. Seeded random cases, with receivers not heard, a single receiver, none, gating on.
"""

from dataclasses import replace

import numpy as np
import pytest

from tracking.localization import kalman
from tracking.localization.models import MeasurementModel, PathLossModel, RangeModel
from tracking.localization.radiomap import ResidualMap
from tracking.localization.tracker import (
    TagTracker,
    TrackerConfig,
    ekf_dense,
    ekf_heard,
    measurement_fn,
    robust_R,
    soft_gate_weights,
)
from tracking.localization.window import ReadWindow, heard_receivers

K = 12  # receivers of the floor


def anchors(rng: np.random.Generator) -> np.ndarray:
    return np.column_stack([rng.uniform(0, 40, (K, 2)), rng.uniform(2.2, 3.2, K)])


def ble_model(rng: np.random.Generator, *, radio_map: bool = False) -> PathLossModel:
    rmap = ResidualMap(origin_m=np.zeros(2), cell_m=4.0, values_db=rng.normal(0, 2, (K, 10, 10))) if radio_map else None
    return PathLossModel(anchors_m=anchors(rng), rssi_1m_dbm=-59.0, offset_db=rng.normal(0, 2, K),
                         exponent=rng.uniform(1.8, 2.6, K), sigma=rng.uniform(2.0, 4.0, K), tag_height_m=1.2,
                         residual_map=rmap, window_sigma_db=1.0)


def uwb_model(rng: np.random.Generator) -> RangeModel:
    return RangeModel(anchors_m=anchors(rng), bias_m=rng.normal(0, 0.05, K), sigma=rng.uniform(0.05, 0.2, K),
                      tag_height_m=1.2)


def predicted_tracks(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x (n, 4) on the floor, P (n, 4, 4) positive definite with position-velocity correlation."""
    x = np.column_stack([rng.uniform(2, 38, (n, 2)), rng.normal(0, 0.7, (n, 2))])
    A = rng.normal(0, 0.8, (n, 4, 4))
    return x, A @ np.swapaxes(A, 1, 2) + 0.05 * np.eye(4)


def heard_by(n: int, pattern: str, rng: np.random.Generator) -> np.ndarray:
    """valid (n, K): which receivers heard each tag."""
    if pattern == "all":
        return np.ones((n, K), dtype=bool)
    if pattern == "one":
        return np.eye(K, dtype=bool)[rng.integers(0, K, n)]
    if pattern == "none":
        return np.zeros((n, K), dtype=bool)
    return np.asarray(rng.random((n, K)) < 0.35)  # "some": 0 to K receivers per tag


def readings(model: MeasurementModel, x: np.ndarray, valid: np.ndarray, rng: np.random.Generator,
             *, outliers: bool) -> tuple[np.ndarray, np.ndarray]:
    """z (n, K) from a position near x (0 where not heard), counts (n, K) reads averaged into each."""
    truth = x[:, :2] + rng.normal(0, 1.0, (len(x), 2))
    z, _ = model.predict(truth)
    z = z + rng.normal(0, 1, z.shape) * model.sigma
    if outliers:  # a reading in five way off: the soft gate must act
        z = z + np.where(rng.random(z.shape) < 0.2, rng.choice([-1, 1], z.shape) * 12 * model.sigma, 0.0)
    counts = np.where(valid, rng.integers(1, 4, valid.shape), 0).astype(np.float64)
    return np.where(valid, z, 0.0), counts


CASES = [  # (seed, technology, receivers heard, outliers, tags)
    (1, "ble", "some", False, 40),
    (2, "ble", "some", True, 40),
    (3, "ble+map", "some", True, 40),
    (4, "ble", "all", True, 25),
    (5, "ble", "one", False, 25),
    (6, "uwb", "some", False, 40),
    (7, "uwb", "some", True, 40),
    (8, "uwb", "one", True, 25),
    (9, "uwb", "all", True, 25),
    (10, "ble", "some", True, 1),
]


def model_for(tech: str, rng: np.random.Generator) -> MeasurementModel:
    return uwb_model(rng) if tech == "uwb" else ble_model(rng, radio_map=tech == "ble+map")


@pytest.mark.parametrize(("seed", "tech", "pattern", "outliers", "n"), CASES)
def test_it_updates_as_the_textbook_iterated_update(seed: int, tech: str, pattern: str, outliers: bool,
                                                     n: int) -> None:
    rng = np.random.default_rng(seed)
    model = model_for(tech, rng)
    x, P = predicted_tracks(n, rng)
    valid = heard_by(n, pattern, rng)
    z, counts = readings(model, x, valid, rng, outliers=outliers)
    sigma2 = np.where(valid, model.noise_var(counts), 1.0)
    R = sigma2[:, :, None] * np.eye(K)  # unheard: weight 0 below, a zero row of H in the textbook form
    want = kalman.iterated_update(x, P, z, measurement_fn(model, valid), R, iterations=3)
    got = kalman.iterated_position_update(x, P, z, model.predict, valid / sigma2, iterations=3)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(got[1], np.swapaxes(got[1], 1, 2))


def test_it_leaves_tracks_that_heard_nothing_as_predicted() -> None:
    rng = np.random.default_rng(11)
    model = ble_model(rng)
    x, P = predicted_tracks(5, rng)
    z = np.zeros((5, K))
    got = kalman.iterated_position_update(x, P, z, model.predict, np.zeros((5, K)))
    np.testing.assert_allclose(got[0], x, rtol=0, atol=0)
    np.testing.assert_allclose(got[1], P, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(("seed", "tech", "pattern", "outliers", "n"), CASES)
def test_the_tracker_update_over_heard_receivers_equals_the_dense_one(seed: int, tech: str, pattern: str,
                                                                      outliers: bool, n: int) -> None:
    rng = np.random.default_rng(seed)
    model = model_for(tech, rng)
    x, P = predicted_tracks(n, rng)
    valid = heard_by(n, pattern, rng)
    valid[:, 0] |= ~valid.any(axis=1)  # a tracked tag in a window was heard by someone
    z, counts = readings(model, x, valid, rng, outliers=outliers)
    for gate_sigma in (3.0, 1.0):
        want = ekf_dense(model, x, P, z, counts, gate_sigma=gate_sigma, iterations=3)
        got = ekf_heard(model, x, P, z, counts, gate_sigma=gate_sigma, iterations=3)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", [2, 3, 7])
def test_the_soft_gate_weights_are_the_inverse_diagonal_of_robust_R_and_do_act(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = model_for("uwb" if seed == 7 else "ble", rng)
    x, P = predicted_tracks(40, rng)
    valid = heard_by(40, "some", rng)
    z, counts = readings(model, x, valid, rng, outliers=True)
    sigma2 = np.where(valid, model.noise_var(counts), 1.0)
    R = robust_R(x, P, z, sigma2[:, :, None] * np.eye(K), measurement_fn(model, valid), 3.0)
    z_hat, J = model.predict(x[:, :2])
    w = soft_gate_weights(P, z - z_hat, J, sigma2, valid, 3.0)
    np.testing.assert_allclose(w, np.where(valid, 1.0 / np.diagonal(R, axis1=1, axis2=2), 0.0), rtol=1e-12)
    assert (w[valid] < 1.0 / sigma2[valid] * 0.99).sum() >= 3  # gated readings among them


@pytest.mark.parametrize("tech", ["ble", "ble+map", "uwb"])
def test_it_predicts_the_heard_receivers_as_the_full_prediction(tech: str) -> None:
    rng = np.random.default_rng(12)
    model = model_for(tech, rng)
    xy = rng.uniform(-5, 45, (30, 2))  # some off the map: its lookups clip
    receiver, _ = heard_receivers(heard_by(30, "some", rng))
    z_all, J_all = model.predict(xy)
    z_at, J_at = model.predict_at(xy, receiver)
    np.testing.assert_array_equal(z_at, np.take_along_axis(z_all, receiver, axis=1))
    np.testing.assert_array_equal(J_at, np.take_along_axis(J_all, receiver[..., None], axis=1))


@pytest.mark.parametrize(("valid", "receiver", "heard"), [
    ([[True, False, True], [False, True, False]], [[0, 2], [1, 0]], [[True, True], [True, False]]),
    ([[False, False, False]], np.zeros((1, 0)), np.zeros((1, 0))),
    (np.zeros((0, 3)), np.zeros((0, 0)), np.zeros((0, 0))),
])
def test_it_packs_the_heard_receivers_to_the_left(valid: list[list[bool]], receiver: list[list[int]],
                                                  heard: list[list[bool]]) -> None:
    got_receiver, got_heard = heard_receivers(np.array(valid, dtype=bool))
    np.testing.assert_array_equal(got_receiver, np.array(receiver, dtype=np.int64))
    np.testing.assert_array_equal(got_heard, np.array(heard, dtype=bool))


@pytest.mark.parametrize(("tech", "lag_s"), [("ble", 0.0), ("uwb", 0.0), ("ble", 2.0)])
def test_a_tracker_steps_the_same_tracks_either_way(tech: str, lag_s: float) -> None:
    rng = np.random.default_rng(13)
    model = model_for(tech, rng)
    config = TrackerConfig(bounds_m=(0.0, 0.0, 40.0, 40.0), smoother_lag_s=lag_s)
    fast, dense = TagTracker(model, config), TagTracker(model, replace(config, dense_update=True))
    truth = rng.uniform(5, 35, (60, 2))
    tags = np.array([f"tag-{i}" for i in range(60)])
    for t_s in np.arange(0.0, 8.0, 0.5):
        truth += rng.normal(0, 0.3, truth.shape)
        valid = heard_by(60, "some", rng) | np.eye(K, dtype=bool)[rng.integers(0, K, 60)]
        z, _ = model.predict(truth)
        z = z + rng.normal(0, 1, z.shape) * model.sigma
        rows, cols = np.nonzero(valid)
        window = ReadWindow(tags[rows], cols, t_s + rng.uniform(0, 0.4, len(rows)), z[rows, cols])
        got, want = fast.step(window), dense.step(window)
        np.testing.assert_array_equal(got.tag_id, want.tag_id)
        np.testing.assert_allclose(got.xy_m, want.xy_m, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fast.P, dense.P, rtol=1e-9, atol=1e-9)
    assert len(fast.tag_id) > 40
    if lag_s:
        np.testing.assert_allclose(fast.smoothed(tags).xy_m, dense.smoothed(tags).xy_m, rtol=1e-9, atol=1e-9)
