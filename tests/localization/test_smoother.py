from collections.abc import Callable

import numpy as np
import pytest

from tracking.localization import kalman
from tracking.localization.models import RangeModel
from tracking.localization.multilateration import Method
from tracking.localization.smoother import LagBuffer, interpolate_at, rts_smooth
from tracking.localization.tracker import Fixes, TagTracker, TrackerConfig
from tracking.localization.window import ReadWindow

ANCHORS = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])


def filter_walk(n_tags: int, steps: int, seed: int) -> tuple[np.ndarray, ...]:
    """Noisy position fixes of constant-velocity walks through a CV Kalman filter; its full history."""
    rng = np.random.default_rng(seed)
    dt_s, q, sigma_m = np.full(n_tags, 1.0), 0.05, 1.0
    truth = np.zeros((n_tags, steps, 2))
    x, P = np.zeros((n_tags, 4)), np.tile(np.diag([sigma_m**2, sigma_m**2, 1.0, 1.0]), (n_tags, 1, 1))
    pos, vel = rng.uniform(0, 10, (n_tags, 2)), rng.normal(0, 0.7, (n_tags, 2))
    hist: list[list[np.ndarray]] = [[] for _ in range(5)]
    F, Q, R = kalman.cv_transition(dt_s), kalman.cv_process_noise(dt_s, q), np.eye(2) * sigma_m**2
    for t in range(steps):
        vel = vel + rng.normal(0, np.sqrt(q), (n_tags, 2))
        pos = pos + vel
        truth[:, t] = pos
        x_pred, P_pred = kalman.predict(x, P, F, Q) if t else (x, P)
        x, P = kalman.update(x_pred, P_pred, pos + rng.normal(0, sigma_m, (n_tags, 2)), kalman.POSITION_H, R)
        for h, v in zip(hist, (x, P, x_pred, P_pred, F), strict=True):
            h.append(v)
    x_f, P_f, x_p, P_p, F_all = (np.stack(h, axis=1) for h in hist)
    return truth, x_f, P_f, x_p, P_p, F_all


def test_it_smooths_a_simulated_walk_better_than_the_filter() -> None:
    truth, x_f, P_f, x_p, P_p, F = filter_walk(n_tags=20, steps=60, seed=21)
    x_s, P_s = rts_smooth(x_f, P_f, x_p, P_p, F)
    filtered = np.linalg.norm(x_f[..., :2] - truth, axis=2)
    smoothed = np.linalg.norm(x_s[..., :2] - truth, axis=2)
    assert np.median(smoothed) < 0.8 * np.median(filtered)
    assert (np.trace(P_s, axis1=2, axis2=3) <= np.trace(P_f, axis1=2, axis2=3) + 1e-9).all()
    np.testing.assert_allclose(x_s[:, -1], x_f[:, -1])  # the newest step has nothing to learn from


def test_batched_smoothing_equals_one_by_one() -> None:
    _, *history = filter_walk(n_tags=4, steps=12, seed=22)
    x_s, P_s = rts_smooth(*history)
    for i in range(4):
        xi, Pi = rts_smooth(*(h[i : i + 1] for h in history))
        np.testing.assert_allclose(x_s[i], xi[0])
        np.testing.assert_allclose(P_s[i], Pi[0])


def test_lag_buffer_equals_the_pure_functions() -> None:
    _, x_f, P_f, x_p, P_p, F = filter_walk(n_tags=3, steps=10, seed=23)
    buffer = LagBuffer(steps=6)
    buffer.add(3)
    rows = np.arange(3)
    for t in range(10):
        buffer.push(rows, np.full(3, float(t)), x_f[:, t], P_f[:, t], x_p[:, t], P_p[:, t], F[:, t])
    t_out, xy, cov, ok = buffer.smoothed(rows, lag_s=2.0)
    x_s, P_s = rts_smooth(x_f[:, 4:], P_f[:, 4:], x_p[:, 4:], P_p[:, 4:], F[:, 4:])  # the 6 buffered steps
    np.testing.assert_allclose(t_out, 7.0)
    np.testing.assert_allclose(xy, x_s[:, 3, :2])
    np.testing.assert_allclose(cov, P_s[:, 3, :2, :2])
    assert ok.all()


