"""Moving an open alert with its subject (an infant carried along): the place changes, nothing else does.

Not an occurrence, not a timeline event, not a webhook: the screens hear action "moved", without sound.
A closed alert stays where it was closed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User

from alerts.models import Alert, Webhook, WebhookDelivery
from alerts.services import alert_cancel, alert_condition_clear, alert_move, alert_raise, alert_resolve
from floorplans.models import Floor, Zone
from tests.alerts.conftest import T0, Raise, Sent
from tests.alerts.test_consumer import TIMEOUT_S, _cookie, _open, run
from tests.tracking.whereabouts import floor_elsewhere


def _zone(floor: Floor, code: str) -> Zone:
    return Zone.objects.get(floor=floor, code=code)


@pytest.fixture
def placed(raise_alert: Raise, floor: Floor) -> Alert:
    """An open alert in bed 102B of 3 North, with data of its own."""
    return raise_alert(zone_id=_zone(floor, "3N-102-B").pk, ward_id=_zone(floor, "3N").pk, x_m=12.5, y_m=3.25,
                       data={"bag": 17})


def test_it_moves_the_place_and_keeps_occurrences_severity_and_condition(placed: Alert, floor: Floor) -> None:
    corridor = _zone(floor, "3N-C")
    place = {"floor_id": floor.pk, "zone_id": corridor.pk, "x_m": 8.0, "y_m": 9.5}
    moved = alert_move(alert_id=placed.pk, place=place, data={"seen_at": "10:00:05"}, at=T0 + timedelta(seconds=5))
    assert moved is not None
    moved.refresh_from_db()
    assert (moved.floor_id, moved.zone_id, moved.ward_id, moved.x_m, moved.y_m) == (
        floor.pk, corridor.pk, placed.ward_id, 8.0, 9.5)  # the ward was not given: it stays
    assert moved.data == {"bag": 17, "seen_at": "10:00:05"}
    assert (moved.occurrences, moved.severity, moved.condition_active, moved.state) == (
        1, placed.severity, True, "new")
    assert (moved.raised_at, moved.updated_at) == (T0, T0 + timedelta(seconds=5))
    assert (moved.next_escalation_at, moved.next_reminder_at) == (placed.next_escalation_at,
                                                                   placed.next_reminder_at)


def test_a_minute_of_moves_is_no_occurrence_and_writes_nothing_on_the_timeline(placed: Alert) -> None:
    for second in range(5, 65, 5):
        alert_move(alert_id=placed.pk, place={"x_m": 12.5 + second / 10, "y_m": 3.25},
                   at=T0 + timedelta(seconds=second))
    placed.refresh_from_db()
    assert (placed.occurrences, placed.x_m) == (1, 18.5)
    assert [e.action for e in placed.timeline.all()] == ["raised"]


def test_it_keeps_a_cleared_condition_cleared(placed: Alert) -> None:
    alert_condition_clear(key=placed.key, note="bag back at 102A", at=T0 + timedelta(seconds=3))
    moved = alert_move(alert_id=placed.pk, place={"x_m": 1.0, "y_m": 2.0}, at=T0 + timedelta(seconds=5))
    assert moved is not None and moved.condition_active is False
    assert moved.condition_cleared_at == T0 + timedelta(seconds=3)


def test_it_announces_moved_without_sound_to_the_alerts_groups(placed: Alert, floor: Floor, sent: Sent) -> None:
    alert_move(alert_id=placed.pk, place={"zone_id": _zone(floor, "3N-C").pk, "x_m": 8.0, "y_m": 9.5},
               at=T0 + timedelta(seconds=5))
    ((groups, message),) = sent.calls  # the raise was before the capture began
    assert groups == ["alerts.nurses", f"alerts.nurses.floor.{floor.pk}"]
    assert (message["type"], message["action"], message["sound"]) == ("alert", "moved", False)
    assert message["alert"]["id"] == placed.pk
    assert (message["alert"]["zone_name"], message["alert"]["x_m"], message["alert"]["occurrences"]) == (
        "Corridor", 8.0, 1)


def test_moving_to_another_floor_announces_to_that_floors_group(placed: Alert, sent: Sent) -> None:
    other = floor_elsewhere()
    alert_move(alert_id=placed.pk, place={"floor_id": other.pk, "zone_id": None, "x_m": 3.0, "y_m": 4.0},
               at=T0 + timedelta(seconds=5))
    groups, message = sent.calls[-1]
    assert groups == ["alerts.nurses", f"alerts.nurses.floor.{other.pk}"]
    assert (message["alert"]["floor"], message["alert"]["zone"], message["alert"]["zone_name"]) == (
        other.pk, None, None)


def test_a_zone_given_without_a_floor_places_the_alert_on_the_zones_floor(raise_alert: Raise, floor: Floor) -> None:
    alert = raise_alert()  # nowhere
    moved = alert_move(alert_id=alert.pk, place={"zone_id": _zone(floor, "3N-C").pk, "x_m": 8.0, "y_m": 9.5},
                       at=T0 + timedelta(seconds=5))
    assert moved is not None and moved.floor_id == floor.pk


def test_it_queues_no_webhook(placed: Alert) -> None:
    Webhook.objects.create(name="pager", url="http://127.0.0.1:9/", kinds="*", min_severity=10)
    alert_move(alert_id=placed.pk, place={"x_m": 1.0, "y_m": 2.0}, at=T0 + timedelta(seconds=5))
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("close", [alert_resolve, alert_cancel])
def test_it_leaves_a_resolved_or_cancelled_alert_where_it_was(placed: Alert, nurse: User, sent: Sent,
                                                              close: Any) -> None:
    close(alert_id=placed.pk, user=nurse, note="dealt with", at=T0 + timedelta(seconds=3))
    announced = len(sent.calls)
    assert alert_move(alert_id=placed.pk, place={"x_m": 1.0, "y_m": 2.0}, at=T0 + timedelta(seconds=5)) is None
    placed.refresh_from_db()
    assert (placed.x_m, placed.y_m, placed.updated_at) == (12.5, 3.25, T0 + timedelta(seconds=3))
    assert len(sent.calls) == announced


def test_an_unknown_alert_is_an_error(db: None) -> None:
    with pytest.raises(Alert.DoesNotExist):
        alert_move(alert_id=987_654, place={"x_m": 1.0, "y_m": 2.0}, at=T0)


@pytest.mark.parametrize("place", [
    {"room": 3},                    # not a place key
    {"x_m": "3.0", "y_m": 2.0},     # coordinates are numbers, never strings
    {"x_m": float("nan"), "y_m": 2.0},
    {"x_m": 1.0, "y_m": float("inf")},
    {"y_m": True},
    {"floor_id": "2"},
    {"zone_id": 2.5},
])
def test_it_refuses_a_bad_place_and_changes_nothing(placed: Alert, sent: Sent, place: dict[str, Any]) -> None:
    announced = len(sent.calls)
    with pytest.raises(ValueError, match="place"):
        alert_move(alert_id=placed.pk, place=place, at=T0 + timedelta(seconds=5))
    placed.refresh_from_db()
    assert (placed.x_m, placed.y_m, placed.updated_at) == (12.5, 3.25, T0)
    assert len(sent.calls) == announced


@pytest.mark.django_db(transaction=True)
def test_a_listening_nurse_receives_the_move_over_the_real_channel_layer(nurse: User) -> None:
    cookie = _cookie(nurse)

    async def body() -> None:
        socket, _ = await _open(cookie)
        alert = await database_sync_to_async(alert_raise)(
            kind="infusion.wrong_patient", severity=Alert.Severity.HIGH, key="wp:bag=17",
            title="Bag 17 at the wrong bed", subject_type=Alert.Subject.BAG, subject_id="17", audience="nurses",
            x_m=1.0, y_m=2.0, at=T0)
        assert (await socket.receive_json_from(timeout=TIMEOUT_S))["action"] == "raised"
        await database_sync_to_async(alert_move)(alert_id=alert.pk, place={"x_m": 4.0, "y_m": 5.0},
                                                 at=T0 + timedelta(seconds=5))
        message = await socket.receive_json_from(timeout=TIMEOUT_S)
        assert (message["action"], message["sound"], message["alert"]["x_m"], message["alert"]["occurrences"]) == (
            "moved", False, 4.0, 1)
        await socket.disconnect()

    run(body)
