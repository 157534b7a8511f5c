"""The infants API: the protected infants with band, place, escort and discharge; enrolment from a strapped
band; escorts; the two-person discharge. Refusals come back as 409 with the service's sentence."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from floorplans.models import Floor
from security.models import EscortPass, Infant, LocationAccess, TagState
from security.serializers import InfantRowSerializer
from tests.security.test_api_helpers import BABY, Nursery, nursery_setup
from tests.security.test_services_helpers import band
from tests.tracking.whereabouts import floor_elsewhere, scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    return nursery_setup(floor)


def _post(api: APIClient, path: str, body: dict[str, Any] | None = None) -> Any:
    return api.post(path, body or {}, format="json")


def test_it_lists_the_protected_infants_with_band_place_and_mother_and_logs_the_located_one(
        api: APIClient, nurse: User, nursery: Nursery) -> None:
    api.force_authenticate(nurse)
    response = api.get("/api/security/infants/")
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {"Baby Jones", "Baby Brown"}
    jones, brown = rows["Baby Jones"], rows["Baby Brown"]
    assert set(jones) == set(InfantRowSerializer().fields)
    assert (jones["tag"], jones["mother"]["name"], jones["ward"]["name"], jones["strap"]) == (
        BABY, "Ann Jones", "3 North", "closed")
    assert (jones["place"]["zone_name"], jones["place"]["floor"]) == ("Room 101", nursery.floor.pk)
    assert brown["place"] is None and brown["mother"] is None and brown["escort"] is None
    assert list(LocationAccess.objects.values_list("infant__tracked_object__name", "via")) == [("Baby Jones", "api")]


def test_it_enrols_a_strapped_band_and_it_leaves_the_prompts(
        api: APIClient, charge_nurse: User, nursery: Nursery) -> None:
    band("B003")
    api.force_authenticate(charge_nurse)
    assert [p["tag"] for p in api.get("/api/security/enrolment-prompts/").json()] == ["B003"]
    response = _post(api, "/api/security/infants/enrol/", {"tag_id": "B003", "name": "Baby Brown II",
                                                          "ward": nursery.w.ward.pk, "mother": nursery.mother.pk})
    assert response.status_code == 201, response.json()
    assert (response.json()["name"], response.json()["mother"]["name"]) == ("Baby Brown II", "Ann Jones")
    assert Infant.objects.get(pk=response.json()["id"]).enrolled_by == charge_nurse
    assert api.get("/api/security/enrolment-prompts/").json() == []


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"tag_id": "B004", "name": "Baby Loose"}, 409, "strap"),  # the service: the strap is not closed
    ({"tag_id": "B004", "name": ""}, 400, "name"),  # the serializer: no name
    ({"tag_id": "B004", "name": "Baby X", "ward": 999999}, 400, "ward"),
])
def test_it_refuses_to_enrol_with_the_reason(api: APIClient, nurse: User, nursery: Nursery, body: dict[str, Any],
                                             status: int, says: str) -> None:
    band("B004", TagState.Strap.LOOSE)
    api.force_authenticate(nurse)
    response = _post(api, "/api/security/infants/enrol/", {"ward": nursery.w.ward.pk, **body})
    assert response.status_code == status and says in str(response.json()).lower()
    assert not Infant.objects.filter(tracked_object__tag__tag_id="B004").exists()


def test_an_escort_suspends_and_ends_and_a_second_escort_is_refused(
        api: APIClient, charge_nurse: User, nurse: User, nursery: Nursery) -> None:
    path = f"/api/security/infants/{nursery.baby.pk}/escort/"
    api.force_authenticate(nurse)
    assert _post(api, path, {"destination": "radiology", "minutes": 30}).status_code == 403  # nurses do not
    api.force_authenticate(charge_nurse)
    started = _post(api, path, {"destination": "radiology", "reason": "hip ultrasound", "minutes": 30})
    assert started.status_code == 201 and started.json()["authorized_by"] == "charge_nurse"
    again = _post(api, path, {"destination": "NICU", "minutes": 30})
    assert again.status_code == 409 and "already on an escort to radiology" in again.json()["detail"]
    row = api.get(f"/api/security/infants/{nursery.baby.pk}/").json()
    assert row["escort"]["destination"] == "radiology"
    ended = _post(api, f"{path}end/", {"note": "back in room 101"})
    assert ended.status_code == 200 and ended.json()["end_note"] == "back in room 101"
    assert EscortPass.objects.get().ended_by == charge_nurse
    assert _post(api, f"{path}end/").json() == {"detail": "Baby Jones has no escort in progress"}
    assert _post(api, path, {"destination": "x", "minutes": 100000}).status_code == 400


def test_a_discharge_needs_a_reason_and_a_second_person(
        api: APIClient, charge_nurse: User, security_officer: User, nursery: Nursery) -> None:
    path = f"/api/security/infants/{nursery.baby.pk}/discharge/"
    api.force_authenticate(charge_nurse)
    assert _post(api, f"{path}request/").status_code == 400
    requested = _post(api, f"{path}request/", {"reason": "home with her mother"})
    assert requested.status_code == 200 and requested.json()["discharge"]["requested_by"] == "charge_nurse"
    refused = _post(api, f"{path}confirm/")
    assert refused.status_code == 409 and "second person" in refused.json()["detail"]
    assert _post(api, f"{path}shred/").status_code == 404
    api.force_authenticate(security_officer)
    confirmed = _post(api, f"{path}confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "discharged"
    assert [row["name"] for row in api.get("/api/security/infants/", {"discharged": 1}).json()["results"]] == [
        "Baby Jones"]


def test_infants_of_floors_outside_the_scope_do_not_exist_for_the_user(
        api: APIClient, nurse: User, nursery: Nursery) -> None:
    scope(nurse, "Block B only", buildings=(floor_elsewhere().building,))
    api.force_authenticate(nurse)
    assert api.get("/api/security/infants/").json()["results"] == []
    assert api.get(f"/api/security/infants/{nursery.baby.pk}/").status_code == 404


def test_visitors_see_no_infants(api: APIClient, visitor: User, nursery: Nursery) -> None:
    api.force_authenticate(visitor)
    assert api.get("/api/security/infants/").status_code == 403
    assert not LocationAccess.objects.exists()
