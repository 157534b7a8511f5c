"""The batch types check their columns: shapes, kinds, lengths, finite times and coordinates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tracking.store.fixes import Crossings, FixBatch, ZoneEvents


def columns(n: int = 3, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tag_pk": np.arange(n), "floor_id": np.ones(n, np.int64), "zone_id": np.full(n, -1),
        "x_m": np.linspace(0, 1, n), "y_m": np.zeros(n), "accuracy_m": np.ones(n), "method": np.zeros(n, np.int16),
        "stationary": np.zeros(n, bool), "seen_at_s": np.full(n, 1.8e9),
    }
    return base | changes


@pytest.mark.parametrize(("changes", "message"), [
    ({"tag_pk": np.arange(4)}, "FixBatch.floor_id: 3 rows, but FixBatch.tag_pk has 4"),
    ({"x_m": np.zeros((3, 1))}, "FixBatch.x_m: expected a 1-D array"),
    ({"tag_pk": np.array([1.0, 2.0, 3.0])}, "FixBatch.tag_pk: expected int64, got float64"),
    ({"stationary": np.array([0, 1, 0])}, "FixBatch.stationary: expected bool"),
    ({"method": np.array([0, 1, 70_000])}, "FixBatch.method: values do not fit in int16"),
    ({"seen_at_s": np.array([1.8e9, np.nan, 1.8e9])}, "FixBatch.seen_at_s: NaN or infinite"),
    ({"y_m": np.array([0.0, np.inf, 0.0])}, "FixBatch.y_m: NaN or infinite"),
])
def test_it_rejects_bad_columns_with_their_name(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        FixBatch(**columns(**changes))


def test_it_converts_columns_of_the_same_kind() -> None:
    batch = FixBatch(**columns(tag_pk=np.arange(3, dtype=np.int32), method=np.array([0, 2, 4]),
                               x_m=np.array([1, 2, 3]), seen_at_s=[1.8e9, 1.8e9, 1.8e9]))
    dtypes = [batch.tag_pk.dtype, batch.method.dtype, batch.x_m.dtype, batch.seen_at_s.dtype]
    assert dtypes == [np.dtype(np.int64), np.dtype(np.int16), np.dtype(np.float64), np.dtype(np.float64)]


@pytest.mark.parametrize("kind", [FixBatch, ZoneEvents, Crossings])
def test_it_makes_empty_batches_of_every_kind(kind: type[FixBatch | ZoneEvents | Crossings]) -> None:
    empty = kind.empty()
    assert len(empty) == 0
    assert len(empty.take(np.zeros(0, bool))) == 0


def test_it_takes_rows_by_mask_and_by_index() -> None:
    batch = FixBatch(**columns(4))
    assert batch.take(np.array([True, False, True, False])).tag_pk.tolist() == [0, 2]
    assert batch.take(np.array([3, 1])).x_m.tolist() == pytest.approx([1.0, 1 / 3])


def test_it_is_frozen() -> None:
    batch = ZoneEvents(tag_pk=np.array([1]), zone_id=np.array([2]), entered=np.array([True]), at_s=np.array([1.8e9]))
    with pytest.raises(AttributeError):
        batch.tag_pk = np.array([3])  # type: ignore[misc]
