"""aggregate: one mean reading per (tag, receiver) from a window of reads, integer-coded once per window."""

import numpy as np
import pytest

from tracking.localization.window import ReadWindow, aggregate

READS = ReadWindow.of(  # tag, receiver, t_s, value
    ["b", "a", "b", "a", "a", "c", "b"],
    [0, 1, 0, 1, 2, 0, 1],
    [10.0, 10.1, 10.2, 10.1, 10.3, 9.0, 10.2],
    [-60.0, -70.0, -62.0, -71.0, -80.0, -50.0, -65.0],
)


@pytest.mark.parametrize(("horizon_s", "tags", "z_row0", "t_last", "duplicates", "stale"), [
    # a's read at 10.1 on receiver 1 comes twice: the first counts; b averages two reads on receiver 0
    (None, ["a", "b", "c"], [0.0, -70.0, -80.0], [10.3, 10.2, 9.0], 1, 0),
    # a's track absorbed up to 10.2 (its 10.3 read stays), c's up to 9.0 (nothing left), b none
    ([10.2, -np.inf, 9.0], ["a", "b"], [0.0, 0.0, -80.0], [10.3, 10.2], 1, 2),
])
def test_it_aggregates_fresh_distinct_reads(horizon_s: list[float] | None, tags: list[str], z_row0: list[float],
                                            t_last: list[float], duplicates: int, stale: int) -> None:
    agg = aggregate(READS, n_receivers=3, horizon_s=None if horizon_s is None else np.array(horizon_s))
    assert agg.tag_id.tolist() == tags
    assert READS.tag_codes[0][agg.tag_index].tolist() == tags
    np.testing.assert_allclose(agg.z[0], z_row0)
    np.testing.assert_allclose(agg.t_last_s, t_last)
    assert (agg.duplicates, agg.stale) == (duplicates, stale)
    b = tags.index("b")
    np.testing.assert_allclose(agg.z[b], [-61.0, -65.0, 0.0])
    np.testing.assert_allclose(agg.counts[b], [2, 1, 0])
    np.testing.assert_allclose(agg.t_s[b], (10.0 + 10.2 + 10.2) / 3)


def test_it_does_not_depend_on_the_order_of_the_reads() -> None:
    order = np.random.default_rng(1).permutation(len(READS.tag_id))
    shuffled = ReadWindow(*(getattr(READS, f)[order] for f in ("tag_id", "receiver", "t_s", "value")))
    a, b = aggregate(READS, n_receivers=3), aggregate(shuffled, n_receivers=3)
    assert a.tag_id.tolist() == b.tag_id.tolist()
    np.testing.assert_allclose(a.z, b.z)
    np.testing.assert_allclose(a.t_s, b.t_s)


def test_an_empty_window_aggregates_to_nothing() -> None:
    agg = aggregate(ReadWindow.of([], [], [], []), n_receivers=3, horizon_s=np.zeros(0))
    assert agg.z.shape == (0, 3) and agg.tag_index.shape == (0,) and (agg.duplicates, agg.stale) == (0, 0)
