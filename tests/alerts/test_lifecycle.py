"""The alert lifecycle: the transition table (every allowed and refused move), who/when/note on the
timeline, and that finished alerts stop their timers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from alerts.exceptions import InvalidAlertTransition
from alerts.models import Alert
from alerts.services import alert_acknowledge, alert_cancel, alert_resolve
from tests.alerts.conftest import T0, Raise

State = Alert.State
ALL_STATES = [State.NEW, State.ACKNOWLEDGED, State.RESOLVED, State.CANCELLED]
ALLOWED = {
    (State.NEW, State.ACKNOWLEDGED), (State.NEW, State.RESOLVED), (State.NEW, State.CANCELLED),
    (State.ACKNOWLEDGED, State.RESOLVED), (State.ACKNOWLEDGED, State.CANCELLED),
}
TARGETS = [State.ACKNOWLEDGED, State.RESOLVED, State.CANCELLED]  # the states a person can move an alert to


def _put_in(alert: Alert, state: str, user: User) -> Alert:
    paths: dict[str, list[str]] = {State.NEW: [], State.ACKNOWLEDGED: [State.ACKNOWLEDGED],
                                   State.RESOLVED: [State.RESOLVED], State.CANCELLED: [State.CANCELLED]}
    path = paths[state]
    for step in path:
        alert = _do(alert, step, user)
    return alert


def _do(alert: Alert, target: str, user: User) -> Alert:
    at = T0 + timedelta(minutes=1)
    if target == State.ACKNOWLEDGED:
        return alert_acknowledge(alert_id=alert.pk, user=user, note="on my way", at=at)
    if target == State.RESOLVED:
        return alert_resolve(alert_id=alert.pk, user=user, note="bag moved back", at=at)
    return alert_cancel(alert_id=alert.pk, user=user, note="test tag", at=at)


def test_it_matches_the_table_of_the_contract() -> None:
    table = {(a, b) for a, targets in Alert.TRANSITIONS.items() for b in targets}
    assert table == ALLOWED


@pytest.mark.parametrize("start", ALL_STATES)
@pytest.mark.parametrize("target", TARGETS)
def test_it_allows_exactly_the_moves_in_the_table(raise_alert: Raise, nurse: User, start: str, target: str) -> None:
    alert = _put_in(raise_alert(), start, nurse)
    if (start, target) in ALLOWED:
        alert = _do(alert, target, nurse)
        alert.refresh_from_db()
        assert alert.state == target
        assert alert.timeline.order_by("pk").last().action == target  # type: ignore[union-attr]
    else:
        events_before = alert.timeline.count()
        with pytest.raises(InvalidAlertTransition, match=f"is {start}; it cannot become {target}"):
            _do(alert, target, nurse)
        alert.refresh_from_db()
        assert alert.state == start
        assert alert.timeline.count() == events_before


def test_it_records_who_when_and_the_note_and_stops_the_timers_on_acknowledge(raise_alert: Raise, nurse: User) -> None:
    alert = raise_alert()
    assert alert.next_escalation_at is not None and alert.next_reminder_at is not None  # seeded infusion policy
    alert = alert_acknowledge(alert_id=alert.pk, user=nurse, note="on my way", at=T0 + timedelta(seconds=40))
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledged_at) == (nurse, T0 + timedelta(seconds=40))
    assert alert.next_escalation_at is None and alert.next_reminder_at is None
    event = alert.timeline.get(action="acknowledged")
    assert (event.user, event.note, event.at) == (nurse, "on my way", T0 + timedelta(seconds=40))


def test_it_lets_the_system_resolve_without_a_user(raise_alert: Raise) -> None:
    alert = alert_resolve(alert_id=raise_alert().pk, user=None, note="auto")
    assert alert.state == State.RESOLVED and alert.resolved_by is None


def test_a_resolved_key_can_be_raised_again_as_a_new_alert(raise_alert: Raise, nurse: User) -> None:
    first = raise_alert()
    alert_resolve(alert_id=first.pk, user=nurse)
    second = raise_alert(at=T0 + timedelta(hours=1))
    assert second.pk != first.pk and second.state == State.NEW and second.occurrences == 1
