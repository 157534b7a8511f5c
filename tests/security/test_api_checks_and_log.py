"""Match checks by hand (a wrong pairing raises the mismatch alarm), the access log API with its filters, and
the security endpoints in the OpenAPI schema."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import Alert
from floorplans.models import Floor
from security.access import location_views_record
from security.models import LocationAccess, MatchCheck
from tests.security.test_api_helpers import BABY, OTHER, Nursery, nursery_setup
from tests.security.test_services_helpers import mother_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    return nursery_setup(floor)


def test_a_nurse_records_a_match_and_a_mismatch_raises_the_alarm(
        api: APIClient, nurse: User, nursery: Nursery) -> None:
    api.force_authenticate(nurse)
    right = api.post("/api/security/match-checks/", {"mother": nursery.mother.pk, "infant": nursery.baby.pk},
                     format="json")
    assert right.status_code == 201 and right.json()["result"] == "match" and right.json()["how"] == "manual"
    bea = mother_make(nursery.w, "A002", patient=nursery.w.bea)
    wrong = api.post("/api/security/match-checks/", {"mother": bea.pk, "infant": nursery.baby.pk}, format="json")
    assert wrong.status_code == 201 and wrong.json()["result"] == "mismatch"
    assert Alert.objects.get(kind="security.mismatch").subject_id == str(nursery.baby.pk)
    listed = api.get("/api/security/match-checks/", {"result": "mismatch"}).json()["results"]
    assert [(row["mother_name"], row["infant_name"], row["user"]) for row in listed] == [
        ("Bea Brown", "Baby Jones", "nurse")]
    assert MatchCheck.objects.count() == 2


def test_the_access_log_is_for_security_and_filters_by_user_infant_via_and_time(
        api: APIClient, nurse: User, security_officer: User, nursery: Nursery) -> None:
    now = timezone.now()
    location_views_record(user=nurse, tag_ids=[BABY], via="api", at=now - timedelta(hours=2))
    location_views_record(user=nurse, tag_ids=[OTHER], via="trail", at=now - timedelta(minutes=5))
    location_views_record(user=security_officer, tag_ids=[BABY], via="console", at=now)
    api.force_authenticate(nurse)
    assert api.get("/api/security/access-log/").status_code == 403
    api.force_authenticate(security_officer)
    everything = api.get("/api/security/access-log/").json()["results"]
    assert [(r["username"], r["tag_id"], r["via"]) for r in everything] == [
        ("security_officer", BABY, "console"), ("nurse", OTHER, "trail"), ("nurse", BABY, "api")]
    assert everything[0]["infant_name"] == "Baby Jones"
    hour_ago = (now - timedelta(hours=1)).isoformat()
    cases: list[tuple[dict[str, str | int], int]] = [
        ({"user": "nurse"}, 2), ({"infant": nursery.baby.pk}, 2), ({"via": "trail"}, 1), ({"since": hour_ago}, 2),
        ({"until": hour_ago}, 1)]
    for query, count in cases:
        assert len(api.get("/api/security/access-log/", query).json()["results"]) == count, query
    assert api.get("/api/security/access-log/", {"via": "fax"}).status_code == 400
    assert LocationAccess.objects.count() == 3  # reading the log is not itself a location view


def test_the_schema_documents_the_security_endpoints_without_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", stdout=out)  # the whole schema's warnings: tests/hospital_iot
    warnings = [line for line in capsys.readouterr().err.splitlines() if "security" in line.lower()]
    assert warnings == []
    paths = yaml.safe_load(out.getvalue())["paths"]
    for path in ("/api/security/doors/", "/api/security/doors/{code}/command/", "/api/security/infants/",
                 "/api/security/infants/enrol/", "/api/security/infants/{infant_id}/escort/",
                 "/api/security/infants/{infant_id}/discharge/{action}/", "/api/security/code-pinks/start/",
                 "/api/security/code-pinks/{code_pink_id}/resolve/",
                 "/api/security/code-pinks/{code_pink_id}/timeline/",
                 "/api/security/match-checks/", "/api/security/access-log/"):
        assert path in paths, path
    assert "409" in paths["/api/security/code-pinks/start/"]["post"]["responses"]
