"""Progress arithmetic: volume infused over segments at rates, with pauses and rate changes, clamped at the
bag's volume; minutes remaining at the running rate. Exact numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infusion.progress import Segment, fraction, infused_ml, minutes_remaining, progress, remaining_ml

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(("segments", "now_min", "before_ml", "expected_ml"), [
    ([], 60, 0.0, 0.0),                                                        # never started
    ([Segment(at(0), None, 100.0)], 0, 0.0, 0.0),                              # just started
    ([Segment(at(0), None, 100.0)], 30, 0.0, 50.0),                            # half an hour at 100 mL/h
    ([Segment(at(0), None, 100.0)], 90, 20.0, 170.0),                          # plus what went in before
    ([Segment(at(0), at(30), 100.0), Segment(at(30), None, 200.0)], 60, 0.0, 150.0),   # rate change at 30 min
    ([Segment(at(0), at(30), 100.0), Segment(at(45), None, 100.0)], 75, 0.0, 100.0),   # 15 min pause
    ([Segment(at(0), at(30), 100.0)], 600, 0.0, 50.0),                         # closed segment stays closed
    ([Segment(at(0), None, 100.0)], 600, 0.0, 500.0),                          # clamped at the volume
    ([Segment(at(10), None, 100.0)], 5, 0.0, 0.0),                             # starts later than now
    ([Segment(at(0), None, 0.0)], 60, 10.0, 10.0),                             # rate 0 adds nothing
])
def test_it_adds_up_the_volume_of_each_segment(
    segments: list[Segment], now_min: float, before_ml: float, expected_ml: float
) -> None:
    assert infused_ml(segments, at(now_min), volume_ml=500.0, before_ml=before_ml) == pytest.approx(expected_ml)
    assert remaining_ml(segments, at(now_min), volume_ml=500.0, before_ml=before_ml) == pytest.approx(
        500.0 - expected_ml)
    assert fraction(segments, at(now_min), volume_ml=500.0, before_ml=before_ml) == pytest.approx(expected_ml / 500)


def test_it_gives_the_minutes_left_at_the_running_rate() -> None:
    running = [Segment(at(0), at(30), 100.0), Segment(at(30), None, 200.0)]
    # 150 mL in at 60 min, 350 mL left at 200 mL/h = 105 min
    assert minutes_remaining(running, at(60), volume_ml=500.0) == pytest.approx(105.0)
    assert minutes_remaining([Segment(at(0), at(30), 100.0)], at(60), volume_ml=500.0) is None  # paused
    assert minutes_remaining([], at(60), volume_ml=500.0) is None


def test_it_reports_everything_at_once_with_the_time_it_runs_empty() -> None:
    p = progress([Segment(at(0), None, 120.0)], at(30), volume_ml=250.0, before_ml=10.0)
    assert (p.infused_ml, p.remaining_ml, p.fraction) == pytest.approx((70.0, 180.0, 0.28))
    assert p.minutes_remaining == pytest.approx(90.0)
    assert p.empty_at == at(120)


def test_it_stops_at_empty_and_refuses_a_bag_without_volume() -> None:
    p = progress([Segment(at(0), None, 100.0)], at(400), volume_ml=500.0)
    assert (p.infused_ml, p.remaining_ml, p.fraction, p.minutes_remaining) == (500.0, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="volume_ml must be positive"):
        progress([], at(0), volume_ml=0.0)
