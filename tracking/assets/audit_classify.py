"""Audit classification: what an audit says about each asset, from where it was last seen. Pure, no Django.

An audit covers an *area* (zone ids: the chosen zones and the zones inside them, or a department's ward and
its zones) and *expects* some assets there (home zone in the area, or owned by the department). For each:

    seen in the area within seen_within_h                         -> found
    last seen outside the area, within missing_after_days         -> misplaced (with where and when)
    last seen in the area, but longer ago than seen_within_h       -> not_seen ("not seen here lately")
    seen nowhere for missing_after_days (or never)                 -> missing

An asset that is not expected but was seen in the area within seen_within_h is `unexpected` ("found here,
belongs elsewhere"). A handheld sweep verifies by reading tags: there `found` needs a read during the
sweep (`reads`); an expected asset the RTLS places in the area but the sweep did not read is `not_seen`,
which for a sweep reads "not reached by the sweep" (`result_label`), however fresh the RTLS sighting: the
reports put the RTLS's last place and time beside it, so "the sweep missed it" (seen here minutes ago) and
"it is gone" (seen here days ago) are told apart. Hands-free audits keep "not seen here lately".

PM flags: overdue when pm_due_on is before the audit's day, due when it falls within pm_due_within_days
(overdue assets are due as well).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

PM_DUE_WITHIN_DAYS = 30


class Result(StrEnum):
    """The values of tracking.models.AuditItem.Result."""

    FOUND = "found"
    MISPLACED = "misplaced"
    MISSING = "missing"
    NOT_SEEN = "not_seen"
    UNEXPECTED = "unexpected"


RESULT_LABELS: Final = {  # in report order: worst first
    Result.MISSING: "missing (seen nowhere)", Result.MISPLACED: "misplaced (seen elsewhere)",
    Result.NOT_SEEN: "not seen here lately", Result.UNEXPECTED: "found here, belongs elsewhere", Result.FOUND: "found",
}
SWEEP_RESULT_LABELS: Final = RESULT_LABELS | {Result.NOT_SEEN: "not reached by the sweep"}
READ_BY_SWEEP: Final = frozenset({Result.FOUND, Result.UNEXPECTED})


def result_label(result: str, *, sweep: bool) -> str:
    """A result in words, for a handheld sweep (sweep=True) or a hands-free audit. ValueError: no such result."""
    return (SWEEP_RESULT_LABELS if sweep else RESULT_LABELS)[Result(result)]


def seen_by(result: str, *, sweep: bool) -> str:
    """Whose sighting an item's place and time are: "sweep" (read by the handheld) or "rtls" (the last fix)."""
    return "sweep" if sweep and Result(result) in READ_BY_SWEEP else "rtls"


@dataclass(frozen=True, slots=True)
class AssetFacts:
    """What the audit knows about one asset: is it expected, where was it last seen (None: never)."""

    asset_id: int
    expected: bool
    zone_id: int | None = None  # the most specific zone of its last sighting (None: in no zone, or never seen)
    seen_at: datetime | None = None
    pm_due_on: date | None = None


@dataclass(frozen=True, slots=True)
class SweepRead:
    """An asset read by a handheld sweep: when first, and the zone the sweep credits it to (None: unknown)."""

    seen_at: datetime
    zone_id: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    asset_id: int
    result: Result
    seen_zone_id: int | None
    seen_at: datetime | None
    pm_due: bool
    pm_overdue: bool

    @property
    def verified(self) -> bool:
        """Whether the audit saw the asset in a place just now (found, or found here though it belongs
        elsewhere): the audit writes an AssetVerification for it."""
        return self.result in (Result.FOUND, Result.UNEXPECTED)


@dataclass(frozen=True, slots=True)
class Thresholds:
    now: datetime
    seen_within_h: float
    missing_after_days: float
    pm_due_within_days: int = PM_DUE_WITHIN_DAYS

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if self.seen_within_h <= 0 or self.missing_after_days <= 0:
            raise ValueError(f"seen_within_h {self.seen_within_h} and missing_after_days {self.missing_after_days} "
                             "must be > 0")
        if self.seen_within_h > self.missing_after_days * 24:
            raise ValueError(f"seen within {self.seen_within_h} h is longer than missing after "
                             f"{self.missing_after_days} days")


def pm_flags(pm_due_on: date | None, *, today: date, within_days: int = PM_DUE_WITHIN_DAYS) -> tuple[bool, bool]:
    """(due, overdue) of a preventive-maintenance date on `today`."""
    if pm_due_on is None:
        return False, False
    return pm_due_on <= today + timedelta(days=within_days), pm_due_on < today


def classify(facts: Iterable[AssetFacts], *, area: frozenset[int], limits: Thresholds,
             reads: Mapping[int, SweepRead] | None = None) -> list[Verdict]:
    """One verdict per expected asset, and per unexpected asset seen in the area (others are left out).

    reads: None for a hands-free audit; a handheld sweep's reads by asset id otherwise.
    """
    verdicts = []
    for fact in facts:
        verdict = _verdict(fact, area=area, limits=limits, reads=reads)
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts


def _verdict(fact: AssetFacts, *, area: frozenset[int], limits: Thresholds,
             reads: Mapping[int, SweepRead] | None) -> Verdict | None:
    due, overdue = pm_flags(fact.pm_due_on, today=limits.now.date(), within_days=limits.pm_due_within_days)

    def verdict(result: Result, zone_id: int | None, seen_at: datetime | None) -> Verdict:
        return Verdict(fact.asset_id, result, zone_id, seen_at, due, overdue)

    if reads is not None and fact.asset_id in reads:
        read = reads[fact.asset_id]
        return verdict(Result.FOUND if fact.expected else Result.UNEXPECTED, read.zone_id, read.seen_at)
    age = None if fact.seen_at is None else max(limits.now - fact.seen_at, timedelta(0))
    in_area = fact.zone_id is not None and fact.zone_id in area
    fresh = age is not None and age <= timedelta(hours=limits.seen_within_h)
    if not fact.expected:
        if reads is None and in_area and fresh:
            return verdict(Result.UNEXPECTED, fact.zone_id, fact.seen_at)
        return None
    if age is None or age > timedelta(days=limits.missing_after_days):
        return verdict(Result.MISSING, fact.zone_id, fact.seen_at)
    if not in_area:
        return verdict(Result.MISPLACED, fact.zone_id, fact.seen_at)
    if fresh and reads is None:
        return verdict(Result.FOUND, fact.zone_id, fact.seen_at)
    return verdict(Result.NOT_SEEN, fact.zone_id, fact.seen_at)


def counts(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """How many of each result, and of PM due / overdue among them (every result key present)."""
    out = dict.fromkeys([r.value for r in Result], 0) | {"pm_due": 0, "pm_overdue": 0}
    for v in verdicts:
        out[v.result.value] += 1
        out["pm_due"] += v.pm_due
        out["pm_overdue"] += v.pm_overdue
    return out
