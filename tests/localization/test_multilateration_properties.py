"""Property tests of the batched solver (hypothesis, derandomized so every run draws the same cases)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracking.localization.multilateration import Method, multilaterate

PROPERTY = settings(derandomize=True, max_examples=40, deadline=None)
TAG_HEIGHT_M = 1.1


@st.composite
def scenes(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """A well-conditioned scene: 4-7 anchors spread round a 10 m circle (2-3.5 m high) and 1-6 tags inside."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k, n = draw(st.integers(4, 7)), draw(st.integers(1, 6))
    angle = 2 * np.pi * (np.arange(k) + rng.uniform(-0.3, 0.3, k)) / k
    centre = rng.uniform(-50, 50, 2)
    anchors = np.column_stack([centre + 10 * np.column_stack([np.cos(angle), np.sin(angle)]), rng.uniform(2, 3.5, k)])
    radius, bearing = 6 * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0, 2 * np.pi, n)
    return anchors, centre + np.column_stack([radius * np.cos(bearing), radius * np.sin(bearing)])


def ranges_to(truth: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    p = np.column_stack([truth, np.full(len(truth), TAG_HEIGHT_M)])
    return np.asarray(np.linalg.norm(p[:, None, :] - anchors[None, :, :], axis=2))


@PROPERTY
@given(scenes())
def test_it_recovers_the_point_from_noise_free_ranges(scene: tuple[np.ndarray, np.ndarray]) -> None:
    anchors, truth = scene
    sol = multilaterate(anchors, ranges_to(truth, anchors), tag_height_m=TAG_HEIGHT_M)
    np.testing.assert_allclose(sol.xy_m, truth, atol=1e-6)
    assert (sol.method == Method.MULTILATERATION).all()


@PROPERTY
@given(scenes(), st.floats(0, 2 * np.pi), st.floats(-100, 100), st.floats(-100, 100))
def test_it_moves_the_answer_with_a_rigid_motion_of_the_scene(
    scene: tuple[np.ndarray, np.ndarray], turn: float, shift_x: float, shift_y: float
) -> None:
    anchors, truth = scene
    ranges = ranges_to(truth, anchors) + np.random.default_rng(5).normal(0, 0.1, (len(truth), len(anchors)))
    rot, shift = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]), np.array([shift_x, shift_y])
    moved = np.column_stack([anchors[:, :2] @ rot.T + shift, anchors[:, 2]])  # ranges do not change
    before = multilaterate(anchors, ranges, tag_height_m=TAG_HEIGHT_M)
    after = multilaterate(moved, ranges, tag_height_m=TAG_HEIGHT_M)
    np.testing.assert_allclose(after.xy_m, before.xy_m @ rot.T + shift, atol=1e-6)
    np.testing.assert_allclose(after.accuracy_m, before.accuracy_m, rtol=1e-6)


@PROPERTY
@given(scenes(), st.integers(0, 2**32 - 1))
def test_it_answers_a_batch_as_it_answers_each_tag_alone(scene: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    anchors, truth = scene
    rng = np.random.default_rng(seed)
    ranges = ranges_to(truth, anchors) + rng.normal(0, 0.1, (len(truth), len(anchors)))
    ranges[rng.uniform(size=ranges.shape) < 0.2] = np.nan  # some anchors not heard
    batch = multilaterate(anchors, ranges, tag_height_m=TAG_HEIGHT_M)
    for i in range(len(truth)):
        one = multilaterate(anchors, ranges[i : i + 1], tag_height_m=TAG_HEIGHT_M)
        np.testing.assert_allclose(batch.xy_m[i], one.xy_m[0], atol=1e-9)
        np.testing.assert_allclose(batch.accuracy_m[i], one.accuracy_m[0], atol=1e-9)
        assert batch.method[i] == one.method[0]


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3], [1, 2, 3, 4, 0]])
def test_it_gives_the_same_answer_whatever_the_order_of_the_anchors(order: list[int]) -> None:
    rng = np.random.default_rng(11)
    anchors = np.array([[0.0, 0.0, 2.5], [10.0, 0.0, 2.5], [10.0, 8.0, 1.0], [0.0, 8.0, 2.5], [5.0, 4.0, 3.0]])
    truth = rng.uniform([0, 0], [10, 8], (8, 2))
    ranges = ranges_to(truth, anchors) + rng.normal(0, 0.1, (8, 5))
    ranges[2, 1] = ranges[5, 4] = np.nan
    ranges[3, 0] += 3.0  # an outlier goes with its anchor
    base = multilaterate(anchors, ranges, tag_height_m=TAG_HEIGHT_M)
    perm = multilaterate(anchors[order], ranges[:, order], tag_height_m=TAG_HEIGHT_M)
    np.testing.assert_allclose(perm.xy_m, base.xy_m, atol=1e-9)
    np.testing.assert_allclose(perm.accuracy_m, base.accuracy_m, atol=1e-9)
