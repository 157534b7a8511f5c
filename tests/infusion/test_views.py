"""The nurses' infusion pages: who may open which ward, what the board boots with, the charge nurse's
admit / transfer / discharge forms (refusals shown in the form), and a bag's page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Polygon
from django.test import Client
from django.utils import timezone

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor, Zone
from infusion.bags import bag_dispense, bag_register
from infusion.models import InfusionBag, Patient
from infusion.services import patient_admit
from tests.tracking.whereabouts import floor_above, scope, zone

pytestmark = pytest.mark.django_db


def _as(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _config(page: str) -> dict[str, Any]:
    marker = '<script id="infusion-config" type="application/json">'
    start = page.index(marker) + len(marker)
    return json.loads(page[start:page.index("</script>", start)])  # type: ignore[no-any-return]


def _ward(floor: Floor) -> Zone:
    return zone(floor, "3N")


def _box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    box = Polygon.from_bbox((x0, y0, x1, y1))
    box.srid = FLOOR_SRID
    return box


def _second_ward(floor: Floor, *, code: str = "4S", name: str = "4 South") -> Zone:
    """A ward with one bed on the floor above."""
    upstairs = floor_above(floor)
    ward = Zone.objects.create(floor=upstairs, code=code, name=name, kind=Zone.Kind.WARD,
                               polygon=_box(0, 0, 20, 10))
    Zone.objects.create(floor=upstairs, code=f"{code}-1", name="Bed 1", kind=Zone.Kind.BED, ward=ward, parent=ward,
                        polygon=_box(1, 1, 3, 3))
    return ward


def _admit(floor: Floor, mrn: str = "MRN100", bed: str = "3N-101-A", family: str = "Doe",
           given: str = "Jane") -> Patient:
    return patient_admit(mrn=mrn, family_name=family, given_name=given, bed=zone(floor, bed))


def _bag(patient: Patient, tag_id: str = "E2000001") -> InfusionBag:
    bag = bag_register(tag_id=tag_id, patient_mrn=patient.mrn, drug="Vancomycin", concentration="5 mg/mL",
                       volume_ml=250, ordered_rate_ml_h=125, lot="L1", expires_at=timezone.now() + timedelta(days=2),
                       user=None)
    return bag_dispense(bag_id=bag.pk, user=None)


# ---- who may open what ----

@pytest.mark.parametrize("url", ["/infusion/", "/infusion/wards/{ward}/", "/infusion/bags/1/"])
def test_it_sends_anonymous_visitors_to_log_in(client: Client, floor: Floor, url: str) -> None:
    response = client.get(url.format(ward=_ward(floor).pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/infusion/", "/infusion/wards/{ward}/", "/infusion/bags/1/"])
def test_it_refuses_a_user_without_a_role(client: Client, floor: Floor, visitor: User, url: str) -> None:
    assert _as(client, visitor).get(url.format(ward=_ward(floor).pk)).status_code == 403


def test_it_opens_the_only_ward_at_once(client: Client, floor: Floor, nurse: User) -> None:
    assert _as(client, nurse).get("/infusion/")["Location"] == f"/infusion/wards/{_ward(floor).pk}/"


def test_it_lists_the_wards_with_their_beds_patients_and_running_infusions(client: Client, floor: Floor,
                                                                          nurse: User) -> None:
    other = _second_ward(floor)
    _admit(floor)
    page = _as(client, nurse).get("/infusion/").content.decode()
    assert f'href="/infusion/wards/{_ward(floor).pk}/"' in page and f'href="/infusion/wards/{other.pk}/"' in page
    assert "3 beds · 1 patient · <b>0</b> infusions running" in page
    assert "1 bed · 0 patients" in page


def test_it_keeps_a_scoped_nurse_to_the_wards_of_her_floors(client: Client, floor: Floor, nurse: User) -> None:
    other = _second_ward(floor)
    scope(nurse, "3 North", floors=(floor,))
    _as(client, nurse)
    assert client.get("/infusion/")["Location"] == f"/infusion/wards/{_ward(floor).pk}/"
    assert client.get(f"/infusion/wards/{other.pk}/").status_code == 403


def test_it_lets_a_charge_nurse_open_every_ward_even_when_scoped(client: Client, floor: Floor,
                                                                charge_nurse: User) -> None:
    other = _second_ward(floor)
    scope(charge_nurse, "3 North", floors=(floor,))
    assert _as(client, charge_nurse).get(f"/infusion/wards/{other.pk}/").status_code == 200


def test_it_answers_404_for_a_zone_that_is_not_a_ward(client: Client, floor: Floor, nurse: User) -> None:
    assert _as(client, nurse).get(f"/infusion/wards/{zone(floor, '3N-101').pk}/").status_code == 404


# ---- the board page ----

def test_the_board_boots_with_its_ward_the_api_paths_and_the_action_table(client: Client, floor: Floor,
                                                                         nurse: User) -> None:
    ward = _ward(floor)
    page = _as(client, nurse).get(f"/infusion/wards/{ward.pk}/").content.decode()
    config = _config(page)
    assert config["ward"] == {"id": ward.pk, "code": "3N", "name": "3 North", "floor": floor.pk}
    assert config["urls"]["board"] == "/api/infusion/wards/{ward}/board/"
    assert config["urls"]["action"] == "/api/infusion/bags/{bag}/{action}/"
    assert config["urls"]["acknowledge"] == "/api/alerts/{alert}/acknowledge/"
    assert config["csrf"] and config["poll_every_s"] > 0
    assert config["allowed"]["at_bedside"] == ["start", "return", "waste"]
    assert config["allowed"]["on_ward"] == ["start", "return", "waste"]
    assert config["allowed"]["infusing"] == ["pause", "rate", "complete", "discontinue"]
    assert config["allowed"]["paused"] == ["resume", "rate", "complete", "discontinue"]
    assert config["allowed"]["completed"] == [] and config["allowed"]["wasted"] == []
    assert config["can_manage_patients"] is False
    assert 'type="module" src="/static/infusion/board.js"' in page
    assert 'id="ib-tag"' in page  # the scan field
    assert "ib-form-admit" not in page  # a nurse does not admit


def test_the_board_gives_a_charge_nurse_the_patient_forms(client: Client, floor: Floor, charge_nurse: User) -> None:
    _admit(floor)
    page = _as(client, charge_nurse).get(f"/infusion/wards/{_ward(floor).pk}/").content.decode()
    assert _config(page)["can_manage_patients"] is True
    for name in ("admit", "transfer", "discharge"):
        assert f'id="ib-form-{name}"' in page
    assert "3 North · Bed 101A — Doe, Jane" in page  # the admit form's beds say who lies there
    assert "3 North · Bed 102A — free" in page
    assert 'value="MRN100"' in page  # transfer / discharge choose among the ward's patients


def test_the_nav_bar_links_the_infusion_board_and_the_alerts(client: Client, floor: Floor, nurse: User,
                                                             visitor: User) -> None:
    page = _as(client, nurse).get("/").content.decode()
    assert 'href="/infusion/">Infusions</a>' in page and 'href="/alerts/">Alerts</a>' in page
    page = _as(Client(), visitor).get("/accounts/login/").content.decode()
    assert ">Infusions</a>" not in page and ">Alerts</a>" not in page


# ---- admit / transfer / discharge ----

def _post(client: Client, floor: Floor, what: str, **fields: Any) -> Any:
    data = {f"{what}-{name}": value for name, value in fields.items()}
    return client.post(f"/infusion/wards/{_ward(floor).pk}/{what}/", data, follow=False)


def test_it_admits_a_patient_into_a_free_bed(client: Client, floor: Floor, charge_nurse: User) -> None:
    bed = zone(floor, "3N-102-A")
    response = _post(_as(client, charge_nurse), floor, "admit", mrn=" MRN7 ", family_name="Smith", given_name="Ann",
                     birth_date="1950-02-03", sex="F", bed=bed.pk)
    assert response.status_code == 302 and response["Location"] == f"/infusion/wards/{_ward(floor).pk}/"
    patient = Patient.objects.get(mrn="MRN7")
    assert (patient.bed, patient.ward, patient.sex, str(patient.birth_date)) == (bed, _ward(floor), "F", "1950-02-03")
    assert "Smith, Ann admitted to Bed 102A." in client.get(response["Location"]).content.decode()


def test_it_shows_why_a_bed_is_refused_in_the_form(client: Client, floor: Floor, charge_nurse: User) -> None:
    _admit(floor)
    response = _post(_as(client, charge_nurse), floor, "admit", mrn="MRN8", family_name="Roe", given_name="Rick",
                     sex="U", bed=zone(floor, "3N-101-A").pk)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="ib-form-admit" aria-labelledby="ib-form-admit-title" data-open="1"' in page  # reopened
    assert "occupied by Doe, Jane (MRN100)" in page
    assert 'value="Roe"' in page  # what was typed stays
    assert not Patient.objects.filter(mrn="MRN8").exists()


def test_it_refuses_to_admit_a_patient_who_is_already_in_a_bed(client: Client, floor: Floor,
                                                              charge_nurse: User) -> None:
    _admit(floor)
    response = _post(_as(client, charge_nurse), floor, "admit", mrn="MRN100", family_name="Doe", given_name="Jane",
                     sex="U", bed=zone(floor, "3N-102-A").pk)
    assert response.status_code == 400
    assert "MRN MRN100 is already admitted; transfer the patient instead." in response.content.decode()
    assert Patient.objects.get(mrn="MRN100").bed == zone(floor, "3N-101-A")


def test_it_names_the_missing_fields(client: Client, floor: Floor, charge_nurse: User) -> None:
    response = _post(_as(client, charge_nurse), floor, "admit", mrn="", family_name="", given_name="X", sex="U")
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 3  # mrn, family name, bed


def test_it_transfers_a_patient_to_another_bed(client: Client, floor: Floor, charge_nurse: User) -> None:
    _admit(floor)
    bed = zone(floor, "3N-102-B")
    response = _post(_as(client, charge_nurse), floor, "transfer", patient="MRN100", bed=bed.pk)
    assert response.status_code == 302
    assert Patient.objects.get(mrn="MRN100").bed == bed


def test_it_refuses_a_transfer_into_an_occupied_bed(client: Client, floor: Floor, charge_nurse: User) -> None:
    _admit(floor)
    _admit(floor, mrn="MRN200", bed="3N-102-A", family="Poe", given="Ed")
    response = _post(_as(client, charge_nurse), floor, "transfer", patient="MRN100", bed=zone(floor, "3N-102-A").pk)
    assert response.status_code == 400
    assert "occupied by Poe, Ed (MRN200)" in response.content.decode()
    assert Patient.objects.get(mrn="MRN100").bed == zone(floor, "3N-101-A")


def test_it_refuses_a_transfer_into_the_same_bed(client: Client, floor: Floor, charge_nurse: User) -> None:
    _admit(floor)
    response = _post(_as(client, charge_nurse), floor, "transfer", patient="MRN100", bed=zone(floor, "3N-101-A").pk)
    assert response.status_code == 400 and "The patient already lies in that bed." in response.content.decode()


def test_it_discharges_a_patient(client: Client, floor: Floor, charge_nurse: User) -> None:
    _admit(floor)
    response = _post(_as(client, charge_nurse), floor, "discharge", patient="MRN100")
    assert response.status_code == 302
    patient = Patient.objects.get(mrn="MRN100")
    assert patient.discharged_at is not None and patient.bed is None


def test_it_offers_only_this_wards_patients_to_discharge(client: Client, floor: Floor, charge_nurse: User) -> None:
    other = _second_ward(floor)
    patient_admit(mrn="MRN300", family_name="Far", given_name="Away", bed=Zone.objects.get(ward=other, kind="bed"))
    response = _post(_as(client, charge_nurse), floor, "discharge", patient="MRN300")
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert Patient.objects.get(mrn="MRN300").discharged_at is None


@pytest.mark.parametrize("what", ["admit", "transfer", "discharge"])
def test_it_refuses_patient_changes_to_a_nurse(client: Client, floor: Floor, nurse: User, what: str) -> None:
    _admit(floor)
    response = _post(_as(client, nurse), floor, what, patient="MRN100", mrn="MRN9", family_name="A", given_name="B",
                     sex="U", bed=zone(floor, "3N-102-A").pk)
    assert response.status_code == 403
    assert Patient.objects.get(mrn="MRN100").bed == zone(floor, "3N-101-A")


def test_it_takes_patient_changes_only_by_post(client: Client, floor: Floor, charge_nurse: User) -> None:
    assert _as(client, charge_nurse).get(f"/infusion/wards/{_ward(floor).pk}/admit/").status_code == 405


# ---- a bag's page ----

def test_a_bags_page_names_the_bag_and_boots_its_timeline(client: Client, floor: Floor, nurse: User) -> None:
    bag = _bag(_admit(floor))
    page = _as(client, nurse).get(f"/infusion/bags/{bag.pk}/").content.decode()
    config = _config(page)
    assert (config["bag"], config["ward"]) == (bag.pk, _ward(floor).pk)
    assert config["urls"]["timeline"] == "/api/infusion/bags/{bag}/timeline/"
    assert config["urls"]["board"] == f"/infusion/wards/{_ward(floor).pk}/"
    assert "Vancomycin" in page and "Doe, Jane</strong> (MRN MRN100)" in page and "E2000001" in page
    assert f'href="/api/infusion/bags/{bag.pk}/fhir/"' in page
    assert 'type="module" src="/static/infusion/bag.js"' in page


def test_a_bags_page_is_404_for_an_unknown_bag(client: Client, floor: Floor, nurse: User) -> None:
    assert _as(client, nurse).get("/infusion/bags/999999/").status_code == 404


def test_a_bag_of_another_ward_is_kept_from_a_scoped_nurse(client: Client, floor: Floor, nurse: User) -> None:
    other = _second_ward(floor)
    patient = patient_admit(mrn="MRN300", family_name="Far", given_name="Away",
                            bed=Zone.objects.get(ward=other, kind="bed"))
    bag = _bag(patient)
    scope(nurse, "3 North", floors=(floor,))
    assert _as(client, nurse).get(f"/infusion/bags/{bag.pk}/").status_code == 404  # as in the API: ids do not leak