@pytest.mark.parametrize(("t_out", "xy", "ok"), [
    (2.0, [2.0, 20.0], True),  # exactly on a step
    (2.5, [2.5, 25.0], True),  # halfway between two steps
    (3.0, [3.0, 30.0], True),  # lag 0: the newest step
    (0.5, [0.0, 0.0], False),  # before the history starts
])
def test_it_interpolates_between_history_steps(t_out: float, xy: list[float], ok: bool) -> None:
    t_s = np.array([[np.nan, 1.0, 2.0, 3.0]])  # one empty slot, as in a young track
    x = np.zeros((1, 4, 4))
    x[0, 1:, 0], x[0, 1:, 1] = [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]
    got, _, good = interpolate_at(t_s, x, np.tile(np.eye(4), (1, 4, 1, 1)), np.array([t_out]))
    assert bool(good[0]) is ok
    if ok:
        np.testing.assert_allclose(got[0], xy)


def test_a_cleared_history_starts_again() -> None:
    buffer = LagBuffer(steps=3)
    buffer.add(2)
    eye = np.tile(np.eye(4), (2, 1, 1))
    for t in range(3):
        buffer.push(np.arange(2), np.full(2, float(t)), np.zeros((2, 4)), eye, np.zeros((2, 4)), eye, eye)
    buffer.clear(np.array([1]))
    buffer.keep(np.array([False, True]))
    assert np.isnan(buffer.t_s).all() and buffer.x.shape == (1, 3, 4)


def ranges_window(tag_xy: dict[str, np.ndarray], t_s: float, rng: np.random.Generator) -> ReadWindow:
    tags, rx, t, r = [], [], [], []
    for tag, p in tag_xy.items():
        for k, a in enumerate(ANCHORS):
            tags.append(tag)
            rx.append(k)
            t.append(t_s + 0.01 * k)
            r.append(float(np.hypot(*(p - a)) + rng.normal(0, 0.3)))
    return ReadWindow.of(tags, rx, t, r)


def errors(fixes: Fixes, path: dict[str, Callable[[float], np.ndarray]]) -> list[float]:
    """Distance of each fix from its tag's path at the fix time (reads come 0.015 s after the step on average)."""
    return [float(np.hypot(*(xy - path[str(g)](t - 0.015))))
            for g, xy, t in zip(fixes.tag_id, fixes.xy_m, fixes.t_s, strict=True)]


def test_it_reports_smoothed_fixes_lag_seconds_late_and_closer_to_the_truth() -> None:
    rng = np.random.default_rng(24)
    model = RangeModel(anchors_m=ANCHORS, bias_m=np.zeros(4), sigma=np.full(4, 0.3))
    tracker = TagTracker(model, TrackerConfig(q_m2ps3=0.01, smoother_lag_s=3.0))
    path: dict[str, Callable[[float], np.ndarray]] = {
        "a": lambda t: np.array([1.0 + 0.5 * t, 2.0]), "b": lambda t: np.array([8.0, 1.0 + 0.4 * t])}
    live: list[float] = []
    late: list[float] = []
    for step in range(16):
        fixes = tracker.step(ranges_window({tag: f(step) for tag, f in path.items()}, float(step), rng))
        smooth = tracker.smoothed(fixes.tag_id)
        live += errors(fixes, path)
        late += errors(smooth, path)
        if step >= 3:
            np.testing.assert_allclose(smooth.t_s, fixes.t_s - 3.0)
            assert set(smooth.method.tolist()) == {Method.SMOOTHED}
        else:
            assert len(smooth.tag_id) == 0  # younger than the lag: real-time fixes only
    assert np.median(late) < np.median(live)


def test_smoothed_fixes_need_a_lag() -> None:
    with pytest.raises(ValueError, match="smoother_lag_s"):
        TagTracker(RangeModel(anchors_m=ANCHORS, bias_m=np.zeros(4), sigma=np.ones(4))).smoothed(np.array(["a"]))
