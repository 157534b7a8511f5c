"""What the pipeline hands the store each window: columns of equal-length numpy arrays. Pure numpy.

    FixBatch    one row per fix       (tag_pk, floor_id, zone_id, x_m, y_m, accuracy_m, method, stationary, seen_at_s)
    ZoneEvents  one row per enter/exit (tag_pk, zone_id, entered, at_s)
    Crossings   one row per door pass  (tag_pk, door_id, inward, at_s)

Ids are database primary keys (int64), times are unix seconds UTC (float64), `zone_id == -1` means no zone.
The constructor converts each column to its dtype when numpy can do so without changing its kind (int32 ->
int64, int64 -> int16 for `method`); anything else (floats as ids, 2-D arrays, unequal lengths, NaN
coordinates or times) is a ValueError naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
Int16 = npt.NDArray[np.int16]
Bool = npt.NDArray[np.bool_]

NO_ZONE = -1


@dataclass(frozen=True)
class _Columns:
    """Base of the batches: checks and converts the columns named in `DTYPES`."""

    DTYPES: ClassVar[dict[str, type[np.generic]]]
    FINITE: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        name = type(self).__name__
        first, length = "", 0
        for column, dtype in self.DTYPES.items():
            arr = _column(getattr(self, column), dtype=dtype, name=f"{name}.{column}")
            if first and len(arr) != length:
                raise ValueError(f"{name}.{column}: {len(arr)} rows, but {name}.{first} has {length}")
            first, length = first or column, len(arr)
            object.__setattr__(self, column, arr)
        for column in self.FINITE:
            if not np.isfinite(getattr(self, column)).all():
                raise ValueError(f"{name}.{column}: NaN or infinite values")

    @classmethod
    def empty(cls) -> Self:
        return cls(**{column: np.empty(0, dtype) for column, dtype in cls.DTYPES.items()})

    def __len__(self) -> int:
        return len(getattr(self, next(iter(self.DTYPES))))

    def take(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.integer[Any]]) -> Self:
        """The rows picked by a boolean mask or an index array, as a batch of the same kind."""
        return type(self)(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


# which kinds of array a column of each kind accepts (b bool, i signed, u unsigned, f float)
_ACCEPTS = {"b": "b", "i": "iu", "f": "fiu"}


def _column(value: Any, *, dtype: type[np.generic], name: str) -> npt.NDArray[Any]:
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    want = np.dtype(dtype)
    if arr.dtype == want:
        return arr
    if len(arr) and arr.dtype.kind not in _ACCEPTS[want.kind]:
        raise ValueError(f"{name}: expected {want}, got {arr.dtype}")
    converted = arr.astype(want)
    if want.kind == "i" and len(arr) and not np.array_equal(converted, arr):
        raise ValueError(f"{name}: values do not fit in {want}")
    return converted


@dataclass(frozen=True)
class FixBatch(_Columns):
    """Positions of one window, one row per fix (a tag may appear more than once)."""

    DTYPES: ClassVar[dict[str, type[np.generic]]] = {
        "tag_pk": np.int64, "floor_id": np.int64, "zone_id": np.int64, "x_m": np.float64, "y_m": np.float64,
        "accuracy_m": np.float64, "method": np.int16, "stationary": np.bool_, "seen_at_s": np.float64,
    }
    FINITE: ClassVar[tuple[str, ...]] = ("x_m", "y_m", "accuracy_m", "seen_at_s")

    tag_pk: Int
    floor_id: Int
    zone_id: Int  # NO_ZONE (-1) = outside every zone
    x_m: Float
    y_m: Float
    accuracy_m: Float
    method: Int16  # tracking.models.Method
    stationary: Bool
    seen_at_s: Float  # unix seconds, UTC


@dataclass(frozen=True)
class ZoneEvents(_Columns):
    """Zone entries (`entered`) and exits (`~entered`) of one window."""

    DTYPES: ClassVar[dict[str, type[np.generic]]] = {
        "tag_pk": np.int64, "zone_id": np.int64, "entered": np.bool_, "at_s": np.float64,
    }
    FINITE: ClassVar[tuple[str, ...]] = ("at_s",)

    tag_pk: Int
    zone_id: Int
    entered: Bool  # False = exited
    at_s: Float


@dataclass(frozen=True)
class Crossings(_Columns):
    """Door passes of one window; `inward` = from the door's from_zone to its to_zone (direction "in")."""

    DTYPES: ClassVar[dict[str, type[np.generic]]] = {
        "tag_pk": np.int64, "door_id": np.int64, "inward": np.bool_, "at_s": np.float64,
    }
    FINITE: ClassVar[tuple[str, ...]] = ("at_s",)

    tag_pk: Int
    door_id: Int
    inward: Bool
    at_s: Float
