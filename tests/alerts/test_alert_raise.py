"""Raising: one open alert per condition (dedupe), severity only rises, the condition clearing, where the
alert is placed and who is told."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from alerts.exceptions import UnknownAudience
from alerts.models import Alert, WebhookDelivery
from alerts.services import alert_condition_clear, alert_raise
from floorplans.models import Floor, Zone
from tests.alerts.conftest import T0, Raise, Sent


def test_it_creates_a_new_alert_with_a_raised_event_and_the_policys_plan(raise_alert: Raise) -> None:
    alert = raise_alert(message="Bag 17 is at bed 102B", data={"bag": 17})
    assert (alert.state, alert.occurrences, alert.audiences, alert.condition_active) == ("new", 1, ["nurses"], True)
    assert alert.escalation_plan["policy"] == "Infusion, high"
    assert alert.next_escalation_at == T0 + timedelta(seconds=60)
    assert alert.next_reminder_at == T0 + timedelta(seconds=30)
    assert [e.action for e in alert.timeline.all()] == ["raised"]


def test_it_updates_the_open_alert_instead_of_raising_a_duplicate(raise_alert: Raise) -> None:
    first = raise_alert(title="Bag 17 at bed 102A", data={"bed": "102A"})
    again = raise_alert(title="Bag 17 at bed 102B", data={"bed": "102B"}, at=T0 + timedelta(seconds=5))
    assert again.pk == first.pk
    assert Alert.objects.count() == 1
    again.refresh_from_db()
    assert (again.title, again.occurrences, again.data) == ("Bag 17 at bed 102B", 2, {"bed": "102B"})
    assert again.raised_at == T0 and again.updated_at == T0 + timedelta(seconds=5)


def test_it_logs_a_condition_repeating_every_second_at_most_once_a_minute(raise_alert: Raise) -> None:
    alert = raise_alert()
    for second in range(1, 121):
        raise_alert(at=T0 + timedelta(seconds=second))
    alert.refresh_from_db()
    assert alert.occurrences == 121
    assert [e.action for e in alert.timeline.all()] == ["raised", "repeated", "repeated"]  # at 61 s and 122 s


def test_it_only_ever_raises_the_severity_and_says_so(raise_alert: Raise, sent: Sent) -> None:
    alert = raise_alert(severity=Alert.Severity.WARNING)
    raise_alert(severity=Alert.Severity.CRITICAL, at=T0 + timedelta(seconds=1))
    raise_alert(severity=Alert.Severity.INFO, at=T0 + timedelta(seconds=2))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.CRITICAL
    event = alert.timeline.get(action="severity_raised")
    assert event.data == {"from": 20, "to": 40}
    assert sent.actions() == ["raised", "severity_raised"]  # the lower repeat 1 s later is not news
    assert [m["sound"] for m in sent.messages] == [False, True]


def test_it_says_when_the_condition_clears_and_keeps_the_alert_open_for_a_person(raise_alert: Raise,
                                                                                 sent: Sent) -> None:
    alert = raise_alert()
    cleared = alert_condition_clear(key=alert.key, note="bag back at 102A", at=T0 + timedelta(seconds=30))
    assert cleared is not None and cleared.pk == alert.pk
    assert (cleared.state, cleared.condition_active, cleared.condition_cleared_at) == (
        "new", False, T0 + timedelta(seconds=30))
    assert alert_condition_clear(key=alert.key, at=T0 + timedelta(seconds=31)) is not None  # twice: not news
    assert [e.action for e in alert.timeline.all()] == ["raised", "condition_cleared"]
    assert sent.actions() == ["raised", "condition_cleared"]
    again = raise_alert(at=T0 + timedelta(seconds=40))
    assert again.pk == alert.pk and again.condition_active and again.condition_cleared_at is None
    assert [e.action for e in alert.timeline.all()][-1] == "repeated"  # recurrence is always logged


def test_it_resolves_when_the_clearing_says_so(raise_alert: Raise) -> None:
    alert = raise_alert()
    cleared = alert_condition_clear(key=alert.key, note="back online", resolve=True, at=T0 + timedelta(seconds=9))
    assert cleared is not None
    assert (cleared.state, cleared.resolved_by, cleared.resolved_at) == ("resolved", None, T0 + timedelta(seconds=9))
    assert [e.action for e in cleared.timeline.all()] == ["raised", "condition_cleared", "resolved"]
    assert alert_condition_clear(key=alert.key) is None  # nothing open any more


def test_it_places_a_ward_alert_on_the_wards_floor_and_routes_it_there(floor: Floor, raise_alert: Raise,
                                                                       sent: Sent) -> None:
    ward = Zone.objects.get(floor=floor, code="3N")
    bed = Zone.objects.get(floor=floor, code="3N-102-B")
    alert = raise_alert(ward_id=ward.pk, zone_id=bed.pk, x_m=12.5, y_m=3.25)
    assert (alert.floor_id, alert.zone_id, alert.ward_id) == (floor.pk, bed.pk, ward.pk)
    groups, message = sent.calls[0]
    assert groups == ["alerts.nurses", f"alerts.nurses.floor.{floor.pk}"]
    assert message["type"] == "alert" and message["action"] == "raised" and message["sound"] is True
    assert message["alert"]["zone_name"] == "Bed 102B" and message["alert"]["ward_name"] == "3 North"
    assert message["alert"]["id"] == alert.pk and message["alert"]["x_m"] == 12.5


def test_an_alert_with_no_place_goes_to_the_nowhere_group(raise_alert: Raise, sent: Sent) -> None:
    raise_alert(audience="biomed", severity=Alert.Severity.INFO)
    assert sent.calls[0][0] == ["alerts.biomed", "alerts.biomed.nowhere"]
    assert sent.messages[0]["sound"] is False


@pytest.mark.parametrize(("argument", "value", "error"), [
    ("severity", 25, ValueError), ("subject_type", "spaceship", ValueError), ("audience", "everyone", UnknownAudience),
])
def test_it_refuses_bad_arguments(raise_alert: Raise, argument: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        raise_alert(**{argument: value})
    assert not Alert.objects.exists()


def test_nothing_is_announced_or_queued_when_the_transaction_rolls_back(raise_alert: Raise, sent: Sent) -> None:
    from django.db import transaction

    from alerts.models import Webhook

    Webhook.objects.create(name="pager", url="http://127.0.0.1:9/", kinds="*", min_severity=10)
    with pytest.raises(RuntimeError), transaction.atomic():
        raise_alert()
        raise RuntimeError("the caller failed after raising")
    assert not Alert.objects.exists() and not WebhookDelivery.objects.exists()
    assert sent.calls == []


@pytest.mark.django_db(transaction=True)
def test_two_processes_raising_the_same_condition_at_once_make_one_alert() -> None:
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def raise_once(n: int) -> None:
        try:
            barrier.wait(timeout=5)
            alert_raise(kind="readers.offline", severity=20, key="readers.offline:reader=R1", title="R1 offline",
                        subject_type="reader", subject_id="R1", audience="biomed", at=T0 + timedelta(seconds=n))
        except Exception as error:  # noqa: BLE001  (any failure is the finding, reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=raise_once, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    alert = Alert.objects.get()
    assert alert.occurrences == 2
