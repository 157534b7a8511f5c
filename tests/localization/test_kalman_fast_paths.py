"""The constant-velocity fast paths agree with the general predict / update, in every batch size."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracking.localization import kalman


def random_tracks(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, 4, 4))
    P = A @ np.swapaxes(A, 1, 2) + 0.1 * np.eye(4)
    B = rng.normal(size=(n, 2, 2))
    R = B @ np.swapaxes(B, 1, 2) + 0.05 * np.eye(2)
    return rng.normal(size=(n, 4)), P, rng.uniform(0.01, 3.0, n), rng.normal(size=(n, 2)), R


@settings(derandomize=True, max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**32 - 1), st.floats(1e-4, 1.0))
def test_it_predicts_as_the_general_predict(n: int, seed: int, q_m2ps3: float) -> None:
    x, P, dt_s, _, _ = random_tracks(n, seed)
    want = kalman.predict(x, P, kalman.cv_transition(dt_s), kalman.cv_process_noise(dt_s, q_m2ps3))
    got = kalman.cv_predict(x, P, dt_s, q_m2ps3)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-12)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_it_updates_as_the_general_joseph_update(n: int, seed: int) -> None:
    x, P, _, z, R = random_tracks(n, seed)
    want = kalman.update(x, P, z, kalman.POSITION_H, R)
    got = kalman.position_update(x, P, z, R)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1], np.swapaxes(got[1], 1, 2))  # symmetric


@pytest.mark.parametrize("n", [1, 7, kalman.ConstantVelocity2D.BLOCK, 2 * kalman.ConstantVelocity2D.BLOCK + 3])
def test_it_steps_the_class_in_blocks_as_the_pure_functions_step_the_whole_batch(n: int) -> None:
    x0, P0, dt_s, z, R = random_tracks(n, seed=n)
    cv = kalman.ConstantVelocity2D(x0, P0, q_m2ps3=0.05)
    x, P = x0, P0
    for step in range(3):
        cv.predict(dt_s)
        cv.update_position(z + step, R)
        x, P = kalman.predict(x, P, kalman.cv_transition(dt_s), kalman.cv_process_noise(dt_s, 0.05))
        x, P = kalman.update(x, P, z + step, kalman.POSITION_H, R)
    np.testing.assert_allclose(cv.x, x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cv.P, P, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(x0, random_tracks(n, seed=n)[0])  # inputs untouched


def test_it_leaves_the_callers_arrays_alone() -> None:
    x, P, dt_s, z, R = random_tracks(5, seed=9)
    before = [a.copy() for a in (x, P, dt_s, z, R)]
    kalman.position_update(*kalman.cv_predict(x, P, dt_s, 0.1), z, R)
    for a, b in zip((x, P, dt_s, z, R), before, strict=True):
        np.testing.assert_array_equal(a, b)
