"""The armed directory the pipeline reads every window (a dict read while nothing changed, rebuilt after any
change), the active escort, and the enrolment prompts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from floorplans.models import Floor
from security.models import EscortPass, Infant, TagState
from security.selectors import (
    ArmedInfant,
    ArmedMother,
    armed_infants,
    armed_invalidate,
    armed_mothers,
    enrolment_prompts,
    infants_armed_on_floor,
)
from security.services import infant_discharge_confirm, infant_discharge_request, mother_register
from tests.security.test_services_helpers import T0, band, infant_make, mother_make, ward_setup
from tracking.models import Tag, TrackedObject

pytestmark = pytest.mark.django_db


def _queries(call: Any) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, len(captured)


def test_it_lists_armed_infants_and_mothers_by_tag_pk(floor: Floor) -> None:
    w = ward_setup(floor)
    ann = mother_make(w)
    baby = infant_make(w, mother=ann)
    infant_make(w, "B002", name="Baby Doe")
    baby_tag, ann_tag = baby.tracked_object.tag, ann.tracked_object.tag
    assert baby_tag is not None and ann_tag is not None
    infants, mothers = armed_infants(), armed_mothers()
    assert infants[baby_tag.pk] == ArmedInfant(
        infant_id=baby.pk, tag_pk=baby_tag.pk, tag_id="B001", name="Baby Jones", ward_id=w.ward.pk,
        floor_id=floor.pk, mother_id=ann.pk, mother_tag_pk=ann_tag.pk, escorted_until=None)
    assert sorted(i.name for i in infants.values()) == ["Baby Doe", "Baby Jones"]
    assert mothers == {ann_tag.pk: ArmedMother(mother_id=ann.pk, tag_pk=ann_tag.pk, tag_id="A001", name="Ann Jones",
                                               infant_ids=(baby.pk,))}
    assert [i.name for i in infants_armed_on_floor(floor_id=floor.pk)] != []
    assert infants_armed_on_floor(floor_id=floor.pk + 1000) == []


def test_it_answers_from_memory_while_nothing_changes(floor: Floor) -> None:
    w = ward_setup(floor)
    infant_make(w)
    first, built = _queries(armed_infants)
    assert built == 3  # infants (with their tags, wards, mothers), running escorts, mothers
    for _ in range(100):
        again, queries = _queries(armed_infants)
        assert again is first and queries == 0
    _, queries = _queries(armed_mothers)
    assert queries == 0  # built together


@pytest.mark.parametrize(("change", "expected"), [
    ("enrol", lambda infants, mothers: sorted(i.tag_id for i in infants.values()) == ["B001", "B002"]),
    ("discharge", lambda infants, mothers: infants == {} and mothers[0].infant_ids == ()),
    ("escort", lambda infants, mothers: [i.escorted_until for i in infants.values()] == [T0]),
    ("mother", lambda infants, mothers: [m.name for m in mothers] == ["Ann Smith"]),
    ("rename", lambda infants, mothers: [i.name for i in infants.values()] == ["Baby Ann Jones"]),
    ("retag", lambda infants, mothers: [i.tag_id for i in infants.values()] == ["B777"]),
])
def test_it_rebuilds_after_any_change(floor: Floor, charge_nurse: User, security_officer: User, change: str,
                                      expected: Any) -> None:
    w = ward_setup(floor)
    ann = mother_make(w)
    baby = infant_make(w, mother=ann)
    before = armed_infants()
    obj = baby.tracked_object
    if change == "enrol":
        infant_make(w, "B002", name="Baby Doe")
    elif change == "discharge":
        infant_discharge_request(infant_id=baby.pk, user=charge_nurse, reason="home")
        infant_discharge_confirm(infant_id=baby.pk, user=security_officer)
    elif change == "escort":
        EscortPass.objects.create(infant=baby, destination="X-ray", authorized_by=charge_nurse, started_at=T0,
                                  expires_at=T0)
    elif change == "mother":
        mother_register(tag_id="A001", name="Ann Smith", ward_id=w.ward.pk, user=None)
    elif change == "rename":
        obj.name = "Baby Ann Jones"
        obj.save()
    elif change == "retag":
        obj.tag = Tag.objects.create(tag_id="B777", tech=Tag.Tech.UWB)
        obj.save()
    after = armed_infants()
    assert after is not before
    assert expected(after, list(armed_mothers().values()))


def test_it_does_not_rebuild_for_other_tracked_objects(floor: Floor) -> None:
    infant_make(ward_setup(floor))
    before = armed_infants()
    TrackedObject.objects.create(kind=TrackedObject.Kind.ASSET, name="Pump")
    assert armed_infants() is before


def test_it_rebuilds_when_older_than_its_time_to_live(floor: Floor, settings: Any) -> None:
    """A change made by another process sends no signal here: the directory is rebuilt after the TTL."""
    w = ward_setup(floor)
    infant_make(w)
    before = armed_infants()
    Infant.objects.filter(pk__isnull=False).update(state=Infant.State.DISCHARGED)  # no signal, as elsewhere
    assert armed_infants() is before
    settings.SECURITY_ARMED_CACHE_TTL_S = 0.0
    assert armed_infants() == {}


def test_a_directory_read_while_a_change_happens_is_not_kept(floor: Floor) -> None:
    """An invalidation during a rebuild wins: the rebuilt directory serves its caller but is not cached."""
    infant_make(ward_setup(floor))
    armed_invalidate()
    from security import selectors

    real_build = selectors._build
    changed = threading.Event()

    def build_then_change() -> Any:
        result = real_build()
        armed_invalidate()  # another thread saved an Infant meanwhile
        changed.set()
        return result

    selectors._build = build_then_change
    try:
        served = armed_infants()
    finally:
        selectors._build = real_build
    assert changed.is_set() and len(served) == 1
    _, queries = _queries(armed_infants)
    assert queries == 3  # rebuilt: the one read during the change was not kept


def test_enrolment_prompts_are_closed_straps_not_yet_enrolled(floor: Floor) -> None:
    w = ward_setup(floor)
    infant_make(w, "B001")  # enrolled: no prompt
    mother_make(w, "A001")
    band("A001")  # a mother's band: no prompt
    band("B002", at=T0)
    band("B003", TagState.Strap.LOOSE)  # not closed yet
    band("B004", at=T0.replace(hour=11))
    assert [state.tag.tag_id for state in enrolment_prompts()] == ["B004", "B002"]  # newest first
