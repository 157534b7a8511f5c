"""The two-person discharge: one authorized person asks with a reason, a different one confirms; only then
does protection end (alerts resolved with a note, escort ended, tag released). Two officers confirming at
once: exactly one wins."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection

from alerts.models import Alert
from alerts.services import alert_raise
from floorplans.models import Floor
from security.exceptions import SecurityRefused
from security.models import CodePink, EscortPass, Infant
from security.selectors import armed_infants, enrolment_prompts
from security.services import (
    infant_discharge_cancel,
    infant_discharge_confirm,
    infant_discharge_request,
    infant_enrol,
)
from tests.security.test_services_helpers import T0, infant_make, mother_make, officer, ward_setup

MIN = timedelta(minutes=1)
State = Infant.State


def _alert(infant: Infant, kind: str) -> Alert:
    return alert_raise(kind=kind, severity=Alert.Severity.HIGH, key=f"{kind}:{infant.pk}", title=kind,
                       subject_type=Alert.Subject.INFANT, subject_id=str(infant.pk), audience="security", at=T0)


@pytest.mark.django_db
def test_it_discharges_only_after_a_second_person_confirms(floor: Floor, charge_nurse: User,
                                                           security_officer: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w, mother=mother_make(w))
    tag_pk = infant.tracked_object.tag_id
    asked = infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home with mother", at=T0)
    assert (asked.state, asked.discharge_reason, asked.discharge_requested_by, asked.discharge_requested_at) == (
        State.DISCHARGE_REQUESTED, "home with mother", charge_nurse, T0)
    assert tag_pk in armed_infants()  # still protected while the request waits

    done = infant_discharge_confirm(infant_id=infant.pk, user=security_officer, at=T0 + MIN)
    assert (done.state, done.discharged_by, done.discharged_at) == (State.DISCHARGED, security_officer, T0 + MIN)
    done.tracked_object.refresh_from_db()
    assert done.tracked_object.tag is None  # released: the band can go on the next infant
    assert tag_pk not in armed_infants()


@pytest.mark.django_db
def test_it_resolves_the_infants_open_alerts_with_a_note_and_ends_its_escort(
        floor: Floor, charge_nurse: User, security_officer: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w)
    other = infant_make(w, "B002", name="Baby Brown")
    loose, outside, theirs = (_alert(infant, "security.strap_loose"), _alert(infant, "security.outside_ward"),
                              _alert(other, "security.strap_loose"))
    escort = EscortPass.objects.create(infant=infant, destination="Radiology", authorized_by=charge_nurse,
                                       started_at=T0, expires_at=T0 + 30 * MIN)
    infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home", at=T0)
    infant_discharge_confirm(infant_id=infant.pk, user=security_officer, at=T0 + MIN)
    for alert in (loose, outside):
        alert.refresh_from_db()
        assert (alert.state, alert.resolved_by) == (Alert.State.RESOLVED, security_officer)
        note = alert.timeline.get(action="resolved").note
        assert note == "Baby Jones signed out of protection by charge_nurse and security_officer: home"
    theirs.refresh_from_db()
    assert theirs.state == Alert.State.NEW  # another infant's alarm is not touched
    escort.refresh_from_db()
    assert (escort.ended_at, escort.ended_by, escort.end_note) == (T0 + MIN, security_officer, "infant discharged")


@pytest.mark.django_db
def test_it_refuses_a_confirm_by_the_person_who_asked(floor: Floor, charge_nurse: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w)
    infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home", at=T0)
    with pytest.raises(SecurityRefused, match="A second person must confirm this discharge: you requested it"):
        infant_discharge_confirm(infant_id=infant.pk, user=charge_nurse, at=T0)
    infant.refresh_from_db()
    assert infant.state == State.DISCHARGE_REQUESTED


@pytest.mark.django_db
def test_it_refuses_people_without_the_discharge_permission(floor: Floor, nurse: User, biomed: User,
                                                            charge_nurse: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w)
    for user in (nurse, biomed):
        with pytest.raises(SecurityRefused, match="You are not allowed to sign infants out"):
            infant_discharge_request(infant_id=infant.pk, user=user, reason="home")
    infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home")
    for service in (infant_discharge_confirm, infant_discharge_cancel):
        with pytest.raises(SecurityRefused, match="You are not allowed to sign infants out"):
            service(infant_id=infant.pk, user=nurse)
    infant.refresh_from_db()
    assert infant.state == State.DISCHARGE_REQUESTED


@pytest.mark.django_db
def test_it_refuses_moves_the_table_does_not_allow(floor: Floor, charge_nurse: User,
                                                   security_officer: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w)
    with pytest.raises(SecurityRefused, match="Say why the infant is being signed out"):
        infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="  ")
    with pytest.raises(SecurityRefused, match="Baby Jones's discharge has not been requested: request it first"):
        infant_discharge_confirm(infant_id=infant.pk, user=security_officer)
    with pytest.raises(SecurityRefused, match="Baby Jones has no discharge request to cancel"):
        infant_discharge_cancel(infant_id=infant.pk, user=charge_nurse)
    infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home")
    with pytest.raises(SecurityRefused, match="discharge is already requested: it needs a second person"):
        infant_discharge_request(infant_id=infant.pk, user=security_officer, reason="home")
    infant_discharge_confirm(infant_id=infant.pk, user=security_officer)
    with pytest.raises(SecurityRefused, match="Baby Jones is already discharged"):
        infant_discharge_confirm(infant_id=infant.pk, user=security_officer)
    with pytest.raises(SecurityRefused, match="There is no enrolled infant with id 987654"):
        infant_discharge_request(infant_id=987654, user=charge_nurse, reason="home")


@pytest.mark.django_db
def test_it_cancels_a_request_and_keeps_the_infant_protected(floor: Floor, charge_nurse: User,
                                                             security_officer: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w)
    infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home", at=T0)
    kept = infant_discharge_cancel(infant_id=infant.pk, user=security_officer, at=T0 + MIN)
    assert (kept.state, kept.discharge_reason, kept.discharge_requested_by) == (State.PROTECTED, "", None)
    with pytest.raises(SecurityRefused, match="has not been requested"):
        infant_discharge_confirm(infant_id=infant.pk, user=security_officer)


@pytest.mark.django_db
def test_it_refuses_to_discharge_an_infant_with_an_active_code_pink(floor: Floor, charge_nurse: User,
                                                                    security_officer: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w)
    CodePink.objects.create(building=floor.building, floor=floor, infant=infant, trigger="manual", started_at=T0)
    infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home")
    with pytest.raises(SecurityRefused, match="Baby Jones is the subject of an active Code Pink: resolve it first"):
        infant_discharge_confirm(infant_id=infant.pk, user=security_officer)


@pytest.mark.django_db
def test_a_released_band_is_an_enrolment_prompt_again_and_enrols_the_next_infant(
        floor: Floor, charge_nurse: User, security_officer: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w)
    infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home")
    infant_discharge_confirm(infant_id=infant.pk, user=security_officer)
    assert [state.tag.tag_id for state in enrolment_prompts()] == ["B001"]
    nextborn = infant_enrol(tag_id="B001", name="Baby Brown", ward_id=w.ward.pk, mother_id=None, born_at=None,
                            user=None)
    assert nextborn.pk != infant.pk and nextborn.state == State.PROTECTED
    assert enrolment_prompts() == []


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_officers_confirm_the_same_discharge(floor: Floor, charge_nurse: User) -> None:
    w = ward_setup(floor)
    infant = infant_make(w)
    infant_discharge_request(infant_id=infant.pk, user=charge_nurse, reason="home", at=T0)
    officers = [officer("officer_a"), officer("officer_b")]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def confirm(user: User) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[user.username] = infant_discharge_confirm(infant_id=infant.pk, user=user, at=T0 + MIN)
        except SecurityRefused as refused:
            outcomes[user.username] = refused
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(user,)) for user in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    won = [name for name, result in outcomes.items() if isinstance(result, Infant)]
    lost = [result for result in outcomes.values() if isinstance(result, SecurityRefused)]
    assert len(won) == 1 and len(lost) == 1
    assert str(lost[0]) == "Baby Jones is already discharged."
    infant.refresh_from_db()
    assert infant.state == State.DISCHARGED and infant.discharged_by is not None
    assert infant.discharged_by.username == won[0]
