import numpy as np
import pytest

from tracking.localization.models import RangeModel
from tracking.localization.multilateration import Method
from tracking.localization.tracker import TagTracker, TrackerConfig
from tracking.localization.window import ReadWindow

ANCHORS = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
MODEL = RangeModel(anchors_m=ANCHORS, bias_m=np.zeros(4), sigma=np.full(4, 0.1))


def window_at(points: dict[str, tuple[float, float]], t_s: float) -> ReadWindow:
    tags, rx, t, r = [], [], [], []
    for tag, p in points.items():
        for k, a in enumerate(ANCHORS):
            tags.append(tag)
            rx.append(k)
            t.append(t_s + 0.01 * k)
            r.append(float(np.hypot(*(np.array(p) - a))))
    return ReadWindow.of(tags, rx, t, r)


def test_it_tracks_several_tags_at_once() -> None:
    tracker = TagTracker(MODEL)
    for step in range(10):
        fixes = tracker.step(window_at({"a": (2.0 + 0.1 * step, 3.0), "b": (7.0, 7.0)}, float(step)))
    by_tag = dict(zip(fixes.tag_id.tolist(), fixes.xy_m, strict=True))
    np.testing.assert_allclose(by_tag["a"], [2.9, 3.0], atol=0.1)
    np.testing.assert_allclose(by_tag["b"], [7.0, 7.0], atol=0.05)
    assert set(fixes.method.tolist()) == {Method.TRACKED}


def test_duplicate_and_out_of_order_reads_are_dropped() -> None:
    tracker = TagTracker(MODEL)
    tracker.step(window_at({"a": (5.0, 5.0)}, 10.0))
    late = window_at({"a": (9.0, 1.0)}, 5.0)  # older than what the track has absorbed
    assert len(tracker.step(late).tag_id) == 0
    w = window_at({"a": (5.0, 5.0)}, 11.0)
    doubled = ReadWindow(*(np.concatenate([v, v]) for v in (w.tag_id, w.receiver, w.t_s, w.value)))
    fixes = tracker.step(doubled)
    assert tracker.dropped == {"duplicate": 4, "stale": 4}
    np.testing.assert_allclose(fixes.xy_m[0], [5.0, 5.0], atol=0.05)


def test_reads_in_any_order_inside_a_window_give_the_same_fix() -> None:
    w = window_at({"a": (4.0, 6.0), "b": (1.0, 1.0)}, 0.0)
    rev = ReadWindow(w.tag_id[::-1].copy(), w.receiver[::-1].copy(), w.t_s[::-1].copy(), w.value[::-1].copy())
    f1, f2 = TagTracker(MODEL).step(w), TagTracker(MODEL).step(rev)
    np.testing.assert_allclose(f1.xy_m, f2.xy_m)


def test_silent_tags_age_out() -> None:
    tracker = TagTracker(MODEL, TrackerConfig(max_silence_s=30.0))
    tracker.step(window_at({"a": (1.0, 1.0), "b": (2.0, 2.0)}, 0.0))
    tracker.step(window_at({"b": (2.0, 2.0)}, 25.0))
    assert tracker.age_out(now_s=40.0).tolist() == ["a"]
    assert tracker.tag_id.tolist() == ["b"]


def test_a_tag_heard_by_one_anchor_gets_a_proximity_fix_and_starts_later() -> None:
    tracker = TagTracker(MODEL)
    first = tracker.step(ReadWindow.of(["a"], [0], [0.0], [1.0]))
    assert first.method.tolist() == [Method.PROXIMITY]
    started = tracker.step(ReadWindow.of(["a", "a"], [1, 2], [0.1, 0.2], [9.06, 12.8]))
    assert started.method.tolist() == [Method.MULTILATERATION]
    assert tracker.tag_id.tolist() == ["a"]


def test_stationary_tags_are_flagged() -> None:
    tracker = TagTracker(MODEL, TrackerConfig(stationary_after_s=5.0))
    flags = [bool(tracker.step(window_at({"a": (3.0, 3.0)}, float(t))).stationary[0]) for t in range(8)]
    assert flags[:5] == [False] * 5 and flags[-1]


def test_external_fix_far_away_is_gated_until_it_persists() -> None:
    tracker = TagTracker(MODEL, TrackerConfig(reinit_after_rejections=3))
    for t in range(5):
        tracker.step(window_at({"a": (2.0, 2.0)}, float(t)))
    far, cov = np.array([[9.0, 9.0]]), np.eye(2)[None] * 0.25
    results = [bool(tracker.update_positions(np.array(["a"]), far, cov, np.array([5.0 + i]))[0]) for i in range(3)]
    assert results == [False, False, True]  # third time in a row: the tag really moved
    np.testing.assert_allclose(tracker.x[0, :2], [9.0, 9.0])


def test_bad_window_shapes_raise() -> None:
    with pytest.raises(ValueError, match="shape \\(N,\\)"):
        ReadWindow(np.array(["a"]), np.array([0, 1]), np.array([0.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="receiver indices"):
        TagTracker(MODEL).step(ReadWindow.of(["a"], [7], [0.0], [1.0]))


def test_it_forgets_tags_and_keeps_the_others() -> None:
    tracker = TagTracker(MODEL)
    for t in range(3):
        tracker.step(window_at({"a": (2.0, 2.0), "b": (7.0, 7.0), "c": (5.0, 1.0)}, float(t)))
    tracker.step(ReadWindow.of(["d"], [0], [3.0], [1.0]))  # heard once: pending, no track yet
    b_before = tracker.x[tracker.rows(np.array(["b"]))[0]].copy()
    tracker.forget(np.array(["a", "d", "never-seen"]))
    assert tracker.tag_id.tolist() == ["b", "c"]
    assert tracker.rows(np.array(["a", "b", "c", "d"])).tolist() == [-1, 0, 1, -1]
    np.testing.assert_array_equal(tracker.x[0], b_before)
    assert len(tracker._pending.tag_id) == 0
    again = tracker.step(window_at({"a": (9.0, 9.0), "b": (7.0, 7.0)}, 4.0))  # "a" starts afresh, where it is now
    by_tag = dict(zip(again.tag_id.tolist(), again.method.tolist(), strict=True))
    assert by_tag == {"a": Method.MULTILATERATION, "b": Method.TRACKED}
    np.testing.assert_allclose(again.xy_m[again.tag_id == "a"][0], [9.0, 9.0], atol=0.05)


def test_it_reports_nothing_new_for_a_window_of_tracked_tags_only() -> None:
    tracker = TagTracker(MODEL)
    tracker.step(window_at({"a": (2.0, 2.0)}, 0.0))
    fixes = tracker.step(window_at({"a": (2.1, 2.0)}, 1.0))
    assert fixes.method.tolist() == [Method.TRACKED]
    assert len(tracker._pending.tag_id) == 0
