"""Anchors that cannot fix a position give a flagged, finite, low-confidence answer: never NaN, never a raise."""

import numpy as np
import pytest

from tracking.localization.models import RangeModel
from tracking.localization.multilateration import Method, gdop, multilaterate

ALONG_A_WALL = np.array([[0.0, 0.0, 2.5], [4.0, 0.0, 2.5], [8.0, 0.0, 2.5], [12.0, 0.0, 2.5]])
ONE_SPOT = np.array([[3.0, 3.0, 2.5]] * 4)
SQUARE = np.array([[0.0, 0.0, 2.5], [10.0, 0.0, 2.5], [10.0, 10.0, 2.5], [0.0, 10.0, 2.5]])


def ranges_to(truth: list[float], anchors: np.ndarray, heard: int | None = None) -> np.ndarray:
    r = np.linalg.norm(np.array([*truth, 1.0]) - anchors, axis=1)[None, :]
    if heard is not None:
        r[0, heard:] = np.nan
    return np.asarray(r)


@pytest.mark.parametrize(("anchors", "truth", "heard"), [
    (ALONG_A_WALL, [5.0, 3.0], None),  # collinear anchors: the side of the wall is unknowable
    (ALONG_A_WALL, [20.0, 0.0], None),  # collinear, tag on their line
    (ONE_SPOT, [4.0, 4.0], None),  # every anchor in one place
    (SQUARE, [2.0, 3.0], 1),  # one receiver
    (SQUARE, [2.0, 3.0], 2),  # two receivers
])
def test_it_flags_degenerate_geometry_as_low_confidence(
    anchors: np.ndarray, truth: list[float], heard: int | None
) -> None:
    sol = multilaterate(anchors, ranges_to(truth, anchors, heard), tag_height_m=1.0)
    assert sol.method.tolist() == [Method.PROXIMITY]
    assert np.isfinite(sol.xy_m).all() and np.isfinite(sol.cov_m2).all()
    assert sol.accuracy_m[0] >= 5.0


def test_it_keeps_good_geometry_as_multilateration() -> None:
    sol = multilaterate(SQUARE, ranges_to([2.0, 3.0], SQUARE), tag_height_m=1.0)
    assert sol.method.tolist() == [Method.MULTILATERATION]
    np.testing.assert_allclose(sol.xy_m[0], [2.0, 3.0], atol=1e-6)


@pytest.mark.parametrize(("anchors", "finite"), [(SQUARE, True), (ALONG_A_WALL, False), (ONE_SPOT, False)])
def test_it_reports_infinite_gdop_when_no_position_is_fixed(anchors: np.ndarray, finite: bool) -> None:
    model = RangeModel(anchors_m=anchors, bias_m=np.zeros(4), sigma=np.full(4, 0.1))
    value = gdop(model, np.array([[6.0, 0.0]]), np.ones((1, 4), dtype=bool))
    assert bool(np.isfinite(value[0])) is finite


def test_it_survives_all_nan_and_zero_ranges() -> None:
    ranges = np.array([[np.nan] * 4, [0.0] * 4, [np.inf, 1.0, np.nan, -2.0]])
    sol = multilaterate(SQUARE, ranges, tag_height_m=1.0)
    assert sol.method.tolist() == [Method.NONE, Method.NONE, Method.PROXIMITY]
    assert np.isfinite(sol.accuracy_m).all()
