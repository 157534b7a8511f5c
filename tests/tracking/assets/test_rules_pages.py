"""The rules page: biomedical engineering sees the status rules and forbidden zones and edits them through
forms that go through the services (errors shown on the form); nurses may not open it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from floorplans.models import Floor, Zone
from tests.tracking.assets.test_rules_helpers import S
from tracking.assets import rules
from tracking.models import ForbiddenZone, StatusRule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_data")]


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    rules.reset()
    yield
    rules.reset()


@pytest.fixture
def as_biomed(client: Client, biomed: User) -> Client:
    client.force_login(biomed)
    return client


def test_biomed_sees_the_rules_and_forbidden_zones(as_biomed: Client) -> None:
    page = as_biomed.get("/assets/rules/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Dirty utility: needs cleaning" in html and "at once" in html and "10 min" in html
    assert "every loading dock" in html and "Add a status rule" in html


def test_biomed_adds_a_rule_through_the_form(as_biomed: Client, floor: Floor) -> None:
    room = Zone.objects.get(floor=floor, code="3N-101")
    response = as_biomed.post("/assets/rules/new/", {
        "name": "Room 101 beds", "zone": room.pk, "zone_kind": "", "category": "bed",
        "from_statuses": [S.AVAILABLE], "status": S.IN_USE, "after_s": 300, "priority": 5, "enabled": "on",
    })
    assert response.status_code == 302 and response["Location"] == "/assets/rules/"
    rule = StatusRule.objects.get(name="Room 101 beds")
    assert (rule.zone_id, rule.category, rule.from_statuses, rule.after_s, rule.priority) == (
        room.pk, "bed", [S.AVAILABLE], 300, 5)
    assert "Room 101 beds" in as_biomed.get("/assets/rules/").content.decode()


def test_the_form_shows_what_the_service_refused(as_biomed: Client) -> None:
    response = as_biomed.post("/assets/rules/new/", {"name": "nowhere", "zone_kind": "", "status": S.IN_USE,
                                                     "after_s": 0, "priority": 0})
    assert response.status_code == 400
    assert "choose a zone or a zone kind" in response.content.decode()
    assert not StatusRule.objects.filter(name="nowhere").exists()


def test_biomed_edits_and_deletes_a_rule(as_biomed: Client) -> None:
    rule = StatusRule.objects.get(zone_kind="room")
    form = as_biomed.get(f"/assets/rules/{rule.pk}/").content.decode()
    assert 'value="600"' in form
    as_biomed.post(f"/assets/rules/{rule.pk}/", {"name": rule.name, "zone_kind": "room", "status": S.IN_USE,
                                                 "from_statuses": [S.AVAILABLE], "after_s": 900, "priority": 0})
    rule.refresh_from_db()
    assert (rule.after_s, rule.enabled) == (900, False)  # an unticked box
    assert as_biomed.post(f"/assets/rules/{rule.pk}/delete/").status_code == 302
    assert not StatusRule.objects.filter(pk=rule.pk).exists()
    assert as_biomed.get(f"/assets/rules/{rule.pk}/delete/").status_code == 405


def test_biomed_adds_and_deletes_a_forbidden_zone(as_biomed: Client, floor: Floor) -> None:
    stairs = Zone.objects.get(floor=floor, code="ST-1")
    as_biomed.post("/assets/forbidden/new/", {"zone": stairs.pk, "zone_kind": "", "category": "wheelchair",
                                              "note": "no chairs down the stairs"})
    spec = ForbiddenZone.objects.get(zone=stairs)
    assert "no chairs down the stairs" in as_biomed.get("/assets/rules/").content.decode()
    as_biomed.post(f"/assets/forbidden/{spec.pk}/delete/")
    assert not ForbiddenZone.objects.filter(pk=spec.pk).exists()


def test_nurses_may_not_open_or_post_the_rules(client: Client, nurse: User) -> None:
    client.force_login(nurse)
    assert client.get("/assets/rules/").status_code == 403
    assert client.post("/assets/rules/new/", {"name": "x"}).status_code == 403


def test_the_page_asks_to_log_in(client: Client) -> None:
    response = client.get("/assets/rules/")
    assert response.status_code == 302 and "login" in response["Location"]
