"""Mother-infant match checks: the right pair is a record, a wrong one a HIGH audible alarm for the nurses;
the same wrong pair found together again within a minute updates its alarm instead of adding another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from alerts.models import Alert
from floorplans.models import Floor
from security.exceptions import SecurityRefused
from security.models import Infant, MatchCheck, Mother
from security.services import match_record
from tests.security.test_services_helpers import T0, Ward, infant_make, mother_make, ward_setup

pytestmark = pytest.mark.django_db
S = timedelta(seconds=1)
Result, How = MatchCheck.Result, MatchCheck.How


def _family(floor: Floor) -> tuple[Ward, Mother, Mother, Infant]:
    w = ward_setup(floor)
    ann, bea = mother_make(w, "A001", patient=w.ann), mother_make(w, "A002", patient=w.bea)
    return w, ann, bea, infant_make(w, "B001", name="Baby Jones", mother=ann)


def test_the_right_mother_is_a_match_record_without_an_alarm(floor: Floor, nurse: User) -> None:
    w, ann, _, baby = _family(floor)
    check = match_record(mother_id=ann.pk, infant_id=baby.pk, how=How.MANUAL, at=T0, zone_id=w.room101.pk,
                         distance_m=0.4, user=nurse)
    assert (check.result, check.how, check.at, check.zone, check.distance_m, check.user, check.alert) == (
        Result.MATCH, How.MANUAL, T0, w.room101, 0.4, nurse, None)
    assert not Alert.objects.exists()


def test_a_wrong_mother_is_a_mismatch_alarm_for_the_nurses_naming_both(floor: Floor) -> None:
    w, ann, bea, baby = _family(floor)
    check = match_record(mother_id=bea.pk, infant_id=baby.pk, how=How.BUTTON, at=T0, zone_id=w.corridor.pk,
                         distance_m=0.8)
    assert check.result == Result.MISMATCH and check.alert is not None
    alert = check.alert
    assert (alert.kind, alert.severity, alert.audience, alert.key, alert.subject_type, alert.subject_id) == (
        "security.mismatch", Alert.Severity.HIGH, "nurses", f"security.mismatch:{baby.pk}", "infant", str(baby.pk))
    assert alert.title == "Wrong mother: Baby Jones with Bea Brown"
    assert alert.message.startswith("Baby Jones was brought together with Bea Brown in Corridor, but its mother on "
                                    "file is Ann Jones.")
    assert (alert.zone, alert.floor, alert.ward) == (w.corridor, floor, w.ward)
    assert alert.data == {
        "infant_id": baby.pk, "infant_name": "Baby Jones", "infant_ward": "3 North", "mother_id": bea.pk,
        "mother_name": "Bea Brown", "mother_home": "Room 102", "expected_mother_id": ann.pk,
        "expected_mother_name": "Ann Jones", "how": "button", "zone_id": w.corridor.pk, "zone_name": "Corridor",
        "distance_m": 0.8,
    }
    assert alert.timeline.get(action="raised").data["severity"] >= 30  # HIGH: the feed plays the tone


def test_an_infant_without_a_mother_on_file_is_a_mismatch_with_any_mother(floor: Floor) -> None:
    w = ward_setup(floor)
    ann = mother_make(w)
    orphan = infant_make(w, "B002", name="Baby Doe")
    check = match_record(mother_id=ann.pk, infant_id=orphan.pk, how=How.TOGETHER, at=T0)
    assert check.result == Result.MISMATCH and check.alert is not None
    assert "but it has no mother on file" in check.alert.message


def test_a_repeated_mismatch_of_the_same_pair_within_a_minute_updates_its_alarm(floor: Floor) -> None:
    _, _, bea, baby = _family(floor)
    first = match_record(mother_id=bea.pk, infant_id=baby.pk, how=How.TOGETHER, at=T0, distance_m=1.0)
    again = match_record(mother_id=bea.pk, infant_id=baby.pk, how=How.TOGETHER, at=T0 + 30 * S, distance_m=0.5)
    assert again.pk == first.pk and MatchCheck.objects.count() == 1
    assert (again.at, again.distance_m) == (T0 + 30 * S, 0.5)
    assert Alert.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.occurrences == 2 and alert.timeline.filter(action="raised").count() == 1
    later = match_record(mother_id=bea.pk, infant_id=baby.pk, how=How.TOGETHER, at=T0 + 120 * S)
    assert later.pk != first.pk and MatchCheck.objects.count() == 2
    assert Alert.objects.count() == 1  # still the one open alarm of this infant


def test_a_nurses_check_is_always_its_own_record(floor: Floor, nurse: User) -> None:
    _, ann, _, baby = _family(floor)
    for second in (0, 5):
        match_record(mother_id=ann.pk, infant_id=baby.pk, how=How.MANUAL, at=T0 + second * S, user=nurse)
    assert MatchCheck.objects.filter(how=How.MANUAL).count() == 2


def test_the_right_mother_after_a_mismatch_clears_the_alarms_condition(floor: Floor) -> None:
    _, ann, bea, baby = _family(floor)
    alert = match_record(mother_id=bea.pk, infant_id=baby.pk, how=How.TOGETHER, at=T0).alert
    assert alert is not None
    match_record(mother_id=ann.pk, infant_id=baby.pk, how=How.TOGETHER, at=T0 + 10 * S)
    alert.refresh_from_db()
    assert alert.state == Alert.State.NEW and not alert.condition_active  # a nurse still closes it
    assert alert.timeline.get(action="condition_cleared").note == "Baby Jones checked with its mother Ann Jones " \
                                                                  "(together)"


def test_it_refuses_unauthorized_users_unknown_mothers_discharged_infants_and_bad_methods(
        floor: Floor, visitor: User) -> None:
    _, ann, _, baby = _family(floor)
    with pytest.raises(SecurityRefused, match="You are not allowed to record match checks"):
        match_record(mother_id=ann.pk, infant_id=baby.pk, how=How.MANUAL, at=T0, user=visitor)
    with pytest.raises(SecurityRefused, match="There is no mother with id 0"):
        match_record(mother_id=0, infant_id=baby.pk, how=How.MANUAL, at=T0)
    with pytest.raises(ValueError, match="how 'sniffed' is not one of"):
        match_record(mother_id=ann.pk, infant_id=baby.pk, how="sniffed", at=T0)
    Infant.objects.filter(pk=baby.pk).update(state=Infant.State.DISCHARGED)
    with pytest.raises(SecurityRefused, match=r"Baby Jones is not protected \(it is discharged\)."):
        match_record(mother_id=ann.pk, infant_id=baby.pk, how=How.MANUAL, at=T0)
    assert not MatchCheck.objects.exists()
