"""The demo's infant protection on the real demo floors: controllers for every lockable door and lift bank,
a mother with a tag for each demo infant, the six infants protected on the maternity ward; loading again
changes nothing. (tests/floorplans/test_load_demo.py runs it inside `manage.py load_demo`.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client

from floorplans.demo.inventory import demo_patients, demo_wearers
from floorplans.demo.layout import demo_floors
from floorplans.models import Door, Zone
from floorplans.services import floor_file_check, floor_import
from infusion.models import Patient
from infusion.services import patient_admit
from security.codepink import code_pink_start
from security.demo import security_demo_load
from security.doors.port import door_port_install
from security.doors.protocol import Command
from security.doors.services import elevator_controllers, exit_controllers
from security.models import DoorController, Infant, LocationAccess, Mother, TagState
from security.selectors import armed_infants, armed_mothers, enrolment_prompts
from security.services import escort_start, match_record
from tracking.models import Tag, TrackedObject
from tracking.services import tracked_object_tag

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def hospital() -> dict[str, Zone]:
    """The demo floors, badges and infant tags, and patients, as load_demo puts them (without plans)."""
    documents = demo_floors()
    floors = [floor_import(floor_file=floor_file_check(document)).floor for document in documents]
    zones = {zone.code: zone for zone in Zone.objects.filter(floor__in=floors)}
    for wearer in demo_wearers(documents):
        tracked_object_tag(kind=wearer.kind, name=wearer.name, tag_id=wearer.tag_id, tech=wearer.tech,
                           home_zone=zones[wearer.home_zone])
    for patient in demo_patients(documents, today=date(2026, 3, 4)):
        patient_admit(mrn=patient.mrn, family_name=patient.family_name, given_name=patient.given_name,
                      sex=patient.sex, birth_date=patient.birth_date, bed=zones[patient.bed])
    return zones


def test_it_makes_a_controller_for_every_lockable_door_and_lift_bank_once(hospital: dict[str, Zone]) -> None:
    loaded = security_demo_load(now=NOW)
    _assert_loading_again_changes_nothing()
    codes = set(Door.objects.exclude(lock_controller="").values_list("lock_controller", flat=True))
    controllers = {c.code: c for c in DoorController.objects.select_related("floor")}
    assert set(controllers) == codes | {"lifts-L0", "lifts-2E", "lifts-4W"}
    assert loaded.controllers == len(controllers)
    kinds = {code: c.kind for code, c in controllers.items()}
    assert {code for code, kind in kinds.items() if kind == "maglock"} == {
        "maglock-2E-west", "maglock-2E-east", "maglock-2E-lifts"}
    assert kinds["access-2E-nursery"] == "access" and kinds["lifts-2E"] == "elevator"
    assert all(c.topic == f"hospital_iot/doors/{code}" for code, c in controllers.items())
    l2 = controllers["maglock-2E-west"].floor
    assert l2 is not None and l2.code == "L2"
    # what a Code Pink on the maternity floor will command
    assert [c.code for c in exit_controllers(floor_id=l2.pk, building_id=l2.building_id)] == [
        "maglock-2E-east", "maglock-2E-lifts", "maglock-2E-west"]
    assert [c.code for c in elevator_controllers(floor_id=l2.pk, building_id=l2.building_id)] == ["lifts-2E"]


def test_it_protects_the_six_demo_infants_each_linked_to_a_tagged_mother(hospital: dict[str, Zone]) -> None:
    loaded = security_demo_load(now=NOW)
    assert (loaded.mothers, loaded.infants, loaded.enrolled_now) == (6, 6, 6)
    ward = hospital["2E"]
    infants = list(Infant.objects.select_related("tracked_object__tag", "tracked_object__home_zone",
                                                 "mother__tracked_object__home_zone", "mother__patient"))
    assert len(infants) == 6
    assert all(i.state == Infant.State.PROTECTED and i.ward == ward and i.mother is not None for i in infants)
    assert len({i.mother_id for i in infants}) == 6  # one mother each
    infant_rooms: set[int] = set()
    for infant in infants:
        home = infant.tracked_object.home_zone
        mother = infant.mother
        assert home is not None and mother is not None
        mother_obj = mother.tracked_object
        assert mother_obj.kind == TrackedObject.Kind.MOTHER and mother_obj.tag is not None
        assert mother_obj.tag.tech == Tag.Tech.UWB
        assert infant.tracked_object.tag is not None
        assert mother_obj.tag.tag_id == "A" + infant.tracked_object.tag.tag_id[1:]
        if home.kind == Zone.Kind.ROOM:  # the mother of a room's infant is that room's mother
            infant_rooms.add(home.pk)
            assert mother_obj.home_zone == home
            in_bed = Patient.objects.filter(bed__parent=home, discharged_at__isnull=True).first()
            assert mother.patient == in_bed
            assert mother_obj.name == (f"{in_bed.given_name} {in_bed.family_name}" if in_bed
                                       else f"Mother in {home.name}")
    nursery = [i for i in infants if i.tracked_object.home_zone and i.tracked_object.home_zone.kind == "nursery"]
    assert len(nursery) == 1 and nursery[0].mother is not None
    her_room = nursery[0].mother.tracked_object.home_zone
    assert her_room is not None and her_room.kind == Zone.Kind.ROOM and her_room.pk not in infant_rooms
    assert nursery[0].mother.patient is not None  # a room with a patient in bed was chosen
    assert len(armed_infants()) == 6 and len(armed_mothers()) == 6
    assert set(TagState.objects.values_list("strap", flat=True)) == {"closed"} and TagState.objects.count() == 12
    assert enrolment_prompts() == []


def _assert_loading_again_changes_nothing() -> None:
    models = (DoorController, Mother, Infant, TagState, Tag, TrackedObject)
    before = {model.__name__: model.objects.count() for model in models}
    mothers = dict(Infant.objects.values_list("pk", "mother_id"))
    again = security_demo_load(now=NOW)
    assert (again.enrolled_now, again.mothers, again.infants) == (0, 6, 6)
    assert {model.__name__: model.objects.count() for model in models} == before
    assert dict(Infant.objects.values_list("pk", "mother_id")) == mothers


def test_the_administrator_reads_every_security_record_in_the_admin_and_cannot_edit_the_audit_trail(
        hospital: dict[str, Zone], administrator: User, charge_nurse: User) -> None:
    security_demo_load(now=NOW)
    infant = Infant.objects.select_related("mother").order_by("pk").first()
    assert infant is not None and infant.mother is not None
    escort_start(infant_id=infant.pk, user=charge_nurse, destination="Radiology", reason="scan", minutes=30, at=NOW)
    match_record(mother_id=infant.mother.pk, infant_id=infant.pk, how="manual", at=NOW)
    LocationAccess.objects.create(user=administrator, username="admin", infant=infant, tag_id="B001", at=NOW,
                                  via="console")
    previous = door_port_install(_Quiet())  # the demo's real door topics: not for a test to lock
    try:
        code_pink_start(trigger="manual", building_id=hospital["2E"].floor.building_id,
                        floor_id=hospital["2E"].floor_id, drill=True, at=NOW)
    finally:
        door_port_install(previous)
    client = Client()
    client.force_login(administrator)
    for model in apps.get_app_config("security").get_models():
        name = model._meta.model_name
        row = model._default_manager.order_by("pk").first()
        assert row is not None, name
        assert client.get(f"/admin/security/{name}/").status_code == 200, name
        assert client.get(f"/admin/security/{name}/{row.pk}/change/").status_code == 200, name
    for name in ("locationaccess", "doorcommand", "codepinkevent", "matchcheck"):  # the record: read only
        row = apps.get_model("security", name)._default_manager.order_by("pk").first()
        assert row is not None, name
        assert client.get(f"/admin/security/{name}/add/").status_code == 403, name
        assert client.post(f"/admin/security/{name}/{row.pk}/change/", {}).status_code == 403, name
        assert client.post(f"/admin/security/{name}/{row.pk}/delete/", {"post": "yes"}).status_code == 403, name


class _Quiet:
    """A door port that accepts commands and sends them nowhere."""

    def send(self, *, topic: str, command: Command) -> bool:
        return True
