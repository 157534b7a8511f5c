import numpy as np
import pytest

from tracking.localization.models import PathLossModel, RangeModel, fit_path_loss, fit_range_bias, fit_read_noise
from tracking.localization.radiomap import fit_residual_map

ANCHORS = np.array([[0.0, 0.0, 2.3], [20.0, 0.0, 2.3], [20.0, 15.0, 1.2], [0.0, 15.0, 1.2]])


@pytest.mark.parametrize(("offsets_db", "exponents"), [
    ([0.0, 3.0, -2.0, 1.0], [1.5, 1.5, 2.0, 2.5]),
    ([-4.0, 0.0, 0.0, 4.0], [2.0, 1.8, 1.6, 3.0]),
])
def test_path_loss_fit_recovers_known_parameters(offsets_db: list[float], exponents: list[float]) -> None:
    rng = np.random.default_rng(11)
    truth = PathLossModel(anchors_m=ANCHORS, rssi_1m_dbm=-60.0, offset_db=np.array(offsets_db),
                          exponent=np.array(exponents), sigma=np.full(4, 2.0), tag_height_m=1.0)
    xy = rng.uniform([0, 0], [20, 15], size=(3000, 2))
    rx = rng.integers(0, 4, size=3000)
    rssi = truth.predict(xy)[0][np.arange(3000), rx] + rng.normal(0, 2.0, 3000)
    d = np.linalg.norm(np.column_stack([xy, np.ones(3000)]) - ANCHORS[rx], axis=1)
    fit = fit_path_loss(distance_m=d, rssi_dbm=rssi, receiver=rx, anchors_m=ANCHORS, tag_height_m=1.0)
    np.testing.assert_allclose(fit.rssi_1m_dbm + fit.offset_db, -60.0 + np.array(offsets_db), atol=0.5)
    np.testing.assert_allclose(fit.exponent, exponents, atol=0.1)
    np.testing.assert_allclose(fit.sigma, 2.0, atol=0.2)


def test_rssi_to_range_inverts_the_model() -> None:
    model = PathLossModel(anchors_m=ANCHORS, rssi_1m_dbm=-59.0, offset_db=np.array([0.0, 1.0, 2.0, 3.0]),
                          exponent=np.array([2.0, 2.0, 1.5, 1.5]), sigma=np.ones(4))
    rx = np.array([0, 1, 2, 3])
    rssi = model.rssi_1m_dbm + model.offset_db - 10 * model.exponent * np.log10([1.0, 2.0, 5.0, 10.0])
    np.testing.assert_allclose(model.range_m(rssi, rx), [1.0, 2.0, 5.0, 10.0])


def test_range_bias_fit_recovers_per_anchor_bias() -> None:
    rng = np.random.default_rng(12)
    bias = np.array([0.10, 0.05, 0.15, -0.02])
    rx = rng.integers(0, 4, 2000)
    true_r = rng.uniform(0.5, 4.0, 2000)
    measured = true_r + bias[rx] + rng.normal(0, 0.05, 2000)
    b, s = fit_range_bias(range_m=measured, true_range_m=true_r, receiver=rx, n_anchors=4)
    np.testing.assert_allclose(b, bias, atol=0.01)
    np.testing.assert_allclose(s, 0.05, atol=0.01)


def test_residual_map_learns_a_shadowed_corner() -> None:
    rng = np.random.default_rng(13)
    xy = rng.uniform([0, 0], [12, 12], size=(4000, 2))
    rx = np.zeros(4000, dtype=np.int64)
    residual = np.where((xy[:, 0] > 6) & (xy[:, 1] > 6), -8.0, 0.0) + rng.normal(0, 1.0, 4000)
    rmap = fit_residual_map(xy_m=xy, receiver=rx, residual_db=residual, n_receivers=1,
                            extent_m=(0, 0, 12, 12), cell_m=3.0, prior_reads=5.0)
    got = rmap.lookup_db(np.array([[10.5, 10.5], [1.5, 1.5]]))[:, 0]
    np.testing.assert_allclose(got, [-8.0, 0.0], atol=0.6)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"offset_db": np.zeros(3)}, "offset_db"),
    ({"exponent": np.zeros(5)}, "exponent"),
])
def test_path_loss_model_rejects_bad_shapes(kwargs: dict[str, np.ndarray], message: str) -> None:
    arrays = {"offset_db": np.zeros(4), "exponent": np.full(4, 2.0), **kwargs}
    with pytest.raises(ValueError, match=message):
        PathLossModel(anchors_m=ANCHORS, rssi_1m_dbm=-60.0, offset_db=arrays["offset_db"],
                      exponent=arrays["exponent"], sigma=np.ones(4))


def test_read_noise_fit_splits_fast_fading_from_window_shadowing() -> None:
    rng = np.random.default_rng(14)
    n_cells = 3000
    reads = rng.integers(1, 5, n_cells)  # 1-4 reads per (window, receiver), as on real gateways
    cell = np.repeat(np.arange(n_cells), reads)
    residual = rng.normal(0, 2.5, n_cells)[cell] + rng.normal(0, 4.0, len(cell))
    read_db, window_db = fit_read_noise(residual=residual, cell=cell)
    np.testing.assert_allclose([read_db, window_db], [4.0, 2.5], atol=0.2)


def test_noise_var_keeps_the_window_part_when_reads_are_averaged() -> None:
    model = PathLossModel(anchors_m=ANCHORS, rssi_1m_dbm=-60.0, offset_db=np.zeros(4), exponent=np.full(4, 2.0),
                          sigma=np.full(4, 4.0), window_sigma_db=2.0)
    counts = np.array([[1.0, 2.0, 4.0, 0.0]])
    np.testing.assert_allclose(model.noise_var(counts), [[20.0, 12.0, 8.0, 20.0]])
    ranges = RangeModel(anchors_m=ANCHORS, bias_m=np.zeros(4), sigma=np.full(4, 0.2))
    np.testing.assert_allclose(ranges.noise_var(counts), [[0.04, 0.02, 0.01, 0.04]])


def test_read_noise_fit_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="need equal"):
        fit_read_noise(residual=np.zeros(3), cell=np.zeros(4, dtype=np.int64))
