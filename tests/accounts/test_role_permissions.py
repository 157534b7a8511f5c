"""Each role sees and changes only what it should: API, admin and pages, people and machines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import roles
from accounts.demo import DEMO_LOGINS
from accounts.services import roles_sync, token_for, user_create_with_role
from floorplans.models import Floor, Zone
from infusion.bags import bag_register
from infusion.services import patient_admit
from readers.models import Reader

pytestmark = pytest.mark.django_db

PERSONAS = {
    "nurse": roles.NURSE, "charge_nurse": roles.CHARGE_NURSE, "pharmacist": roles.PHARMACIST, "biomed": roles.BIOMED,
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


READ_FLOORS = {"nurse": 200, "charge_nurse": 200, "pharmacist": 403, "biomed": 200, "security_officer": 200,
               "administrator": 200, "visitor": 403}
READ_READERS = {"nurse": 403, "charge_nurse": 403, "pharmacist": 403, "biomed": 200, "security_officer": 200,
                "administrator": 200, "visitor": 403}
WRITE_ZONES = {"nurse": 403, "charge_nurse": 403, "pharmacist": 403, "biomed": 403, "security_officer": 403,
               "administrator": 201, "visitor": 403}


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
    ("/admin/", {"nurse": 302, "pharmacist": 302, "biomed": 200, "security_officer": 302, "administrator": 200}),
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


def test_the_pharmacist_labels_and_dispenses_and_nothing_more() -> None:
    """The group holds exactly what ROLE_PERMISSIONS says once roles are synced (migrate does it): patients and
    bags to see, bags to add (the pharmacy screen's permission, for labelling and dispensing); no bedside
    action (change_infusionbag), no locations, assets, security or alerts."""
    roles_sync()
    group = Group.objects.get(name=roles.PHARMACIST)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert granted == {"infusion.view_patient", "infusion.view_infusionbag", "infusion.add_infusionbag"}
    pharmacist = _user("pharmacist")
    assert pharmacist.has_perm("infusion.add_infusionbag") and not pharmacist.is_staff
    for refused in ("infusion.change_infusionbag", "infusion.change_patient", "tracking.view_currentlocation",
                    "tracking.view_asset", "security.view_infant", "alerts.view_alert"):
        assert not pharmacist.has_perm(refused), refused


@pytest.mark.parametrize("url", ["/api/locations/", "/api/assets/", "/api/security/infants/", "/api/alerts/"])
def test_the_pharmacist_reads_no_locations_assets_security_or_alerts(api: APIClient, floor: Floor, url: str) -> None:
    api.force_authenticate(_user("pharmacist"))
    assert api.get(url).status_code == 403


def test_the_pharmacist_cannot_act_at_the_bedside_over_the_api(api: APIClient, floor: Floor) -> None:
    patient_admit(mrn="MRN100", family_name="Doe", given_name="Jane", bed=Zone.objects.get(code="3N-101-A"))
    bag = bag_register(tag_id="E2000001", patient_mrn="MRN100", drug="Vancomycin", concentration="", volume_ml=250,
                       ordered_rate_ml_h=125, lot="L1", expires_at=timezone.now() + timedelta(days=1), user=None)
    api.force_authenticate(_user("pharmacist"))
    for action in ("start", "pause", "complete", "waste"):
        assert api.post(f"/api/infusion/bags/{bag.pk}/{action}/", {"note": "x"}, format="json").status_code == 403


def test_the_demo_has_a_pharmacist_login() -> None:
    login = next(login for login in DEMO_LOGINS if login["role"] == roles.PHARMACIST)
    assert (login["username"], login["password"], login["label"]) == ("pharmacist", "demo-pharmacist", "Pharmacist")
    assert DEMO_LOGINS[0]["username"] == "nurse"  # load_demo starts the demo bags as the first login
