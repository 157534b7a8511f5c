"""Each role sees and changes only what it should: API, admin and pages, people and machines."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from accounts import roles
from accounts.services import token_for, user_create_with_role
from floorplans.models import Floor
from readers.models import Reader

pytestmark = pytest.mark.django_db

PERSONAS = {
    "nurse": roles.NURSE, "charge_nurse": roles.CHARGE_NURSE, "biomed": roles.BIOMED,
    "security_officer": roles.SECURITY, "administrator": roles.ADMINISTRATOR,
}


def _user(persona: str) -> User:
    if persona == "visitor":
        return User.objects.create_user("visitor", password="pw")
    return user_create_with_role(username=persona, role=PERSONAS[persona], password="pw")


def _new_zone(floor: Floor) -> dict[str, Any]:
    ring = [[12, 1], [14, 1], [14, 2], [12, 2], [12, 1]]
    return {"floor": floor.pk, "code": "3N-NEW", "name": "New store", "kind": "storage",
            "polygon": {"type": "Polygon", "coordinates": [ring]}}


READ_FLOORS = {"nurse": 200, "charge_nurse": 200, "biomed": 200, "security_officer": 200, "administrator": 200,
               "visitor": 403}
READ_READERS = {"nurse": 403, "charge_nurse": 403, "biomed": 200, "security_officer": 200, "administrator": 200,
                "visitor": 403}
WRITE_ZONES = {"nurse": 403, "charge_nurse": 403, "biomed": 403, "security_officer": 403, "administrator": 201,
               "visitor": 403}


@pytest.mark.parametrize("persona", list(READ_FLOORS))
def test_each_role_gets_what_it_may_from_the_api(api: APIClient, floor: Floor, persona: str) -> None:
    api.force_authenticate(_user(persona))
    assert api.get("/api/floors/").status_code == READ_FLOORS[persona]
    assert api.get(f"/api/zones/?floor={floor.pk}").status_code == READ_FLOORS[persona]
    assert api.get("/api/readers/").status_code == READ_READERS[persona]
    assert api.post("/api/zones/", _new_zone(floor), format="json").status_code == WRITE_ZONES[persona]
    reader = Reader.objects.get(code="UWB-1")
    expected_delete = 204 if persona == "administrator" else 403
    assert api.delete(f"/api/readers/{reader.pk}/").status_code == expected_delete


def test_anonymous_callers_are_asked_to_authenticate(api: APIClient, floor: Floor) -> None:
    response = api.get("/api/floors/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_machine_reads_with_its_token_and_cannot_write(api: APIClient, floor: Floor) -> None:
    machine = user_create_with_role(username="nurse-call", role=roles.INTEGRATION, password=None)
    assert not machine.has_usable_password()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=machine)}")
    listed = api.get("/api/floors/")
    assert listed.status_code == 200 and listed.json()["results"][0]["code"] == "L3"
    assert api.get("/api/readers/").status_code == 200
    assert api.post("/api/zones/", _new_zone(floor), format="json").status_code == 403
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get("/api/floors/").status_code == 401


ADMIN_PAGES: list[tuple[str, dict[str, int]]] = [
    ("/admin/", {"nurse": 302, "biomed": 200, "security_officer": 302, "administrator": 200}),
    ("/admin/tracking/asset/", {"nurse": 302, "biomed": 200, "administrator": 200}),
    ("/admin/readers/reader/", {"biomed": 200, "administrator": 200}),          # biomed: view only
    ("/admin/infusion/patient/", {"biomed": 403, "administrator": 200}),        # no patient data for biomed
    ("/admin/auth/user/", {"biomed": 403, "administrator": 200}),
]


@pytest.mark.parametrize(("url", "expected"), ADMIN_PAGES)
def test_the_admin_opens_only_for_staff_roles_and_shows_only_their_models(
    client: Client, url: str, expected: dict[str, int]
) -> None:
    for persona, status in expected.items():
        client.force_login(_user(persona) if not User.objects.filter(username=persona).exists()
                           else User.objects.get(username=persona))
        assert client.get(url).status_code == status, (persona, url)


def test_biomed_sees_readers_in_the_admin_but_cannot_change_them(client: Client, floor: Floor) -> None:
    client.force_login(_user("biomed"))
    reader = Reader.objects.get(code="BLE-101")
    page = client.get(f"/admin/readers/reader/{reader.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # a view-only form
    assert client.post(f"/admin/readers/reader/{reader.pk}/change/", {"name": "x"}).status_code == 403


def test_floor_import_over_the_api_needs_the_administrator(api: APIClient, floor_doc: dict[str, Any]) -> None:
    api.force_authenticate(_user("biomed"))
    assert api.post("/api/floors/import/", floor_doc, format="json").status_code == 403
    api.force_authenticate(_user("administrator"))
    created = api.post("/api/floors/import/", floor_doc, format="json")
    assert created.status_code == 201 and created.json()["created"] == {"zones": 10, "doors": 4, "readers": 3}
    floor_doc["features"][3]["properties"]["kind"] = "helipad"
    rejected = api.post("/api/floors/import/", floor_doc, format="json")
    assert rejected.status_code == 400
    assert rejected.json()["errors"] == [{"index": 3, "code": "3N-101-A",
                                          "reason": rejected.json()["errors"][0]["reason"]}]
    assert "unknown zone kind 'helipad'" in rejected.json()["errors"][0]["reason"]
