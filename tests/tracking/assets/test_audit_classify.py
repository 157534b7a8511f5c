"""The audit rules as a table: where and when an asset was last seen -> found / misplaced / not seen here /
missing / unexpected, with PM flags. Pure: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tracking.assets.audit_classify import (
    AssetFacts,
    Result,
    SweepRead,
    Thresholds,
    classify,
    counts,
    pm_flags,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HERE, INSIDE_HERE, ELSEWHERE = 10, 11, 99
AREA = frozenset({HERE, INSIDE_HERE})
LIMITS = Thresholds(now=NOW, seen_within_h=24, missing_after_days=3)
H = timedelta(hours=1)


@pytest.mark.parametrize(("expected", "zone", "ago", "result"), [
    (True, HERE, 1 * H, Result.FOUND),
    (True, INSIDE_HERE, 24 * H, Result.FOUND),  # the limit is included
    (True, HERE, 25 * H, Result.NOT_SEEN),  # placed here by the RTLS, but not lately
    (True, ELSEWHERE, 1 * H, Result.MISPLACED),
    (True, None, 2 * H, Result.MISPLACED),  # located, in no zone: not in the area
    (True, ELSEWHERE, 71 * H, Result.MISPLACED),
    (True, ELSEWHERE, 73 * H, Result.MISSING),  # seen nowhere for more than 3 days
    (True, HERE, 73 * H, Result.MISSING),
    (True, None, None, Result.MISSING),  # never seen
    (False, HERE, 1 * H, Result.UNEXPECTED),
    (False, HERE, 25 * H, None),  # of elsewhere and not here lately: not this audit's business
    (False, ELSEWHERE, 1 * H, None),
    (True, HERE, -1 * H, Result.FOUND),  # a clock a little ahead counts as seen now
])
def test_it_classifies_by_place_and_age(expected: bool, zone: int | None, ago: timedelta | None,
                                        result: Result | None) -> None:
    fact = AssetFacts(1, expected, zone, NOW - ago if ago is not None else None)
    verdicts = classify([fact], area=AREA, limits=LIMITS)
    assert [v.result for v in verdicts] == ([result] if result else [])
    if verdicts:
        assert (verdicts[0].seen_zone_id, verdicts[0].seen_at) == (zone, fact.seen_at)


@pytest.mark.parametrize(("read", "expected", "zone", "ago", "result"), [
    (True, True, ELSEWHERE, 1 * H, Result.FOUND),  # the sweep read it here: the sweep wins over the RTLS
    (True, False, ELSEWHERE, 1 * H, Result.UNEXPECTED),
    (False, True, HERE, 1 * H, Result.NOT_SEEN),  # the RTLS says here, the sweep did not read it
    (False, True, ELSEWHERE, 1 * H, Result.MISPLACED),
    (False, True, None, None, Result.MISSING),
    (False, False, HERE, 1 * H, None),  # a handheld audit lists only what it read of elsewhere
])
def test_a_sweep_needs_a_read_to_find(read: bool, expected: bool, zone: int | None, ago: timedelta | None,
                                      result: Result | None) -> None:
    fact = AssetFacts(1, expected, zone, NOW - ago if ago is not None else None)
    reads = {1: SweepRead(NOW - 5 * timedelta(minutes=1), HERE)} if read else {}
    verdicts = classify([fact], area=AREA, limits=LIMITS, reads=reads)
    assert [v.result for v in verdicts] == ([result] if result else [])
    if read:
        assert (verdicts[0].seen_zone_id, verdicts[0].seen_at) == (HERE, NOW - timedelta(minutes=5))


@pytest.mark.parametrize(("due_on", "flags"), [
    (None, (False, False)),
    (date(2026, 11, 21), (True, True)),  # yesterday: overdue (and due)
    (date(2026, 11, 22), (True, False)),  # today: due, not yet overdue
    (date(2026, 12, 22), (True, False)),  # within 30 days
    (date(2026, 12, 23), (False, False)),
])
def test_it_flags_preventive_maintenance(due_on: date | None, flags: tuple[bool, bool]) -> None:
    assert pm_flags(due_on, today=NOW.date()) == flags
    verdict = classify([AssetFacts(1, True, HERE, NOW, due_on)], area=AREA, limits=LIMITS)[0]
    assert (verdict.pm_due, verdict.pm_overdue) == flags


def test_it_counts_results_and_pm_flags() -> None:
    facts = [AssetFacts(1, True, HERE, NOW, date(2026, 1, 1)), AssetFacts(2, True, None, None),
             AssetFacts(3, True, ELSEWHERE, NOW, date(2026, 12, 1)), AssetFacts(4, False, HERE, NOW)]
    assert counts(classify(facts, area=AREA, limits=LIMITS)) == {
        "found": 1, "misplaced": 1, "missing": 1, "not_seen": 0, "unexpected": 1, "pm_due": 2, "pm_overdue": 1}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seen_within_h": 0, "missing_after_days": 3}, "must be > 0"),
    ({"seen_within_h": 100, "missing_after_days": 3}, "longer than missing"),
    ({"seen_within_h": 24, "missing_after_days": 3, "now": datetime(2026, 1, 1)}, "timezone-aware"),  # noqa: DTZ001
])
def test_it_refuses_thresholds_that_make_no_sense(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Thresholds(**{"now": NOW, **kwargs})  # type: ignore[arg-type]
