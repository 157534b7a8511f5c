"""The audit API and pages: who may run audits, what a refused scope says, a handheld sweep fed by uploaded
reads files from start to report, the asset's audit history, and the reports' downloads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from readers.models import Reader
from tests.tracking.assets.audit_world import AuditWorld, audit_world_make, world_located
from tracking.assets.audit_exceptions import MobileReaderInvalid
from tracking.assets.mobile_readers import fixed_readers_q, mobile_reader_get, mobile_reader_settings, mobile_readers
from tracking.models import Audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(floor_doc: dict[str, Any]) -> AuditWorld:
    world = audit_world_make(floor_doc)
    world_located(world, now=timezone.now())
    return world


def _start(api: APIClient, **body: Any) -> Any:
    return api.post("/api/assets/audits/", body, format="json")


def test_a_biomedical_engineer_runs_a_hands_free_audit_and_reads_its_report(
    api: APIClient, biomed: User, world: AuditWorld,
) -> None:
    api.force_authenticate(biomed)
    response = _start(api, kind="hands_free", department=world.ward.pk)
    assert response.status_code == 201, response.content
    audit = response.json()
    assert (audit["state"], audit["place"], audit["started_by"]) == ("finished", "3 North", "biomed")
    assert audit["summary"]["counts"] | {"expected": audit["summary"]["expected"]} == {
        "found": 3, "misplaced": 1, "missing": 1, "not_seen": 0, "unexpected": 1, "pm_due": 2, "pm_overdue": 1,
        "expected": 5}
    detail = api.get(f"/api/assets/audits/{audit['id']}/").json()
    assert [(i["asset_number"], i["result"]) for i in detail["items"]][:2] == [("PUMP-4", "missing"),
                                                                               ("PUMP-3", "misplaced")]
    assert detail["items"][1]["seen_zone_name"] == "Stairs 1"
    assert api.get("/api/assets/audits/").json()["results"][0]["id"] == audit["id"]
    history = api.get(f"/api/assets/audits/assets/{world.assets['pump-1'].pk}/").json()
    assert history["last_verified_how"] == "hands_free" and history["audits"][0]["result"] == "found"


def test_nurses_may_not_see_or_start_audits(api: APIClient, nurse: User, world: AuditWorld) -> None:
    api.force_authenticate(nurse)
    assert api.get("/api/assets/audits/").status_code == 403
    assert _start(api, kind="hands_free", department=world.ward.pk).status_code == 403
    assert api.get("/api/assets/utilization/").status_code == 200  # they see the equipment's status history


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"kind": "hands_free"}, 400, "choose a department or at least one zone"),
    ({"kind": "hands_free", "department": "store"}, 400, "is not a ward"),
    ({"kind": "hands_free", "zones": [987654]}, 400, "no zone 987654"),
    ({"kind": "hands_free", "department": "ward", "seen_within_h": 100}, 400, "longer than missing"),
    ({"kind": "hands_free", "department": "ward", "reader": "HH-1"}, 400, "uses no reader"),
    ({"kind": "handheld", "department": "ward", "reader": "RFID-AUD"}, 400, "installed reader"),
    ({"kind": "audit-everything", "department": "ward"}, 400, "not a valid choice"),
])
def test_it_refuses_a_scope_that_makes_no_sense(api: APIClient, biomed: User, world: AuditWorld,
                                                body: dict[str, Any], status: int, reason: str) -> None:
    api.force_authenticate(biomed)
    zones = {"ward": world.ward.pk, "store": world.store.pk}
    body = {k: zones.get(v, v) if k == "department" else v for k, v in body.items()}
    response = _start(api, **body)
    assert response.status_code == status and reason in response.content.decode()
    assert not Audit.objects.exists()


def test_a_handheld_sweep_from_reads_files_runs_from_start_to_report(
    api: APIClient, biomed: User, world: AuditWorld,
) -> None:
    api.force_authenticate(biomed)
    audit = _start(api, kind="handheld", zones=[world.store.pk]).json()
    assert (audit["state"], audit["reader"]) == ("running", "")
    progress = api.get(f"/api/assets/audits/{audit['id']}/progress/").json()
    assert (progress["expected"], progress["found"], progress["sweep"]) == (5, 0, None)

    now = timezone.now()
    csv = (f"epc,seen_at\n{world.epc('pump-1')},{(now - timedelta(minutes=3)).isoformat()}\n"
           f"{world.epc('chair-6')},{(now - timedelta(minutes=2)).isoformat()}\n"
           f"not-an-epc,{now.isoformat()}\nE2801170000002000000000000001234,{now.isoformat()}\n")
    upload = SimpleUploadedFile("sweep.csv", csv.encode(), content_type="text/csv")
    answer = api.post(f"/api/assets/audits/{audit['id']}/reads/", {"file": upload}, format="multipart").json()
    assert answer == {"reads": 3, "found": 1, "unexpected": 1, "unknown_tags": 1, "dropped": 1,
                      "dropped_reasons": ["row 4: tag 'not-an-epc' is not hex"]}
    more = api.post(f"/api/assets/audits/{audit['id']}/reads/", {"reads": [
        {"tag_id": world.epc("monitor-5"), "seen_at": now.isoformat()},
        {"tag_id": world.epc("pump-1"), "seen_at": now.isoformat()}]}, format="json").json()
    assert (more["found"], more["unexpected"]) == (1, 0)  # pump-1 was found already
    progress = api.get(f"/api/assets/audits/{audit['id']}/progress/").json()
    assert (progress["found"], progress["remaining"], progress["reads"], progress["dropped"]) == (2, 3, 5, 1)
    assert [a["asset_number"] for a in progress["found_assets"]] == ["MONITOR-5", "PUMP-1"]  # newest first

    finished = api.post(f"/api/assets/audits/{audit['id']}/finish/").json()
    assert finished["state"] == "finished"
    assert finished["summary"]["counts"] == {"found": 2, "misplaced": 2, "missing": 1, "not_seen": 0,
                                             "unexpected": 1, "pm_due": 2, "pm_overdue": 1}
    again = api.post(f"/api/assets/audits/{audit['id']}/reads/", {"reads": [
        {"tag_id": world.epc("pump-2"), "seen_at": now.isoformat()}]}, format="json")
    assert again.status_code == 409 and "is finished" in again.json()["detail"]
    assert api.post(f"/api/assets/audits/{audit['id']}/cancel/").status_code == 409


def test_a_hands_free_audit_takes_no_reads_and_a_bad_file_is_refused(
    api: APIClient, biomed: User, world: AuditWorld,
) -> None:
    api.force_authenticate(biomed)
    hands_free = _start(api, kind="hands_free", department=world.ward.pk).json()
    refused = api.post(f"/api/assets/audits/{hands_free['id']}/reads/", {"reads": [
        {"tag_id": world.epc("pump-1"), "seen_at": timezone.now().isoformat()}]}, format="json")
    assert refused.status_code == 409 and "hands-free" in refused.json()["detail"]
    sweep = _start(api, kind="handheld", department=world.ward.pk).json()
    upload = SimpleUploadedFile("sweep.csv", b"when,where\n1,2\n", content_type="text/csv")
    bad = api.post(f"/api/assets/audits/{sweep['id']}/reads/", {"file": upload}, format="multipart")
    assert bad.status_code == 400 and "needs a tag column" in bad.json()["detail"]
    assert api.post(f"/api/assets/audits/{sweep['id']}/reads/", {}, format="json").status_code == 400
    assert api.get("/api/assets/audits/424242/").status_code == 404


def test_the_pages_start_an_audit_show_its_report_and_download_it(
    client: Client, biomed: User, world: AuditWorld,
) -> None:
    client.force_login(biomed)
    assert "Start an audit" in client.get("/assets/audits/").content.decode()
    response = client.post("/assets/audits/", {"kind": "hands_free", "department": world.ward.pk,
                                                "seen_within_h": 24, "missing_after_days": 3})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    for text in ("Hands-free audit of 3 North", "Missing (seen nowhere)", "PUMP-4", "Misplaced (seen elsewhere)",
                 "Stairs 1", "overdue", "PDF report"):
        assert text in page, text
    audit = Audit.objects.get()
    csv = client.get(f"/assets/audits/{audit.pk}/report.csv")
    assert csv["Content-Type"] == "text/csv" and csv.content.decode().count("\n") == 7  # header + 6 items
    pdf = client.get(f"/assets/audits/{audit.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    history = client.get(f"/assets/audits/assets/{world.assets['pump-1'].pk}/").content.decode()
    assert "Last verified" in history and "hands-free audit" in history

    refused = client.post("/assets/audits/", {"kind": "hands_free", "seen_within_h": 24, "missing_after_days": 3})
    assert "Choose a department or at least one zone." in refused.content.decode()


def test_a_nurse_gets_no_audit_pages(client: Client, nurse: User, world: AuditWorld) -> None:
    client.force_login(nurse)
    assert client.get("/assets/audits/").status_code == 403
    assert client.get("/assets/utilization/").status_code == 200


def test_mobile_readers_are_told_from_installed_ones(world: AuditWorld) -> None:
    """What run_readers and the pipeline leave out (fixed_readers_q), and what a sweep may use."""
    for code, options in (("HH-1", {"mobile": True, "tx_power_dbm": 20}), ("HH-2", {"mobile": False}),
                          ("HH-3", {"mobile": True})):
        Reader.objects.create(code=code, name=code, kind=Reader.Kind.LLRP_READER, protocol="rfid_llrp",
                              address="127.0.0.1:5084", floor=world.floor, position=Point(1.0, 1.0), options=options,
                              enabled=code != "HH-3")
    assert set(Reader.objects.filter(fixed_readers_q()).values_list("code", flat=True)) == {
        "RFID-X1", "BLE-101", "UWB-1", "RFID-AUD", "HH-2"}
    assert list(mobile_readers().values_list("code", flat=True)) == ["HH-1"]
    assert mobile_reader_settings(Reader.objects.get(code="HH-1")).options == {"tx_power_dbm": 20}
    with pytest.raises(MobileReaderInvalid, match="disabled"):
        mobile_reader_get("HH-3")
