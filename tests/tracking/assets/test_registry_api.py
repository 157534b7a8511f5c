"""/api/assets/: list and filters, one asset with its place, register and change (the same checks as the
CSV), status by hand, histories, the CSV import over the API, the roles, and the OpenAPI schema."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from floorplans.models import Floor
from tests.tracking.assets.registry_data import csv_text, pump
from tests.tracking.whereabouts import place, zone
from tracking.assets.registry import assets_import_csv
from tracking.assets.serializers_registry import AssetRecordSerializer, ImportReportSerializer
from tracking.models import Asset, AssetStatusChange, AssetVerification, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(floor: Floor) -> dict[str, Asset]:
    today = timezone.localdate()
    later = str(today + timedelta(days=100))
    assets_import_csv(data=csv_text([pump(1, pm_due_on=str(today - timedelta(days=1))),
                                     pump(2, status="in_use", pm_due_on=later),
                                     pump(3, category="monitor", make="Philips", pm_due_on=later)]), dry_run=False)
    place("p-located", floor, 2.0, 5.0, zone=zone(floor, "3N-ST"), category="infusion_pump")
    return {a.asset_number: a for a in Asset.objects.all()}


def _as(api: APIClient, user: User) -> APIClient:
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["A-p-located", "BME-00001", "BME-00002", "BME-00003"]),
    ({"category": "monitor"}, ["BME-00003"]),
    ({"status": "in_use"}, ["BME-00002"]),
    ({"pm": "overdue"}, ["BME-00001"]),
    ({"q": "philips"}, ["BME-00003"]),
])
def test_it_lists_and_filters_assets(api: APIClient, nurse: User, fleet: dict[str, Asset], query: dict[str, str],
                                     expected: list[str]) -> None:
    response = _as(api, nurse).get("/api/assets/", query)
    assert response.status_code == 200, response.content
    assert [item["asset_number"] for item in response.json()["results"]] == expected


def test_it_answers_an_asset_with_the_documented_fields_and_its_place(api: APIClient, nurse: User,
                                                                      fleet: dict[str, Asset]) -> None:
    item = _as(api, nurse).get(f"/api/assets/{fleet['A-p-located'].pk}/").json()
    assert set(item) == set(AssetRecordSerializer().fields)
    assert (item["tag_id"], item["tag_tech"], item["place"]["zone_name"], item["place"]["x_m"]) == (
        "p-located", "ble", "Equipment store", 2.0)
    first = api.get(f"/api/assets/{fleet['BME-00001'].pk}/").json()
    assert (first["place"], first["pm_state"], first["department_code"], first["home_zone_code"]) == (
        None, "overdue", "3N", "3N-ST")
    assert first["purchase_value"] == "3200.00"


def test_it_registers_an_asset_with_a_new_tag_and_its_status(api: APIClient, biomed: User, floor: Floor) -> None:
    response = _as(api, biomed).post("/api/assets/", {
        "asset_number": "NEW-1", "category": "ventilator", "tag_id": "AC233F0000AA", "tag_tech": "ble",
        "department": "3N", "home_zone": "3N-ST", "status": "out_for_repair", "pm_due_on": "2026-09-01",
        "purchase_value": "38500.00"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["asset_number"], body["status"], body["tag_id"], body["home_zone_code"]) == (
        "NEW-1", "out_for_repair", "AC233F0000AA", "3N-ST")
    change = AssetStatusChange.objects.get()
    assert (change.source, change.user) == ("manual", biomed)


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"asset_number": "BME-00001", "category": "bed"}, "asset_number", "is registered already"),
    ({"asset_number": "N", "category": "toaster"}, "category", "not a valid choice"),
    ({"asset_number": "N", "category": "bed", "tag_id": "NEW-TAG"}, "tag_tech", "required for a tag new"),
    ({"asset_number": "N", "category": "bed", "tag_id": "AC233F000001"}, "tag_id", "is carried by asset BME-00001"),
    ({"asset_number": "N", "category": "bed", "home_zone": "nowhere"}, "home_zone", "no zone has this code"),
    ({"asset_number": "N", "category": "bed", "pm_interval_days": 0}, "pm_interval_days", "greater than or equal"),
])
def test_it_refuses_a_bad_registration_field_by_field(api: APIClient, biomed: User, fleet: dict[str, Asset],
                                                     body: dict[str, Any], field: str, words: str) -> None:
    response = _as(api, biomed).post("/api/assets/", body, format="json")
    assert response.status_code == 400 and words in response.json()[field][0], response.content
    assert not Asset.objects.filter(asset_number="N").exists()


def test_it_changes_only_the_fields_sent(api: APIClient, biomed: User, fleet: dict[str, Asset], floor: Floor) -> None:
    asset = fleet["BME-00001"]
    response = _as(api, biomed).patch(f"/api/assets/{asset.pk}/", {"home_zone": "3N-DU", "pm_due_on": None,
                                                                    "tag_id": "3008CC", "tag_tech": "rfid"},
                                      format="json")
    assert response.status_code == 200, response.content
    asset.refresh_from_db()
    assert (asset.home_zone, asset.pm_due_on, asset.make) == (zone(floor, "3N-DU"), None, "BD")
    assert Tag.objects.get(tracked_object__asset=asset).tag_id == "3008CC"
    refused = api.patch(f"/api/assets/{asset.pk}/", {"status": "retired"}, format="json")
    assert refused.status_code == 400 and "POST /api/assets/<id>/status/" in refused.json()["status"][0]
    renumber = api.patch(f"/api/assets/{asset.pk}/", {"asset_number": "X"}, format="json")
    assert renumber.status_code == 400 and "asset_number" in renumber.json()


def test_it_sets_the_status_by_hand_and_lists_the_histories(api: APIClient, biomed: User,
                                                            fleet: dict[str, Asset]) -> None:
    asset = fleet["BME-00001"]
    _as(api, biomed)
    first = api.post(f"/api/assets/{asset.pk}/status/", {"status": "needs_cleaning"}, format="json").json()
    assert (first["changed"], first["change"]["from_status"], first["change"]["user"]) == (True, "available",
                                                                                           "biomed")
    again = api.post(f"/api/assets/{asset.pk}/status/", {"status": "needs_cleaning"}, format="json").json()
    assert (again["changed"], again["change"]) == (False, None)
    assert api.post(f"/api/assets/{asset.pk}/status/", {"status": "lost"}, format="json").status_code == 400
    history = api.get(f"/api/assets/{asset.pk}/status-history/").json()["results"]
    assert [(h["to_status"], h["source"]) for h in history] == [("needs_cleaning", "manual")]
    AssetVerification.objects.create(asset=asset, at=timezone.now(), how="handheld")
    assert [v["how"] for v in api.get(f"/api/assets/{asset.pk}/verifications/").json()] == ["handheld"]


def test_it_imports_a_csv_over_the_api_dry_run_first(api: APIClient, biomed: User, floor: Floor) -> None:
    _as(api, biomed)

    def post(text: str, **extra: str) -> Any:
        return api.post("/api/assets/import/", {"file": SimpleUploadedFile("a.csv", text.encode()), **extra},
                        format="multipart")

    dry = post(csv_text([pump(1), pump(2)]), dry_run="true")
    assert dry.status_code == 200 and (dry.json()["dry_run"], dry.json()["imported"], dry.json()["created"]) == (
        True, False, 2)
    assert set(dry.json()) == set(ImportReportSerializer().fields) and not Asset.objects.exists()
    done = post(csv_text([pump(1), pump(2)]))
    assert (done.status_code, done.json()["imported"], Asset.objects.count()) == (200, True, 2)
    bad = post(csv_text([pump(3, category="toaster")]))
    assert bad.status_code == 400 and bad.json()["errors"][0] | {"reason": ""} == {
        "row": 2, "column": "category", "value": "toaster", "reason": ""}
    unusable = post("")
    assert unusable.status_code == 400 and unusable.json() == {"file": ["The submitted file is empty."]}
    no_key = post("make\nBD\n")
    assert no_key.status_code == 400 and "no asset_number column" in no_key.json()["file"][0]


@pytest.mark.parametrize(("persona", "method", "path", "expected"), [
    ("nurse", "get", "/api/assets/", 200),
    ("nurse", "post", "/api/assets/", 403),
    ("nurse", "patch", "/api/assets/{pk}/", 403),
    ("nurse", "post", "/api/assets/{pk}/status/", 403),
    ("nurse", "get", "/api/assets/{pk}/status-history/", 200),
    ("nurse", "get", "/api/assets/{pk}/verifications/", 403),
    ("nurse", "post", "/api/assets/import/", 403),
    ("security_officer", "get", "/api/assets/{pk}/", 200),
    ("security_officer", "post", "/api/assets/{pk}/status/", 403),
    ("visitor", "get", "/api/assets/", 403),
])
def test_it_lets_each_role_do_only_its_part(api: APIClient, request: pytest.FixtureRequest, fleet: dict[str, Asset],
                                           persona: str, method: str, path: str, expected: int) -> None:
    _as(api, request.getfixturevalue(persona))
    url = path.format(pk=fleet["BME-00001"].pk)
    assert getattr(api, method)(url, {}, format="json").status_code == expected


def test_it_asks_an_anonymous_caller_to_authenticate(api: APIClient, floor: Floor) -> None:
    assert api.get("/api/assets/").status_code == 401


def test_it_documents_the_registry_api_in_the_schema() -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", stdout=out)
    paths = yaml.safe_load(out.getvalue())["paths"]
    parameters = {p["name"] for p in paths["/api/assets/"]["get"]["parameters"]}
    assert parameters == {"q", "category", "status", "department", "pm", "limit", "offset"}
    assert {p["name"] for p in paths["/api/assets/nearest-available/"]["get"]["parameters"]} == {
        "category", "zone", "limit"}
    assert set(paths["/api/assets/{asset_id}/"]) >= {"get", "patch"}
    assert "post" in paths["/api/assets/"] and "post" in paths["/api/assets/{asset_id}/status/"]
    assert "multipart/form-data" in paths["/api/assets/import/"]["post"]["requestBody"]["content"]
    for path in ("/api/assets/{asset_id}/status-history/", "/api/assets/{asset_id}/verifications/"):
        assert "get" in paths[path]
