import numpy as np
import pytest

from tracking.localization import kalman


def test_class_equals_pure_functions() -> None:
    rng = np.random.default_rng(3)
    x0, P0 = rng.normal(size=(5, 4)), np.tile(np.eye(4), (5, 1, 1))
    dt_s = rng.uniform(0.1, 2.0, size=5)
    z, R = rng.normal(size=(5, 2)), np.tile(np.eye(2) * 0.3, (5, 1, 1))
    cv = kalman.ConstantVelocity2D(x0, P0, q_m2ps3=0.1)
    cv.predict(dt_s)
    cv.update_position(z, R)
    x, P = kalman.predict(x0, P0, kalman.cv_transition(dt_s), kalman.cv_process_noise(dt_s, 0.1))
    x, P = kalman.update(x, P, z, kalman.POSITION_H, R)
    np.testing.assert_allclose(cv.x, x)
    np.testing.assert_allclose(cv.P, P)


def test_batched_update_equals_one_by_one() -> None:
    rng = np.random.default_rng(4)
    x, P = rng.normal(size=(6, 4)), np.tile(np.eye(4) * 2.0, (6, 1, 1))
    z, R = rng.normal(size=(6, 2)), np.tile(np.eye(2), (6, 1, 1))
    xb, Pb = kalman.update(x, P, z, kalman.POSITION_H, R)
    for i in range(6):
        xi, Pi = kalman.update(x[i : i + 1], P[i : i + 1], z[i : i + 1], kalman.POSITION_H, R[i : i + 1])
        np.testing.assert_allclose(xb[i], xi[0])
        np.testing.assert_allclose(Pb[i], Pi[0])


def test_iterated_update_equals_linear_update_for_a_linear_measurement() -> None:
    rng = np.random.default_rng(5)
    x, P = rng.normal(size=(3, 4)), np.tile(np.eye(4), (3, 1, 1))
    z, R = rng.normal(size=(3, 2)), np.tile(np.eye(2) * 0.5, (3, 1, 1))
    H = np.broadcast_to(kalman.POSITION_H, (3, 2, 4))
    xi, Pi = kalman.iterated_update(x, P, z, lambda s: ((H @ s[..., None])[..., 0], H), R)
    xl, Pl = kalman.update(x, P, z, kalman.POSITION_H, R)
    np.testing.assert_allclose(xi, xl)
    np.testing.assert_allclose(Pi, Pl)


@pytest.mark.parametrize(("z", "passes"), [([0.3, -0.2], True), ([50.0, 0.0], False)])
def test_gate_rejects_a_jump(z: list[float], passes: bool) -> None:
    x, P = np.zeros((1, 4)), np.eye(4)[None] * 0.5
    ok = kalman.gate(x, P, np.array([z]), kalman.POSITION_H, np.eye(2)[None], chi2=13.8)
    assert bool(ok[0]) is passes


def test_it_rejects_bad_state_shapes() -> None:
    with pytest.raises(ValueError, match="need \\(n, 4\\)"):
        kalman.ConstantVelocity2D(np.zeros((2, 3)), np.zeros((2, 4, 4)), q_m2ps3=1.0)


@pytest.mark.parametrize(("q_m2ps3", "dt_s"), [(0.01, 1.0), (0.1, 1.0), (0.05, 0.25)])
def test_white_acceleration_fit_recovers_q_of_simulated_paths(q_m2ps3: float, dt_s: float) -> None:
    rng = np.random.default_rng(6)
    fine_s = 0.01  # simulate finely, fit on the coarser dt_s grid
    t_s: list[np.ndarray] = []
    xy_m: list[np.ndarray] = []
    for _ in range(20):
        v = np.cumsum(rng.normal(0, np.sqrt(q_m2ps3 * fine_s), (20_000, 2)), axis=0)
        xy_m.append(np.cumsum(v * fine_s, axis=0))
        t_s.append(np.arange(20_000) * fine_s)
    q = kalman.fit_white_acceleration(t_s, xy_m, dt_s=dt_s)
    np.testing.assert_allclose(q, q_m2ps3, rtol=0.1)


def test_white_acceleration_fit_rejects_short_paths() -> None:
    with pytest.raises(ValueError, match="too short"):
        kalman.fit_white_acceleration([np.array([0.0, 0.5])], [np.zeros((2, 2))], dt_s=1.0)
