"""Domain events: every subscriber runs even when one fails; tag status changes are told once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from readers.reads import TagStatus
from tracking.pipeline.events import (
    StatusWatch,
    TagSilent,
    ZoneEntered,
    handler_failures,
    publish,
    subscribe,
    unsubscribe,
)

AT = datetime(2026, 11, 22, 3, 40, tzinfo=UTC)


def test_it_runs_every_handler_when_one_of_them_fails() -> None:
    got: list[object] = []

    def failing(event: ZoneEntered) -> None:
        raise ValueError("bad rule")

    subscribe(ZoneEntered, failing)
    subscribe(ZoneEntered, got.append)
    subscribe(ZoneEntered, got.append)  # twice is once
    try:
        event = ZoneEntered(1, "t", 2, 3, AT)
        assert publish([event, TagSilent(1, "t", 2, AT)]) == 1
        assert got == [event]
        assert handler_failures()["test_it_runs_every_handler_when_one_of_them_fails.<locals>.failing"] >= 1
    finally:
        unsubscribe(ZoneEntered, failing)
        unsubscribe(ZoneEntered, got.append)
    assert publish([event]) == 0 and got == [event]


@pytest.mark.parametrize(("statuses", "told"), [
    ([TagStatus(battery_pct=80)], [False]),  # first sighting, all well, no strap: nothing to tell
    ([TagStatus(battery_pct=80, tamper=False)], [True]),  # first word of a band's strap (closed): enrol prompt
    ([TagStatus(tamper=True)], [True]),  # first sighting with an alarm: told
    ([TagStatus(tamper=False), TagStatus(tamper=True), TagStatus(tamper=True)], [True, True, False]),
    ([TagStatus(tamper=False), TagStatus(strap_loose=True), TagStatus(tamper=False)], [True, True, False]),
    ([TagStatus(tamper=False, strap_loose=True), TagStatus(strap_loose=False, battery_mv=2900)], [True, True]),
    ([TagStatus(tamper=True), TagStatus(battery_pct=50)], [True, False]),  # tamper not said again: still tampered
    ([TagStatus(battery_pct=50), TagStatus(battery_pct=45), TagStatus(battery_pct=15)], [False, False, True]),
    ([TagStatus(button=False), TagStatus(button=True), TagStatus(button=False)], [False, True, True]),
])
def test_it_tells_a_status_change_once(statuses: list[TagStatus], told: list[bool]) -> None:
    watch = StatusWatch()
    events = [watch.update("t", 1, status, AT) for status in statuses]
    assert [e is not None for e in events] == told
