"""Pixel <-> metre transforms for floor plan images, and floor metres -> WGS84. Pure numpy.

A plan image has pixels (px right, py down); the floor frame has metres (x right, y up). The map is
an affine  [x, y]' = A [px, py]' + t, kept as six numbers (a, b, c, d, e, f):
    x_m = a*px + b*py + c
    y_m = d*px + e*py + f
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Float = npt.NDArray[np.float64]

EARTH_RADIUS_M = 6_378_137.0  # WGS84 equatorial radius


class CalibrationError(ValueError):
    """Control points that cannot define a transform."""


@dataclass(frozen=True, slots=True)
class Affine:
    """x_m = a*px + b*py + c,  y_m = d*px + e*py + f."""

    a: float
    b: float
    c: float
    d: float
    e: float
    f: float

    def as_list(self) -> list[float]:
        return [self.a, self.b, self.c, self.d, self.e, self.f]

    @classmethod
    def from_list(cls, values: list[float]) -> Affine:
        if len(values) != 6:
            raise CalibrationError(f"an affine has 6 coefficients, got {len(values)}")
        return cls(*(float(v) for v in values))

    def matrix(self) -> Float:
        """3x3 homogeneous matrix mapping [px, py, 1] to [x_m, y_m, 1]."""
        return np.array([[self.a, self.b, self.c], [self.d, self.e, self.f], [0.0, 0.0, 1.0]])

    def pixels_to_metres(self, pixels: Float) -> Float:
        """pixels : (n, 2) [px, py]  ->  (n, 2) [x_m, y_m]."""
        pts = _as_points(pixels)
        metres: Float = pts @ self.matrix()[:2, :2].T + self.matrix()[:2, 2]
        return metres

    def metres_to_pixels(self, metres: Float) -> Float:
        """metres : (n, 2) [x_m, y_m]  ->  (n, 2) [px, py]."""
        pts = _as_points(metres)
        inverse = np.linalg.inv(self.matrix())
        pixels: Float = pts @ inverse[:2, :2].T + inverse[:2, 2]
        return pixels

    def metres_per_pixel(self) -> float:
        """Mean linear scale (square root of the area scale)."""
        return math.sqrt(abs(self.a * self.e - self.b * self.d))


def _as_points(points: Float) -> Float:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise CalibrationError(f"points must have shape (n, 2), got {pts.shape}")
    return pts


def fit_affine(pixels: Float, metres: Float) -> tuple[Affine, float]:
    """Fit the pixel -> metre map from control points; returns (affine, RMS residual in metres).

    pixels, metres : (n, 2), n >= 2.  With n == 2 a similarity (scale, rotation, translation, and the
    y flip of image rows) is fitted exactly; with n >= 3 a full affine by least squares.
    """
    px, xy = _as_points(pixels), _as_points(metres)
    if len(px) != len(xy):
        raise CalibrationError(f"{len(px)} pixel points but {len(xy)} metre points")
    if len(px) < 2:
        raise CalibrationError("need at least 2 control points")
    if np.linalg.norm(px[1:] - px[0], axis=1).max() < 1e-9:
        raise CalibrationError("control points coincide in the image")
    affine = _fit_similarity(px, xy) if len(px) == 2 else _fit_full(px, xy)
    residual_m = affine.pixels_to_metres(px) - xy
    return affine, float(np.sqrt((residual_m**2).sum(axis=1).mean()))


def _fit_similarity(px: Float, xy: Float) -> Affine:
    # flip image rows (py down -> up), then z_m = s*e^{i theta} * z_px + t with complex numbers
    z_px = px[:, 0] - 1j * px[:, 1]
    z_m = xy[:, 0] + 1j * xy[:, 1]
    k = (z_m[1] - z_m[0]) / (z_px[1] - z_px[0])
    t = z_m[0] - k * z_px[0]
    # x + iy = k * (px - i py) + t  =>  x = Re(k) px + Im(k) py + Re(t);  y = Im(k) px - Re(k) py + Im(t)
    return Affine(k.real, k.imag, t.real, k.imag, -k.real, t.imag)


def _fit_full(px: Float, xy: Float) -> Affine:
    # [px py 1] [a d; b e; c f] = [x y]  (least squares)
    design = np.column_stack([px, np.ones(len(px))])
    if np.linalg.matrix_rank(design) < 3:
        raise CalibrationError("control points are collinear; need 3 points not on one line")
    coef, *_ = np.linalg.lstsq(design, xy, rcond=None)
    return Affine(coef[0, 0], coef[1, 0], coef[2, 0], coef[0, 1], coef[1, 1], coef[2, 1])


@dataclass(frozen=True, slots=True)
class GeoReference:
    """Where the floor's origin is on Earth and which way its +x axis points.

    rotation_deg: angle from east to the floor's +x axis, counter-clockwise (0: +x east, +y north).
    """

    origin_lat: float
    origin_lon: float
    rotation_deg: float = 0.0

    def metres_to_lonlat(self, metres: Float) -> Float:
        """(n, 2) floor metres -> (n, 2) [lon, lat] degrees (local tangent plane; < 1 mm error at 1 km)."""
        pts = _as_points(metres)
        theta = math.radians(self.rotation_deg)
        east = pts[:, 0] * math.cos(theta) - pts[:, 1] * math.sin(theta)
        north = pts[:, 0] * math.sin(theta) + pts[:, 1] * math.cos(theta)
        lat = self.origin_lat + np.degrees(north / EARTH_RADIUS_M)
        lon = self.origin_lon + np.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(self.origin_lat))))
        return np.column_stack([lon, lat])
