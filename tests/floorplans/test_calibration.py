"""Pixel <-> metre calibration of plan images, and the WGS84 geo-reference (pure)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from floorplans.calibration import Affine, CalibrationError, GeoReference, fit_affine

# a plan at 20 px/m with y flipped: px = 40 + 20 x,  py = 500 - 20 y
TRUE = Affine(0.05, 0.0, -2.0, 0.0, -0.05, 25.0)


def test_it_fits_a_similarity_from_two_points_exactly() -> None:
    pixels = np.array([[40.0, 500.0], [640.0, 100.0]])
    metres = TRUE.pixels_to_metres(pixels)
    affine, residual_m = fit_affine(pixels, metres)
    np.testing.assert_allclose(affine.as_list(), TRUE.as_list(), atol=1e-12)
    assert residual_m < 1e-9


def test_it_fits_a_rotated_plan_from_two_points() -> None:
    theta = math.radians(30)
    rotated = Affine(0.05 * math.cos(theta), 0.05 * math.sin(theta), 3.0,
                     0.05 * math.sin(theta), -0.05 * math.cos(theta), 7.0)
    pixels = np.array([[10.0, 10.0], [900.0, 450.0]])
    affine, _ = fit_affine(pixels, rotated.pixels_to_metres(pixels))
    probe = np.array([[123.0, 456.0], [700.0, 20.0]])
    np.testing.assert_allclose(affine.pixels_to_metres(probe), rotated.pixels_to_metres(probe), atol=1e-9)


def test_it_round_trips_pixels_and_metres_with_a_noisy_affine_fit() -> None:
    rng = np.random.default_rng(7)
    pixels = rng.uniform(0, 1000, size=(8, 2))
    metres = TRUE.pixels_to_metres(pixels) + rng.normal(0, 0.02, size=(8, 2))
    affine, residual_m = fit_affine(pixels, metres)
    assert 0.005 < residual_m < 0.05
    probe_m = rng.uniform(0, 30, size=(50, 2))
    np.testing.assert_allclose(affine.pixels_to_metres(affine.metres_to_pixels(probe_m)), probe_m, atol=1e-9)
    np.testing.assert_allclose(affine.metres_to_pixels(probe_m), TRUE.metres_to_pixels(probe_m), atol=2.0)
    assert affine.metres_per_pixel() == pytest.approx(0.05, rel=0.02)


@pytest.mark.parametrize(("pixels", "metres", "message"), [
    ([[0, 0]], [[0, 0]], "at least 2"),
    ([[5, 5], [5, 5]], [[0, 0], [1, 1]], "coincide"),
    ([[0, 0], [1, 1], [2, 2]], [[0, 0], [1, 1], [2, 2]], "collinear"),
    ([[0, 0], [1, 1]], [[0, 0]], "2 pixel points but 1"),
    ([[0, 0, 0], [1, 1, 1]], [[0, 0], [1, 1]], "shape (n, 2)"),
])
def test_it_rejects_control_points_that_define_no_transform(pixels: list[list[float]], metres: list[list[float]],
                                                            message: str) -> None:
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_affine(np.array(pixels, dtype=float), np.array(metres, dtype=float))


def test_it_places_floor_metres_on_the_earth() -> None:
    ref = GeoReference(origin_lat=51.5, origin_lon=-0.12, rotation_deg=0.0)
    lonlat = ref.metres_to_lonlat(np.array([[0.0, 0.0], [0.0, 111.32], [100.0, 0.0]]))
    np.testing.assert_allclose(lonlat[0], [-0.12, 51.5])
    assert lonlat[1, 1] - 51.5 == pytest.approx(0.001, rel=0.01)  # ~111 m per 0.001° of latitude
    east_m = (lonlat[2, 0] + 0.12) * math.pi / 180 * 6_378_137 * math.cos(math.radians(51.5))
    assert east_m == pytest.approx(100.0, rel=1e-6)


def test_it_turns_the_floor_with_its_rotation() -> None:
    ref = GeoReference(origin_lat=0.0, origin_lon=0.0, rotation_deg=90.0)  # +x points north
    lon, lat = ref.metres_to_lonlat(np.array([[1000.0, 0.0]]))[0]
    assert abs(lon) < 1e-9
    assert lat > 0.008
