"""GET /api/alerts/ (filters, audiences, floor scope), GET /api/alerts/<id>/ with its timeline, and the
acknowledge / resolve / cancel actions with their permissions and refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from accounts import roles
from accounts.services import token_for, user_create_with_role
from alerts.models import Alert
from alerts.services import alert_acknowledge, alert_resolve, alerts_escalate_due
from floorplans.models import Floor, Zone
from tests.alerts.conftest import T0, Raise
from tests.tracking.whereabouts import floor_elsewhere, scope


def _as(api: APIClient, user: User) -> APIClient:
    api.force_authenticate(user)
    return api


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def mixed(floor: Floor, raise_alert: Raise, nurse: User) -> dict[str, Alert]:
    """Alerts of several kinds, audiences, states and places."""
    ward = Zone.objects.get(floor=floor, code="3N")
    other = floor_elsewhere()
    made = {
        "wrong_patient": raise_alert(ward_id=ward.pk, at=T0),
        "near_empty": raise_alert(kind="infusion.near_empty", key="near_empty:bag=3", severity=20, ward_id=ward.pk,
                                  at=T0 + timedelta(minutes=1)),
        "elsewhere": raise_alert(kind="infusion.near_empty", key="near_empty:bag=9", severity=20, floor_id=other.pk,
                                 at=T0 + timedelta(minutes=2)),
        "pink": raise_alert(kind="security.code_pink", key="pink:1", severity=40, audience="security",
                            subject_type="infant", subject_id="1", floor_id=floor.pk, at=T0 + timedelta(minutes=3)),
        "reader": raise_alert(kind="readers.offline", key="reader:R1", severity=20, audience="biomed",
                              subject_type="reader", subject_id="R1", at=T0 + timedelta(minutes=4)),
        "old": raise_alert(kind="infusion.complete", key="complete:bag=1", severity=10, ward_id=ward.pk,
                           at=T0 - timedelta(hours=1)),
    }
    alert_resolve(alert_id=made["old"].pk, user=nurse, at=T0)
    return made


def test_it_lists_only_the_alerts_of_the_users_audiences_newest_first(api: APIClient, mixed: dict[str, Alert],
                                                                       nurse: User, security_officer: User,
                                                                       biomed: User, administrator: User) -> None:
    m = {name: alert.pk for name, alert in mixed.items()}
    assert _ids(_as(api, nurse).get("/api/alerts/")) == [m["elsewhere"], m["near_empty"], m["wrong_patient"], m["old"]]
    assert _ids(_as(api, security_officer).get("/api/alerts/")) == [m["pink"]]
    assert _ids(_as(api, biomed).get("/api/alerts/")) == [m["reader"]]
    assert len(_ids(_as(api, administrator).get("/api/alerts/"))) == 6


def test_a_nurse_scoped_to_a_floor_sees_that_floors_alerts_and_those_placed_nowhere(
    api: APIClient, mixed: dict[str, Alert], nurse: User, floor: Floor
) -> None:
    scope(nurse, "3 North staff", floors=(floor,))
    ids = _ids(_as(api, nurse).get("/api/alerts/"))
    assert mixed["elsewhere"].pk not in ids and mixed["wrong_patient"].pk in ids
    assert _as(api, nurse).get(f"/api/alerts/{mixed['elsewhere'].pk}/").status_code == 404


@pytest.mark.parametrize(("query", "expected"), [
    ("open=1", ["elsewhere", "near_empty", "wrong_patient"]),
    ("open=0", ["old"]),
    ("state=resolved", ["old"]),
    ("state=new&state=resolved", ["elsewhere", "near_empty", "wrong_patient", "old"]),
    ("kind=infusion.near_empty", ["elsewhere", "near_empty"]),
    ("kind=infusion.*", ["elsewhere", "near_empty", "wrong_patient", "old"]),
    ("kind=infusion.wrong", []),  # exact unless it ends in "." or "*"
    ("severity_min=30", ["wrong_patient"]),
    ("subject_type=bag&open=1&severity_min=20", ["elsewhere", "near_empty", "wrong_patient"]),
])
def test_it_filters(api: APIClient, mixed: dict[str, Alert], administrator: User, query: str,
                    expected: list[str]) -> None:
    ids = _ids(_as(api, administrator).get(f"/api/alerts/?{query}&audience=nurses"))
    assert ids == [mixed[name].pk for name in expected]


def test_it_filters_by_floor_and_ward(api: APIClient, mixed: dict[str, Alert], administrator: User,
                                      floor: Floor) -> None:
    ward = Zone.objects.get(floor=floor, code="3N")
    client = _as(api, administrator)
    assert set(_ids(client.get(f"/api/alerts/?ward={ward.pk}"))) == {
        mixed[n].pk for n in ("wrong_patient", "near_empty", "old")}
    assert set(_ids(client.get(f"/api/alerts/?floor={floor.pk}"))) == {
        mixed[n].pk for n in ("wrong_patient", "near_empty", "old", "pink")}


@pytest.mark.parametrize("query", ["state=lost", "severity_min=25", "open=maybe", "floor=abc", "audience=everyone"])
def test_it_answers_a_bad_filter_with_400_naming_it(api: APIClient, nurse: User, query: str) -> None:
    response = _as(api, nurse).get(f"/api/alerts/?{query}")
    assert response.status_code == 400 and query.split("=")[0] in response.json()


def test_it_refuses_the_anonymous_and_people_without_the_permission(api: APIClient, visitor: User,
                                                                    mixed: dict[str, Alert]) -> None:
    assert api.get("/api/alerts/").status_code == 401
    assert _as(api, visitor).get("/api/alerts/").status_code == 403
    machine = user_create_with_role(username="nurse-call", role=roles.INTEGRATION, password="pw-machine")
    assert APIClient(HTTP_AUTHORIZATION=f"Token {token_for(user=machine)}").get("/api/alerts/").status_code == 403


def test_the_detail_has_the_timeline(api: APIClient, raise_alert: Raise, nurse: User) -> None:
    alert = raise_alert(message="Bag 17 for Ada Lovelace is at bed 102B")
    alert_acknowledge(alert_id=alert.pk, user=nurse, note="going", at=T0 + timedelta(seconds=20))
    body = _as(api, nurse).get(f"/api/alerts/{alert.pk}/").json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"] == "nurse"
    assert body["message"] == "Bag 17 for Ada Lovelace is at bed 102B"
    assert [(e["action"], e["user"], e["note"]) for e in body["timeline"]] == [
        ("raised", None, ""), ("acknowledged", "nurse", "going")]
    assert _as(api, nurse).get("/api/alerts/999999/").status_code == 404


def test_a_nurse_acknowledges_then_resolves_with_notes(api: APIClient, raise_alert: Raise, nurse: User) -> None:
    alert = raise_alert()
    client = _as(api, nurse)
    response = client.post(f"/api/alerts/{alert.pk}/acknowledge/", {"note": "on my way"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "acknowledged"
    response = client.post(f"/api/alerts/{alert.pk}/resolve/", {"note": "bag back at 102A"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "resolved" and body["resolved_by"] == "nurse"
    assert body["timeline"][-1] == {**body["timeline"][-1], "action": "resolved", "note": "bag back at 102A"}


def test_a_refused_move_is_a_409_naming_both_states(api: APIClient, raise_alert: Raise, nurse: User) -> None:
    alert = raise_alert()
    client = _as(api, nurse)
    assert client.post(f"/api/alerts/{alert.pk}/cancel/", {}, format="json").status_code == 200
    response = client.post(f"/api/alerts/{alert.pk}/acknowledge/", {"note": "late"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": f"alert {alert.pk} is cancelled; it cannot become acknowledged"}


def test_nobody_acts_on_an_alert_not_addressed_to_them(api: APIClient, raise_alert: Raise, biomed: User,
                                                       visitor: User) -> None:
    alert = raise_alert()
    assert _as(api, biomed).post(f"/api/alerts/{alert.pk}/acknowledge/", {}, format="json").status_code == 404
    assert _as(api, visitor).post(f"/api/alerts/{alert.pk}/acknowledge/", {}, format="json").status_code == 403
    alert.refresh_from_db()
    assert alert.state == "new"


def test_an_escalated_alert_reaches_the_charge_nurse(api: APIClient, raise_alert: Raise, nurse: User,
                                                     charge_nurse: User) -> None:
    pink = raise_alert(kind="security.infant_exit", key="pink:2", severity=40, audience="security",
                       subject_type="infant", subject_id="2")
    assert _ids(_as(api, charge_nurse).get("/api/alerts/")) == []
    alerts_escalate_due(now=T0 + timedelta(seconds=60))  # the seeded Security policy: charge nurses after 60 s
    assert _ids(_as(api, charge_nurse).get("/api/alerts/")) == [pink.pk]
    assert _ids(_as(api, nurse).get("/api/alerts/")) == []
    response = _as(api, charge_nurse).post(f"/api/alerts/{pink.pk}/acknowledge/", {"note": "at the exit"},
                                           format="json")
    assert response.status_code == 200


def test_the_schema_documents_the_alert_endpoints() -> None:
    import io

    import yaml
    from django.core.management import call_command

    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    paths = yaml.safe_load(out.getvalue())["paths"]
    assert {p["name"] for p in paths["/api/alerts/"]["get"]["parameters"]} == {
        "state", "open", "kind", "severity_min", "floor", "ward", "audience", "subject_type", "subject_id",
        "limit", "offset"}
    for action in ("acknowledge", "resolve", "cancel"):
        assert "409" in paths[f"/api/alerts/{{alert_id}}/{action}/"]["post"]["responses"]
