"""How much of a bag has gone in: pure arithmetic over infusion segments (no Django, no database).

A segment is a stretch at one rate: (start, end or None while it runs, rate_ml_h). Pauses are the gaps
between segments; a rate change closes one segment and opens the next. The volume infused is

    infused_ml = infused_before_ml + sum(rate_ml_h * hours(start, min(end or now, now)))

clamped to [0, volume_ml] (a pump stops at empty), and the time remaining is remaining_ml / current rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Segment:
    start: datetime
    end: datetime | None  # None: still running
    rate_ml_h: float


@dataclass(frozen=True, slots=True)
class Progress:
    infused_ml: float
    remaining_ml: float
    fraction: float  # infused / volume, 0..1
    minutes_remaining: float | None  # None when not running (paused, not started, rate 0)
    empty_at: datetime | None  # when the running segment reaches the volume


def segment_ml(segment: Segment, now: datetime) -> float:
    """Volume of one segment up to `now` (a segment that starts after now gives 0)."""
    end = now if segment.end is None or segment.end > now else segment.end
    hours = max(0.0, (end - segment.start).total_seconds() / SECONDS_PER_HOUR)
    return max(0.0, segment.rate_ml_h) * hours


def infused_ml(segments: Sequence[Segment], now: datetime, *, volume_ml: float, before_ml: float = 0.0) -> float:
    """Volume infused by `now`: before_ml plus every segment, clamped to [0, volume_ml]."""
    total = before_ml + sum(segment_ml(s, now) for s in segments)
    return min(max(total, 0.0), volume_ml)


def remaining_ml(segments: Sequence[Segment], now: datetime, *, volume_ml: float, before_ml: float = 0.0) -> float:
    return volume_ml - infused_ml(segments, now, volume_ml=volume_ml, before_ml=before_ml)


def fraction(segments: Sequence[Segment], now: datetime, *, volume_ml: float, before_ml: float = 0.0) -> float:
    return infused_ml(segments, now, volume_ml=volume_ml, before_ml=before_ml) / volume_ml


def minutes_remaining(
    segments: Sequence[Segment], now: datetime, *, volume_ml: float, before_ml: float = 0.0
) -> float | None:
    """Minutes until empty at the running segment's rate; None unless a segment runs (open, rate > 0)."""
    running = _running(segments, now)
    if running is None:
        return None
    left = remaining_ml(segments, now, volume_ml=volume_ml, before_ml=before_ml)
    return left / running.rate_ml_h * 60.0


def progress(segments: Sequence[Segment], now: datetime, *, volume_ml: float, before_ml: float = 0.0) -> Progress:
    """All of the above at once."""
    if volume_ml <= 0:
        raise ValueError(f"volume_ml must be positive, not {volume_ml}")
    done = infused_ml(segments, now, volume_ml=volume_ml, before_ml=before_ml)
    left = volume_ml - done
    running = _running(segments, now)
    minutes = None if running is None else left / running.rate_ml_h * 60.0
    empty_at = None if minutes is None else now + timedelta(minutes=minutes)
    return Progress(infused_ml=done, remaining_ml=left, fraction=done / volume_ml, minutes_remaining=minutes,
                    empty_at=empty_at)


def _running(segments: Sequence[Segment], now: datetime) -> Segment | None:
    for segment in segments:
        if segment.end is None and segment.start <= now and segment.rate_ml_h > 0:
            return segment
    return None
