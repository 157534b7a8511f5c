"""Alarms that follow a moving infant (security.rules.exits._follow): every PLACE_EVERY_S the infant's open
location alarms and the Code Pink alarm naming it take the infant's place. A move is not a new occurrence:
nothing on the timeline, action "moved" on the screens, no sound."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User

from alerts import broadcast
from alerts.models import Alert, AlertEvent
from alerts.services import alert_acknowledge
from security import rules
from security.models import CodePink, CodePinkEvent
from security.rules.exits import PLACE_EVERY_S
from tests.alerts.conftest import Sent
from tests.security.test_rules_helpers import T0, Maternity, fixes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules_fresh")]

STAIR_A_FRONT = (9.8, 11.1)  # 0.8 m in front of the west stair door
STAIRWELL = (7.0, 11.1)  # through the door
OFF_WARD = (2.0, 2.0)  # west of the building, nowhere near an exit


@pytest.fixture
def sent() -> Iterator[Sent]:
    """The alert broadcasts (after commit), recorded instead of sent to Redis."""
    capture = Sent()
    with mock.patch.object(broadcast, "_send", side_effect=capture.record):
        yield capture


def _at(m: Maternity, xy: tuple[float, float], dt_s: float) -> None:
    rules.on_fixes_located(fixes(m.floor.pk, [(m.tags["B001"], xy[0], xy[1], dt_s)]))


def _through_the_stair_door(m: Maternity) -> Alert:
    """Baby Mary at the west stair door, then through it at 1 s: Code Pink. Its alarm."""
    _at(m, STAIR_A_FRONT, 0)
    _at(m, STAIRWELL, 1)
    return Alert.objects.get(key=f"security.code_pink:{CodePink.objects.get().pk}")


def _moved(sent: Sent, alert: Alert) -> list[dict[str, object]]:
    return [message for message in sent.messages if message["action"] == "moved" and message["alert"]["id"] == alert.pk]


def test_during_a_code_pink_its_alarm_follows_the_infant_and_stays_one_occurrence(m: Maternity, sent: Sent) -> None:
    pink_alert = _through_the_stair_door(m)
    for k in range(1, 5):  # down the stairwell, a fix every PLACE_EVERY_S
        xy = (7.0, round(11.1 - 0.5 * k, 2))
        _at(m, xy, 1 + PLACE_EVERY_S * k)
        pink_alert.refresh_from_db()
        assert (pink_alert.floor_id, pink_alert.x_m, pink_alert.y_m) == (m.floor.pk, *xy)
        assert pink_alert.occurrences == 1
    assert pink_alert.updated_at == T0 + timedelta(seconds=1 + 4 * PLACE_EVERY_S)
    assert pink_alert.data["infant_seen"]["y_m"] == pytest.approx(9.1)
    assert pink_alert.data["code_pink_id"] == CodePink.objects.get().pk  # what it said at the start stays
    assert not pink_alert.timeline.filter(action="repeated").exists()
    assert not CodePinkEvent.objects.filter(action="repeated").exists()
    moves = _moved(sent, pink_alert)
    assert len(moves) == 4 and all(message["sound"] is False for message in moves)


def test_the_infants_own_alarms_move_with_it_without_new_occurrences(m: Maternity, sent: Sent) -> None:
    _through_the_stair_door(m)
    followed = Alert.objects.filter(kind__in=[rules.EXIT_ALARM, rules.OUTSIDE_WARD])
    occurrences = {alert.kind: alert.occurrences for alert in followed.all()}
    events = AlertEvent.objects.count()
    assert set(occurrences) == {rules.EXIT_ALARM, rules.OUTSIDE_WARD}
    for k in range(1, 4):
        _at(m, (7.0, round(11.1 - 0.5 * k, 2)), 1 + PLACE_EVERY_S * k)
    for alert in followed.all():  # read again
        assert (alert.x_m, alert.y_m, alert.occurrences) == (7.0, 9.6, occurrences[alert.kind]), alert.kind
        assert alert.data["seen_at"] == (T0 + timedelta(seconds=1 + 3 * PLACE_EVERY_S)).isoformat()
        assert len(_moved(sent, alert)) == 3
    assert AlertEvent.objects.count() == events  # no timeline line for any move


def test_moves_are_throttled_to_one_every_place_every_s(m: Maternity, sent: Sent) -> None:
    _at(m, OFF_WARD, 0)
    outside = Alert.objects.get(kind=rules.OUTSIDE_WARD)
    for i in range(1, 25):  # 12 s off the ward, a fix every 0.5 s
        _at(m, (2.0, 2.0 + 0.1 * i), 0.5 * i)
    outside.refresh_from_db()
    assert outside.updated_at == T0 + timedelta(seconds=2 * PLACE_EVERY_S)  # moved at 5 s and 10 s
    assert outside.y_m == pytest.approx(4.0)  # the fix at 10 s
    assert outside.occurrences == 1
    assert [e.action for e in outside.timeline.all()] == ["raised"]
    assert len(_moved(sent, outside)) == 2


def test_an_acknowledged_code_pink_alarm_still_follows_and_stays_acknowledged(m: Maternity, sent: Sent,
                                                                               security_officer: User) -> None:
    pink_alert = _through_the_stair_door(m)
    alert_acknowledge(alert_id=pink_alert.pk, user=security_officer, note="on my way", at=T0 + timedelta(seconds=2))
    _at(m, (7.0, 10.1), 1 + PLACE_EVERY_S)
    pink_alert.refresh_from_db()
    assert (pink_alert.state, pink_alert.y_m, pink_alert.occurrences) == ("acknowledged", 10.1, 1)
    assert (pink_alert.next_escalation_at, pink_alert.next_reminder_at) == (None, None)
    assert [msg["action"] for msg in sent.messages if msg["alert"]["id"] == pink_alert.pk][-1] == "moved"
