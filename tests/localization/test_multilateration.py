import numpy as np
import pytest

from tracking.localization.models import RangeModel
from tracking.localization.multilateration import Method, gauss_newton, irls, locate, multilaterate

ANCHORS_3D = np.array([[0.0, 0.0, 2.5], [10.0, 0.0, 2.5], [10.0, 8.0, 1.0], [0.0, 8.0, 2.5], [5.0, 4.0, 3.0]])


def ranges_to(truth: np.ndarray, anchors: np.ndarray, tag_height_m: float) -> np.ndarray:
    p = np.column_stack([truth, np.full(len(truth), tag_height_m)])
    return np.asarray(np.linalg.norm(p[:, None, :] - anchors[None, :, :], axis=2))


@pytest.mark.parametrize(("truth", "noise_m", "atol"), [
    ([3.0, 4.0], 0.0, 1e-6),
    ([8.5, 1.0], 0.0, 1e-6),
    ([5.0, 6.0], 0.05, 0.15),
    ([1.0, 7.0], 0.05, 0.15),
])
def test_it_recovers_known_points_with_anchor_heights(truth: list[float], noise_m: float, atol: float) -> None:
    rng = np.random.default_rng(42)
    r = ranges_to(np.array([truth]), ANCHORS_3D, 1.2) + rng.normal(0, noise_m, (1, 5))
    sol = multilaterate(ANCHORS_3D, r, tag_height_m=1.2)
    np.testing.assert_allclose(sol.xy_m[0], truth, atol=atol)
    assert sol.method[0] == Method.MULTILATERATION


def test_it_is_robust_to_an_outlier_range() -> None:
    rng = np.random.default_rng(7)
    anchors = np.vstack([ANCHORS_3D, [[0.0, 4.0, 2.5], [10.0, 4.0, 2.5]]])
    truth = np.array([[6.0, 3.0]])
    r = ranges_to(truth, anchors, 1.0) + rng.normal(0, 0.03, (1, 7))
    r[0, 2] += 4.0  # NLOS: one range far too long
    sol = multilaterate(anchors, r, tag_height_m=1.0, sigma_m=0.05)
    np.testing.assert_allclose(sol.xy_m[0], truth[0], atol=0.2)


def test_batched_equals_one_by_one() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform([0, 0], [10, 8], size=(20, 2))
    r = ranges_to(truth, ANCHORS_3D, 1.5) + rng.normal(0, 0.1, (20, 5))
    r[3, 1] = np.nan  # a missing range changes nothing about batching
    batch = multilaterate(ANCHORS_3D, r, tag_height_m=1.5)
    for i in range(20):
        one = multilaterate(ANCHORS_3D, r[i : i + 1], tag_height_m=1.5)
        np.testing.assert_allclose(batch.xy_m[i], one.xy_m[0], atol=1e-9)
        np.testing.assert_allclose(batch.accuracy_m[i], one.accuracy_m[0], atol=1e-9)


@pytest.mark.parametrize(("heard", "method"), [(1, Method.PROXIMITY), (2, Method.PROXIMITY), (0, Method.NONE)])
def test_it_falls_back_to_proximity_with_few_anchors(heard: int, method: Method) -> None:
    r = np.full((1, 5), np.nan)
    r[0, :heard] = [1.0, 9.0][:heard]
    sol = multilaterate(ANCHORS_3D, r, tag_height_m=1.0)
    assert sol.method[0] == method
    if heard:
        assert np.linalg.norm(sol.xy_m[0] - ANCHORS_3D[0, :2]) < 1.0  # near the closest anchor
        assert sol.accuracy_m[0] >= 2.0


def test_accuracy_grows_with_noise() -> None:
    model = RangeModel(anchors_m=ANCHORS_3D, bias_m=np.zeros(5), sigma=np.full(5, 0.1))
    noisy = RangeModel(anchors_m=ANCHORS_3D, bias_m=np.zeros(5), sigma=np.full(5, 1.0))
    z = ranges_to(np.array([[4.0, 4.0]]), ANCHORS_3D, 0.0)
    valid = np.ones_like(z, dtype=bool)
    assert locate(noisy, z, valid).accuracy_m[0] > 5 * locate(model, z, valid).accuracy_m[0]


@pytest.mark.parametrize(("anchors", "ranges", "message"), [
    (np.zeros((4, 4)), np.zeros((1, 4)), "anchors_m"),
    (np.zeros(4), np.zeros((1, 4)), "anchors_m"),
    (np.zeros((4, 2)), np.zeros((1, 3)), "ranges_m"),
    (np.zeros((4, 2)), np.zeros(4), "ranges_m"),
])
def test_it_rejects_bad_shapes(anchors: np.ndarray, ranges: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        multilaterate(anchors, ranges)


def test_gauss_newton_rejects_mismatched_start() -> None:
    model = RangeModel(anchors_m=ANCHORS_3D, bias_m=np.zeros(5), sigma=np.ones(5))
    with pytest.raises(ValueError, match="xy0_m"):
        gauss_newton(model, np.ones((2, 5)), np.ones((2, 5), dtype=bool), np.zeros((3, 2)))


class CountingModel:
    """A RangeModel that counts its predictions."""

    def __init__(self, model: RangeModel) -> None:
        self.model, self.calls = model, 0
        self.anchors_m, self.sigma = model.anchors_m, model.sigma

    def predict(self, xy_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        return self.model.predict(xy_m)

    def predict_at(self, xy_m: np.ndarray, receiver: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        return self.model.predict_at(xy_m, receiver)

    def closeness(self, z: np.ndarray) -> np.ndarray:
        return self.model.closeness(z)

    def noise_var(self, counts: np.ndarray) -> np.ndarray:
        return self.model.noise_var(counts)


def test_it_returns_at_once_for_an_empty_batch() -> None:
    model = CountingModel(RangeModel(anchors_m=ANCHORS_3D, bias_m=np.zeros(5), sigma=np.full(5, 0.1)))
    xy = irls(model, np.zeros((0, 5)), np.zeros((0, 5)), np.zeros((0, 2)))
    assert xy.shape == (0, 2) and model.calls == 0


def test_it_does_not_iterate_tags_heard_by_fewer_than_three_anchors() -> None:
    model = CountingModel(RangeModel(anchors_m=ANCHORS_3D, bias_m=np.zeros(5), sigma=np.full(5, 0.1)))
    r = ranges_to(np.array([[3.0, 4.0], [6.0, 2.0]]), ANCHORS_3D, 0.0)
    valid = np.array([[True, True, False, False, False], [True, False, False, False, False]])
    sol = locate(model, np.where(valid, r, 0.0), valid)
    assert sol.method.tolist() == [Method.PROXIMITY, Method.PROXIMITY]
    assert model.calls == 1  # the one Jacobian at the answers, no Gauss-Newton step
