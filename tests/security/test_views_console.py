"""The console page and the incident pages: who may open them, what each role may do there (the page's
config), the nav link, the incident timeline with its trail picture, and the CSV / PDF exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from floorplans.models import Floor
from security.codepink import code_pink_start
from security.models import CodePink, LocationAccess
from tests.security.test_api_helpers import BABY, Nursery, nursery_setup, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    return nursery_setup(floor)


def _config(client: Client) -> dict[str, Any]:
    response = client.get("/security/")
    assert response.status_code == 200
    page = response.content.decode()
    marker = 'id="security-config" type="application/json">'
    start = page.index(marker) + len(marker)
    config: dict[str, Any] = json.loads(page[start:page.index("</script>", start)])
    return config


@pytest.mark.parametrize(("who", "doors", "start", "resolve", "answer"), [
    ("security_officer", True, True, True, True),
    ("nurse", False, True, False, True),  # read-only console: no doors, no resolving a Code Pink
    ("charge_nurse", False, True, False, True),
])
def test_each_role_gets_the_console_with_its_own_controls(
        client: Client, nursery: Nursery, who: str, doors: bool, start: bool, resolve: bool, answer: bool,
        request: pytest.FixtureRequest) -> None:
    client.force_login(request.getfixturevalue(who))
    config = _config(client)
    assert config["can"] == {"command_doors": doors, "start_code_pink": start, "resolve_code_pink": resolve,
                             "answer_alerts": answer, "trail": True}
    assert [f["id"] for f in config["floors"]] == [nursery.floor.pk] and config["floor"] == nursery.floor.pk
    page = client.get("/security/").content.decode()
    assert ('id="sc-resolve"' in page) is resolve and ('id="sc-start"' in page) is start
    assert '<a href="/security/">Security</a>' in page  # the nav link


@pytest.mark.parametrize(("who", "status"), [("biomed", 403), ("visitor", 403)])
def test_roles_that_do_not_protect_infants_get_no_console_and_no_link(
        client: Client, nursery: Nursery, who: str, status: int, request: pytest.FixtureRequest) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get("/security/").status_code == status
    assert 'href="/security/"' not in client.get("/alerts/").content.decode()


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(client: Client) -> None:
    response = client.get("/security/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.fixture
def incident(nursery: Nursery, security_officer: User) -> CodePink:
    start = timezone.now() - timedelta(minutes=5)
    walk(BABY, nursery.floor, [(5.0, 9.5), (12.0, 9.5), (20.0, 9.5)], start=start - timedelta(minutes=1))
    return code_pink_start(trigger=CodePink.Trigger.MANUAL, building_id=nursery.floor.building_id,
                           floor_id=nursery.floor.pk, infant_id=nursery.baby.pk, user=security_officer, drill=True,
                           note="drill on 3 North", at=start)


def test_the_incident_page_shows_the_timeline_and_the_trail_and_logs_the_view(
        client: Client, nurse: User, incident: CodePink) -> None:
    client.force_login(nurse)
    listing = client.get("/security/incidents/").content.decode()
    assert f'href="/security/incidents/{incident.pk}/"' in listing and "drill" in listing
    page = client.get(f"/security/incidents/{incident.pk}/").content.decode()
    assert "drill on 3 North" in page and "door lock" in page and "Baby Jones" in page
    assert 'src="data:image/png;base64,' in page and "3 recorded positions" in page
    assert list(LocationAccess.objects.values_list("username", "via", "detail")) == [
        ("nurse", "report", f"Code Pink {incident.pk} page")]


def test_the_incident_exports_as_csv_and_pdf(client: Client, security_officer: User, incident: CodePink) -> None:
    client.force_login(security_officer)
    response = client.get(f"/security/incidents/{incident.pk}/timeline.csv")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["at", "source", "action", "by", "note"] and ["code pink", "started"] == rows[1][1:3]
    pdf = client.get(f"/security/incidents/{incident.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert f'filename="code-pink-{incident.pk}.pdf"' in pdf["Content-Disposition"]
    assert list(LocationAccess.objects.values_list("via", "detail")) == [("report", f"Code Pink {incident.pk} PDF")]


def test_incidents_are_not_for_roles_without_code_pink(client: Client, biomed: User, incident: CodePink) -> None:
    client.force_login(biomed)
    for path in ("/security/incidents/", f"/security/incidents/{incident.pk}/",
                 f"/security/incidents/{incident.pk}/report.pdf"):
        assert client.get(path).status_code == 403
    assert not LocationAccess.objects.exists()
