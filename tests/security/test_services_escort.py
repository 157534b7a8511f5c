"""Escorts: an authorized person takes an infant off the ward for a time limit; its exit alarms are suspended
with an audit trail; past the limit the escort_expired alarm is raised once, and ending the escort closes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from alerts import periodic
from alerts.models import Alert
from alerts.services import alert_raise
from floorplans.models import Floor
from security.exceptions import SecurityRefused
from security.models import EscortPass, Infant
from security.selectors import armed_infants, escort_active
from security.services import escort_end, escort_start, escorts_connect, escorts_expire
from tests.security.test_services_helpers import T0, infant_make, ward_setup

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)


def _tag_pk(infant: Infant) -> int:
    assert infant.tracked_object.tag_id is not None
    return infant.tracked_object.tag_id


def _start(infant: Infant, user: User, minutes: int = 30, **extra: object) -> EscortPass:
    arguments: dict[str, object] = {"infant_id": infant.pk, "user": user, "destination": "Radiology",
                                    "reason": "hip ultrasound", "minutes": minutes, "at": T0}
    return escort_start(**(arguments | extra))  # type: ignore[arg-type]


def test_it_starts_an_escort_with_a_time_limit_seen_by_the_rules(floor: Floor, charge_nurse: User) -> None:
    infant = infant_make(ward_setup(floor))
    escort = _start(infant, charge_nurse, minutes=45)
    assert (escort.destination, escort.reason, escort.authorized_by, escort.started_at, escort.expires_at) == (
        "Radiology", "hip ultrasound", charge_nurse, T0, T0 + 45 * MIN)
    assert armed_infants()[_tag_pk(infant)].escorted_until == T0 + 45 * MIN
    assert escort_active(infant_id=infant.pk, at=T0 + 44 * MIN) == escort
    assert escort_active(infant_id=infant.pk, at=T0 + 45 * MIN) is None  # expired
    assert escort_active(infant_id=infant.pk, at=T0 - MIN) is None  # not started yet


def test_it_notes_on_the_infants_open_exit_alarms_that_an_escort_suspends_them(floor: Floor,
                                                                               charge_nurse: User) -> None:
    infant = infant_make(ward_setup(floor))
    alerts = {kind: alert_raise(kind=kind, severity=Alert.Severity.HIGH, key=f"{kind}:{infant.pk}", title=kind,
                                subject_type="infant", subject_id=str(infant.pk), audience="security", at=T0)
              for kind in ("security.outside_ward", "security.exit_approach", "security.tamper")}
    _start(infant, charge_nurse)
    for kind, alert in alerts.items():
        alert.refresh_from_db()
        cleared = alert.timeline.filter(action="condition_cleared").first()
        if kind == "security.tamper":  # a cut band stays an alarm, escort or not
            assert alert.condition_active and cleared is None
        else:
            assert not alert.condition_active and cleared is not None
            assert cleared.note.startswith("escort to Radiology authorized by charge_nurse until ")
            assert cleared.note.endswith(": exit alarms suspended")


@pytest.mark.parametrize("minutes", [0, 481, -5, True, 2.5])
def test_it_refuses_a_time_limit_outside_one_minute_to_eight_hours(floor: Floor, charge_nurse: User,
                                                                   minutes: object) -> None:
    infant = infant_make(ward_setup(floor))
    with pytest.raises(SecurityRefused, match=f"An escort lasts 1 to 480 minutes, not {minutes}."):
        _start(infant, charge_nurse, minutes=minutes)  # type: ignore[arg-type]
    assert not EscortPass.objects.exists()


def test_it_accepts_both_ends_of_the_time_limit(floor: Floor, charge_nurse: User, security_officer: User) -> None:
    w = ward_setup(floor)
    assert _start(infant_make(w), charge_nurse, minutes=1).expires_at == T0 + MIN
    assert _start(infant_make(w, "B002", name="Baby Brown"), security_officer, minutes=480).expires_at == T0 + 480 * MIN


def test_it_refuses_a_nurse_without_the_permission_a_missing_destination_and_a_second_escort(
        floor: Floor, nurse: User, charge_nurse: User) -> None:
    infant = infant_make(ward_setup(floor))
    with pytest.raises(SecurityRefused, match="You are not allowed to authorize escorts"):
        _start(infant, nurse)
    with pytest.raises(SecurityRefused, match="Say where the infant is being taken"):
        _start(infant, charge_nurse, destination=" ")
    _start(infant, charge_nurse)
    with pytest.raises(SecurityRefused, match=r"Baby Jones is already on an escort to Radiology until \d\d:\d\d: end"):
        _start(infant, charge_nurse, at=T0 + MIN)


def test_it_refuses_an_escort_for_a_discharged_infant(floor: Floor, charge_nurse: User) -> None:
    infant = infant_make(ward_setup(floor))
    Infant.objects.filter(pk=infant.pk).update(state=Infant.State.DISCHARGED)
    with pytest.raises(SecurityRefused, match=r"Baby Jones is not protected \(it is discharged\)."):
        _start(infant, charge_nurse)


def test_it_ends_an_escort_once_and_arms_the_exit_alarms_again(floor: Floor, charge_nurse: User,
                                                              nurse: User) -> None:
    infant = infant_make(ward_setup(floor))
    escort = _start(infant, charge_nurse)
    with pytest.raises(SecurityRefused, match="You are not allowed to end escorts"):
        escort_end(escort_id=escort.pk, user=nurse)
    ended = escort_end(escort_id=escort.pk, user=charge_nurse, note="back in room 101", at=T0 + 20 * MIN)
    assert (ended.ended_at, ended.ended_by, ended.end_note) == (T0 + 20 * MIN, charge_nurse, "back in room 101")
    assert armed_infants()[_tag_pk(infant)].escorted_until is None
    with pytest.raises(SecurityRefused, match=r"This escort already ended at \d\d:\d\d \(charge_nurse\)."):
        escort_end(escort_id=escort.pk, user=charge_nurse)
    with pytest.raises(SecurityRefused, match="There is no escort with id 0"):
        escort_end(escort_id=0, user=charge_nurse)


def test_an_overdue_escort_raises_one_alarm_that_ending_the_escort_resolves(floor: Floor,
                                                                           charge_nurse: User) -> None:
    infant = infant_make(ward_setup(floor))
    escort = _start(infant, charge_nurse, minutes=30)
    assert escorts_expire(now=T0 + 29 * MIN) == 0
    assert escorts_expire(now=T0 + 30 * MIN) == 1
    assert escorts_expire(now=T0 + 31 * MIN) == 0  # once per escort, not every run
    alert = Alert.objects.get(kind="security.escort_expired")
    assert (alert.severity, alert.audience, alert.subject_id, alert.key) == (
        Alert.Severity.WARNING, "security", str(infant.pk), f"security.escort_expired:{infant.pk}")
    assert alert.title == "Escort of Baby Jones overdue"
    assert "taken to Radiology by charge_nurse until" in alert.message
    assert alert.data["escort_id"] == escort.pk and alert.ward_id == infant.ward_id
    escort_end(escort_id=escort.pk, user=charge_nurse, note="back", at=T0 + 40 * MIN)
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED
    assert alert.timeline.get(action="resolved").note == "escort ended by charge_nurse: back"


def test_an_overdue_escort_dealt_with_is_not_raised_again_and_a_new_escort_closes_the_old_one(
        floor: Floor, charge_nurse: User) -> None:
    infant = infant_make(ward_setup(floor))
    old = _start(infant, charge_nurse, minutes=10)
    escorts_expire(now=T0 + 11 * MIN)
    Alert.objects.filter(kind="security.escort_expired").update(state=Alert.State.RESOLVED)
    assert escorts_expire(now=T0 + 12 * MIN) == 0
    new = _start(infant, charge_nurse, destination="Theatre", at=T0 + 15 * MIN)
    old.refresh_from_db()
    assert (old.ended_at, old.end_note) == (T0 + 15 * MIN, "replaced by the escort to Theatre")
    assert escort_active(infant_id=infant.pk, at=T0 + 16 * MIN) == new


def test_it_registers_the_escort_timer(floor: Floor) -> None:
    periodic.unregister("security.escorts")
    escorts_connect()
    job = periodic.registered()["security.escorts"]
    assert job.every_s == 5.0
    assert job.job(T0) == 0  # runs escorts_expire with the runner's clock
