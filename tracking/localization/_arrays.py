"""Shared array aliases and shape checks for the localization core (pure numpy)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


def as_float(a: Any, *, name: str, ndim: int, cols: int | None = None) -> Float:
    """`a` as a float64 array with `ndim` dimensions (and `cols` columns); ValueError otherwise."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != ndim or (cols is not None and arr.shape[-1] != cols):
        want = f"{ndim}-D" + (f" with {cols} columns" if cols is not None else "")
        raise ValueError(f"{name}: expected a {want} array, got shape {arr.shape}")
    return arr


def require_rows(a: Float | Int | Bool, *, name: str, rows: int) -> None:
    """Raise ValueError unless `a` has `rows` rows."""
    if a.shape[0] != rows:
        raise ValueError(f"{name}: expected {rows} rows, got shape {a.shape}")


def horizontal_and_height(anchors_m: Float) -> tuple[Float, Float]:
    """Split anchors (k, 2|3) into horizontal (k, 2) and heights (k,) (0 when 2-D)."""
    if anchors_m.ndim != 2 or anchors_m.shape[1] not in (2, 3):
        raise ValueError(f"anchors_m: expected shape (k, 2) or (k, 3), got {anchors_m.shape}")
    heights_m = anchors_m[:, 2] if anchors_m.shape[1] == 3 else np.zeros(len(anchors_m))
    return anchors_m[:, :2], heights_m


def offsets_3d(xy_m: Float, anchors_m: Float, tag_height_m: float) -> Float:
    """Vectors anchor -> tag in 3-D.

    xy_m : (n, 2)      anchors_m : (k, 2|3)      returns : (n, k, 3)

    Stored component-major (a view of (3, n, k)), so v[..., i] is a contiguous (n, k) plane: the
    batched solvers work plane by plane, and numpy is slow on a last axis of length 2 or 3.
    """
    a_xy, a_z = horizontal_and_height(anchors_m)
    v = np.empty((3, len(xy_m), len(a_xy)))
    np.subtract(xy_m[:, 0, None], a_xy[None, :, 0], out=v[0])
    np.subtract(xy_m[:, 1, None], a_xy[None, :, 1], out=v[1])
    v[2] = tag_height_m - a_z
    return v.transpose(1, 2, 0)  # = np.moveaxis(v, 0, -1), without its Python overhead


def offsets_at(xy_m: Float, anchors_m: Float, receiver: Int, tag_height_m: float) -> Float:
    """offsets_3d towards each row's own receivers only: v[i, j] = tag i - anchor receiver[i, j].

    xy_m : (n, 2)    anchors_m : (k, 2|3)    receiver : (n, m) indices    returns : (n, m, 3), stored as offsets_3d
    """
    a_xy, a_z = horizontal_and_height(anchors_m)
    v = np.empty((3, *receiver.shape))
    np.subtract(xy_m[:, 0, None], a_xy[:, 0].take(receiver), out=v[0])
    np.subtract(xy_m[:, 1, None], a_xy[:, 1].take(receiver), out=v[1])
    np.subtract(tag_height_m, a_z.take(receiver), out=v[2])
    return v.transpose(1, 2, 0)
