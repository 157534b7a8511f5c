"""The infusion REST API: list and filters, a bag with progress and alarms, actions (409 with the reason
when refused), the timeline, a scan, the ward board H4's page reads, patients, FHIR, and who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.services import alert_raise
from floorplans.models import Floor
from infusion.bags import alert_key
from tests.infusion.test_bag_helpers import S, Ward, bag_make, ward_setup
from tests.tracking.whereabouts import floor_above, scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(floor: Floor) -> Ward:
    return ward_setup(floor)


def _as(api: APIClient, user: User) -> APIClient:
    api.force_authenticate(user)
    return api


def _now_bag(w: Ward, **kwargs: Any) -> Any:
    return bag_make(w, at=timezone.now() - timedelta(minutes=30), **kwargs)


def test_it_lists_bags_with_filters(api: APIClient, w: Ward, nurse: User) -> None:
    a = _now_bag(w, status=S.INFUSING)
    b = _now_bag(w, status=S.RETURNED, tag_id="T2", patient=w.bob)
    client = _as(api, nurse)

    def ids(query: str) -> list[int]:
        return [row["id"] for row in client.get(f"/api/infusion/bags/{query}").json()["results"]]

    assert ids("") == [b.pk, a.pk]
    assert ids("?status=infusing") == [a.pk] and ids("?patient=MRN-B") == [b.pk]
    assert ids("?active=1") == [a.pk] and ids(f"?ward={w.ward.pk}&status=returned,infusing") == [b.pk, a.pk]
    assert client.get("/api/infusion/bags/?status=flying").status_code == 400


def test_it_shows_a_bag_with_its_progress_and_open_alarms(api: APIClient, w: Ward, nurse: User) -> None:
    bag = _now_bag(w, status=S.INFUSING, volume_ml=500.0, rate_ml_h=100.0)
    alert_raise(kind="infusion.near_empty", severity=20, key=alert_key("infusion.near_empty", bag.pk), title="t",
                subject_type="bag", subject_id=str(bag.pk), audience="nurses", ward_id=w.ward.pk)
    body = _as(api, nurse).get(f"/api/infusion/bags/{bag.pk}/").json()
    assert body["status"] == "infusing" and body["patient"]["mrn"] == "MRN-A"
    assert body["progress"]["infused_ml"] == pytest.approx(50.0, abs=0.5)
    assert body["progress"]["minutes_remaining"] == pytest.approx(270.0, abs=0.5)
    assert body["alarms"] == ["infusion.near_empty"] and body["allowed"] == ["paused", "completed", "discontinued"]


def test_it_acts_on_a_bag_and_answers_409_with_the_reason(api: APIClient, w: Ward, nurse: User) -> None:
    bag = _now_bag(w, status=S.AT_BEDSIDE)
    client = _as(api, nurse)
    refused = client.post(f"/api/infusion/bags/{bag.pk}/start/", {"bed_zone_id": w.bed_b.pk}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("bag is for Alice Able (MRN-A) in Bed 101A; this is Bed 102A")
    started = client.post(f"/api/infusion/bags/{bag.pk}/start/", {"rate_ml_h": 80}, format="json")
    assert started.status_code == 200 and started.json()["status"] == "infusing" and started.json()["rate_ml_h"] == 80
    assert client.post(f"/api/infusion/bags/{bag.pk}/rate/", {}, format="json").status_code == 400
    assert client.post(f"/api/infusion/bags/{bag.pk}/rate/", {"rate_ml_h": 60}, format="json").json()[
        "rate_ml_h"] == 60
    again = client.post(f"/api/infusion/bags/{bag.pk}/start/", {}, format="json")
    assert again.status_code == 409 and "it is infusing" in again.json()["detail"]
    assert client.post(f"/api/infusion/bags/{bag.pk}/fly/", {}, format="json").status_code == 404
    timeline = client.get(f"/api/infusion/bags/{bag.pk}/timeline/").json()
    assert [e["action"] for e in timeline][-2:] == ["started", "rate_changed"]
    assert timeline[-2]["user"] == "nurse" and timeline[-2]["zone_name"] == "Bed 101A"


def test_it_finds_the_bag_of_a_scanned_tag(api: APIClient, w: Ward, nurse: User) -> None:
    bag = _now_bag(w, status=S.ON_WARD, tag_id="E2-SCAN")
    client = _as(api, nurse)
    assert client.get("/api/infusion/scan/E2-SCAN/").json()["id"] == bag.pk
    assert client.get("/api/infusion/scan/NOPE/").status_code == 404


def test_it_draws_the_ward_board_bed_by_bed(api: APIClient, w: Ward, nurse: User) -> None:
    bag = _now_bag(w, status=S.INFUSING)
    alert_raise(kind="infusion.wrong_patient", severity=30, key=alert_key("infusion.wrong_patient", bag.pk),
                title="t", subject_type="bag", subject_id=str(bag.pk), audience="nurses", ward_id=w.ward.pk)
    board = _as(api, nurse).get(f"/api/infusion/wards/{w.ward.pk}/board/").json()
    assert board["ward"] == {"id": w.ward.pk, "code": "3N", "name": "3 North", "floor_id": w.floor.pk}
    beds = {bed["code"]: bed for bed in board["beds"]}
    assert list(beds) == ["3N-101-A", "3N-102-A", "3N-102-B"]
    alice = beds["3N-101-A"]
    assert alice["id"] == w.bed_a.pk and alice["patient"]["mrn"] == "MRN-A" and alice["room"]["code"] == "3N-101"
    assert [b["id"] for b in alice["bags"]] == [bag.pk] and alice["alarms"] == ["infusion.wrong_patient"]
    assert alice["bags"][0]["progress"]["fraction"] > 0 and alice["bags"][0]["open_alerts"][0]["severity"] == 30
    assert beds["3N-102-A"]["patient"]["name"] == "Baker, Bob" and beds["3N-102-A"]["bags"] == []
    assert beds["3N-102-B"]["patient"] is None and board["other_bags"] == []


def test_it_lists_patients_and_exports_fhir(api: APIClient, w: Ward, nurse: User) -> None:
    bag = _now_bag(w, status=S.INFUSING)
    client = _as(api, nurse)
    assert [p["mrn"] for p in client.get("/api/infusion/patients/").json()["results"]] == ["MRN-A", "MRN-B"]
    fhir = client.get(f"/api/infusion/bags/{bag.pk}/fhir/")
    assert fhir.status_code == 200 and fhir["Content-Type"].startswith("application/fhir+json")
    assert fhir.json()["resourceType"] == "MedicationAdministration"


def test_it_lets_only_the_right_people_see_and_act(api: APIClient, w: Ward, nurse: User, visitor: User,
                                                  biomed: User, administrator: User) -> None:
    bag = _now_bag(w, status=S.AT_BEDSIDE)
    assert api.get("/api/infusion/bags/").status_code == 401
    assert _as(api, visitor).get("/api/infusion/bags/").status_code == 403
    assert _as(api, biomed).get(f"/api/infusion/wards/{w.ward.pk}/board/").status_code == 403
    assert _as(api, biomed).post(f"/api/infusion/bags/{bag.pk}/start/", {}, format="json").status_code == 403
    payload = {"tag_id": "NEW-1", "patient_mrn": "MRN-B", "drug": "Saline", "volume_ml": 1000,
               "ordered_rate_ml_h": 125, "expires_at": (timezone.now() + timedelta(days=1)).isoformat()}
    assert _as(api, nurse).post("/api/infusion/bags/", payload, format="json").status_code == 403
    created = _as(api, administrator).post("/api/infusion/bags/", payload, format="json")
    assert created.status_code == 201 and created.json()["status"] == "registered"
    bad = _as(api, administrator).post("/api/infusion/bags/", payload | {"tag_id": "NEW-2", "patient_mrn": "X"},
                                       format="json")
    assert bad.status_code == 400 and "no patient with MRN X" in bad.json()["detail"]


def test_it_hides_bags_of_wards_off_the_nurses_floors(api: APIClient, w: Ward, nurse: User) -> None:
    bag = _now_bag(w, status=S.INFUSING)
    scope(nurse, "upstairs only", floors=(floor_above(w.floor),))
    client = _as(api, nurse)
    assert client.get(f"/api/infusion/bags/{bag.pk}/").status_code == 404
    assert client.get(f"/api/infusion/wards/{w.ward.pk}/board/").status_code == 404
    assert client.get("/api/infusion/bags/").json()["results"] == []
