"""HistoryGate: which fixes go to history (first fix, moved, zone/floor changed, still too long; never stale)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tracking.store
from tracking.store.fixes import FixBatch
from tracking.store.gate import HistoryGate

Row = tuple[int, int, int, float, float, float]  # tag, floor, zone, x_m, y_m, seen_at_s


def batch(rows: list[Row]) -> FixBatch:
    if not rows:
        return FixBatch.empty()
    tag, floor, zone, x_m, y_m, t_s = (np.array(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return FixBatch(tag_pk=tag, floor_id=floor, zone_id=zone, x_m=x_m, y_m=y_m, accuracy_m=np.ones(n),
                    method=np.zeros(n, np.int16), stationary=np.zeros(n, bool), seen_at_s=t_s + 1.8e9)


# each case: the batches in turn, and what select() returns for each (min_move_m 1, still_every_s 30)
CASES: dict[str, tuple[list[list[Row]], list[list[bool]]]] = {
    "first fix of a tag": ([[(1, 1, 5, 0, 0, 0)]], [[True]]),
    "small moves are not written": ([[(1, 1, 5, 0, 0, 0)], [(1, 1, 5, 0.5, 0, 1)], [(1, 1, 5, 0.9, 0.3, 2)]],
                                    [[True], [False], [False]]),
    "a 1 m move is": ([[(1, 1, 5, 0, 0, 0)], [(1, 1, 5, 0.6, 0.8, 1)]], [[True], [True]]),
    "moves add up from the last written fix": (
        [[(1, 1, 5, 0, 0, 0)], [(1, 1, 5, 0.6, 0, 1)], [(1, 1, 5, 1.2, 0, 2)], [(1, 1, 5, 1.8, 0, 3)]],
        [[True], [False], [True], [False]]),
    "zone change": ([[(1, 1, 5, 0, 0, 0)], [(1, 1, 6, 0.1, 0, 1)]], [[True], [True]]),
    "leaving every zone": ([[(1, 1, 5, 0, 0, 0)], [(1, 1, -1, 0.1, 0, 1)]], [[True], [True]]),
    "floor change": ([[(1, 1, 5, 0, 0, 0)], [(1, 2, 5, 0, 0, 1)]], [[True], [True]]),
    "still for 30 s": ([[(1, 1, 5, 0, 0, 0)], [(1, 1, 5, 0, 0, 29.9)], [(1, 1, 5, 0, 0, 30)], [(1, 1, 5, 0, 0, 59)]],
                       [[True], [False], [True], [False]]),
    "stale or repeated fixes never": ([[(1, 1, 5, 0, 0, 10)], [(1, 1, 6, 9, 9, 5)], [(1, 1, 6, 9, 9, 10)]],
                                      [[True], [False], [False]]),
    "tags are independent": ([[(1, 1, 5, 0, 0, 0), (2, 1, 5, 0, 0, 0)], [(2, 1, 5, 0.1, 0, 1), (1, 1, 5, 3, 0, 1)]],
                             [[True, True], [False, True]]),
    "twice in a batch: the later judged against the earlier": (
        [[(1, 1, 5, 2, 0, 1), (1, 1, 5, 0, 0, 0)], [(1, 1, 5, 2.1, 0, 2), (1, 1, 5, 3.5, 0, 3)]],
        [[True, True], [False, True]]),
    "twice in a batch, the later too close": ([[(1, 1, 5, 0, 0, 0), (1, 1, 5, 0.2, 0, 0.5)]], [[True, False]]),
    "empty batch": ([[]], [[]]),
}


@pytest.mark.parametrize("name", CASES)
def test_it_selects_fixes_by_the_rules(name: str) -> None:
    gate = HistoryGate(min_move_m=1.0, still_every_s=30.0)
    batches, expected = CASES[name]
    assert [gate.select(batch(rows)).tolist() for rows in batches] == expected


def test_it_treats_a_forgotten_tag_as_new() -> None:
    gate = HistoryGate()
    gate.select(batch([(1, 1, 5, 0, 0, 0), (2, 1, 5, 0, 0, 0)]))
    gate.forget([1])
    assert len(gate) == 1
    assert gate.select(batch([(1, 1, 5, 0, 0, 1), (2, 1, 5, 0, 0, 1)])).tolist() == [True, False]


def test_it_matches_a_per_fix_reference_on_random_walks() -> None:
    rng = np.random.default_rng(7)
    n_tags, gate = 40, HistoryGate(min_move_m=1.0, still_every_s=30.0)
    last: dict[int, tuple[float, float, int, float]] = {}  # reference state: x, y, zone, t of the last written
    for window in range(60):
        tags = rng.integers(0, n_tags, 30)  # with repeats: a tag may appear twice in a window
        t = window * 2.0 + rng.uniform(0, 2, 30)
        xy = rng.normal(0, 1.5, (30, 2)) + tags[:, None] * 10
        zone = rng.integers(0, 3, 30) * (rng.random(30) < 0.1)
        rows = [(int(k), 1, int(z), float(x), float(y), float(s))
                for k, z, (x, y), s in zip(tags, zone, xy, t, strict=True)]
        got = gate.select(batch(rows))
        for i in sorted(range(30), key=lambda i: (rows[i][0], rows[i][5])):
            k, _, z, x, y, s = rows[i]
            prev = last.get(k)
            want = prev is None or (s > prev[3] and (z != prev[2] or np.hypot(x - prev[0], y - prev[1]) >= 1.0
                                                     or s - prev[3] >= 30.0))
            assert got[i] == want, (window, rows[i], prev)
            if want:
                last[k] = (x, y, z, s)


def test_it_imports_without_django() -> None:
    script = ("import sys, tracking.store.gate, tracking.store.fixes, tracking.store; "
              "print(sorted(n for n in sys.modules if n.split('.')[0] == 'django'))")
    root = Path(tracking.store.__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
