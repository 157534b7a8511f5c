"""Registering mothers and enrolling infants: the good paths and every refusal, in a nurse's words."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from floorplans.models import Floor
from security.exceptions import SecurityRefused
from security.models import Infant, Mother, TagState
from security.services import infant_enrol, mother_register
from tests.security.test_services_helpers import T0, band, infant_make, mother_make, ward_setup
from tracking.models import Tag, TrackedObject
from tracking.services import tracked_object_tag

pytestmark = pytest.mark.django_db


def test_it_registers_a_mother_on_a_new_tag_homed_in_her_room(floor: Floor, nurse: User) -> None:
    w = ward_setup(floor)
    mother = mother_register(tag_id="A001", name="Ann Jones", ward_id=w.ward.pk, patient_id=w.ann.pk, user=nurse)
    obj = mother.tracked_object
    assert (obj.kind, obj.name, obj.home_zone) == (TrackedObject.Kind.MOTHER, "Ann Jones", w.room101)
    assert obj.tag is not None and (obj.tag.tag_id, obj.tag.tech) == ("A001", Tag.Tech.UWB)
    assert mother.patient == w.ann


def test_it_updates_a_mother_registered_again_on_the_same_tag(floor: Floor) -> None:
    w = ward_setup(floor)
    first = mother_make(w)
    again = mother_register(tag_id="A001", name="Ann B. Jones", ward_id=w.ward.pk, patient_id=None, user=None)
    assert again.pk == first.pk and Mother.objects.count() == 1
    again.tracked_object.refresh_from_db()
    assert again.tracked_object.name == "Ann B. Jones" and again.patient is None
    assert again.tracked_object.home_zone == w.ward  # no patient, no room given: the ward


@pytest.mark.parametrize(("change", "expected"), [
    ({"name": "  "}, "Give the mother's name."),
    ({"ward_id": "room"}, r"Zone \d+ is not a ward\."),
    ({"patient_id": 999_999}, "There is no patient with id 999999."),
    ({"tag_id": "PUMP-1"}, r"Tag PUMP-1 is already worn by Pump \(asset\)\."),
])
def test_it_refuses_a_mother_with_bad_details(floor: Floor, change: dict[str, object], expected: str) -> None:
    w = ward_setup(floor)
    tracked_object_tag(kind=TrackedObject.Kind.ASSET, name="Pump", tag_id="PUMP-1", tech=Tag.Tech.BLE)
    arguments: dict[str, object] = {"tag_id": "A001", "name": "Ann Jones", "ward_id": w.ward.pk,
                                    "patient_id": w.ann.pk, "user": None}
    arguments |= change
    if arguments["ward_id"] == "room":
        arguments["ward_id"] = w.room101.pk
    with pytest.raises(SecurityRefused, match=expected):
        mother_register(**arguments)  # type: ignore[arg-type]
    assert not Mother.objects.exists()


def test_it_refuses_a_second_mother_tag_for_the_same_patient_and_a_user_without_the_permission(
        floor: Floor, visitor: User) -> None:
    w = ward_setup(floor)
    mother_make(w, "A001")
    with pytest.raises(SecurityRefused, match="Ann Jones already wears another mother tag"):
        mother_register(tag_id="A002", name="Ann Jones", ward_id=w.ward.pk, patient_id=w.ann.pk, user=None)
    with pytest.raises(SecurityRefused, match="You are not allowed to register mothers"):
        mother_register(tag_id="A003", name="X", ward_id=w.ward.pk, user=visitor)


def test_it_enrols_an_infant_whose_strap_reports_closed(floor: Floor, nurse: User) -> None:
    w = ward_setup(floor)
    mother = mother_make(w)
    band("B001")
    infant = infant_enrol(tag_id="B001", name="Baby Jones", ward_id=w.ward.pk, mother_id=mother.pk, born_at=T0,
                          user=nurse, at=T0)
    assert (infant.state, infant.ward, infant.mother, infant.enrolled_at, infant.enrolled_by) == (
        Infant.State.PROTECTED, w.ward, mother, T0, nurse)
    obj = infant.tracked_object
    assert (obj.kind, obj.name, obj.home_zone, obj.tag.tag_id if obj.tag else None) == (
        TrackedObject.Kind.INFANT, "Baby Jones", w.room101, "B001")  # home: the mother's room


@pytest.mark.parametrize(("strap", "expected"), [
    (TagState.Strap.LOOSE, "Tag B001 reports its strap loose: close the strap and wait for the tag to report it"),
    (TagState.Strap.CUT, "Tag B001 reports its strap cut: close the strap"),
    (TagState.Strap.UNKNOWN, "Tag B001 reports its strap unknown"),
    (None, "Tag B001 has not reported its strap yet"),
])
def test_it_refuses_to_enrol_unless_the_strap_reports_closed(floor: Floor, strap: str | None, expected: str) -> None:
    w = ward_setup(floor)
    if strap is None:
        Tag.objects.create(tag_id="B001", tech=Tag.Tech.UWB)
    else:
        band("B001", strap)
    with pytest.raises(SecurityRefused, match=expected):
        infant_enrol(tag_id="B001", name="Baby", ward_id=w.ward.pk, mother_id=None, born_at=None, user=None)
    assert not Infant.objects.exists() and not TrackedObject.objects.filter(kind="infant").exists()


def test_it_enrols_a_tag_already_on_an_infant_record_without_a_strap_report(floor: Floor) -> None:
    w = ward_setup(floor)
    obj = tracked_object_tag(kind=TrackedObject.Kind.INFANT, name="Infant 1", tag_id="B009", tech=Tag.Tech.UWB,
                             home_zone=w.room102)
    infant = infant_enrol(tag_id="B009", name="Infant 1", ward_id=w.ward.pk, mother_id=None, born_at=None, user=None)
    assert infant.tracked_object == obj and infant.state == Infant.State.PROTECTED
    obj.refresh_from_db()
    assert obj.home_zone == w.room102  # its home is kept


def test_it_refuses_unknown_tags_tags_worn_by_others_twice_enrolled_infants_and_unauthorized_users(
        floor: Floor, visitor: User, biomed: User) -> None:
    w = ward_setup(floor)
    mother = mother_make(w)
    infant_make(w, "B001", mother=mother)

    def enrol(tag_id: str, **extra: object) -> Infant:
        arguments: dict[str, object] = {"tag_id": tag_id, "name": "Baby", "ward_id": w.ward.pk, "mother_id": None,
                                        "born_at": None, "user": None}
        return infant_enrol(**(arguments | extra))  # type: ignore[arg-type]

    with pytest.raises(SecurityRefused, match="Tag NEVER has not been heard yet: fasten the band"):
        enrol("NEVER")
    with pytest.raises(SecurityRefused, match=r"Tag A001 is already worn by Ann Jones \(mother\)"):
        enrol("A001")
    with pytest.raises(SecurityRefused, match="Baby Jones is already protected"):
        enrol("B001", name="Baby Jones")
    with pytest.raises(SecurityRefused, match="There is no mother with id 424242"):
        enrol("B002", mother_id=424242)
    with pytest.raises(SecurityRefused, match="Give the infant's name"):
        enrol("B002", name=" ")
    for user in (visitor, biomed):
        with pytest.raises(SecurityRefused, match="You are not allowed to enrol infants"):
            enrol("B002", user=user)
    assert Infant.objects.count() == 1
