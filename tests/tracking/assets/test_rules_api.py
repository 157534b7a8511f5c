"""The rules API: biomedical engineering reads and edits status rules and forbidden zones; others may not;
bad bodies are a 400 naming the field (table-driven)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from floorplans.models import Floor, Zone
from tests.tracking.assets.test_rules_helpers import S
from tracking.assets import rules
from tracking.models import ForbiddenZone, StatusRule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_data")]

RULES, FORBIDDEN = "/api/assets/status-rules/", "/api/assets/forbidden-zones/"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    rules.reset()
    yield
    rules.reset()


@pytest.fixture
def as_biomed(api: APIClient, biomed: User) -> APIClient:
    api.force_authenticate(biomed)
    return api


def test_biomed_lists_the_default_rules(as_biomed: APIClient) -> None:
    body = as_biomed.get(RULES).json()
    assert {r["zone_kind"] for r in body} >= {"dirty_utility", "room", "clean_utility", "storage"}
    assert {r["zone_kind"] for r in as_biomed.get(FORBIDDEN).json()} >= {"loading_dock", "entrance", "exit"}


def test_biomed_adds_changes_and_deletes_a_rule_and_the_rules_see_it_at_once(as_biomed: APIClient,
                                                                             floor: Floor) -> None:
    store = Zone.objects.get(floor=floor, code="3N-ST")
    made = as_biomed.post(RULES, {"name": "3N store", "zone": store.pk, "category": "bed",
                                  "from_statuses": [S.IN_USE], "status": S.NEEDS_CLEANING, "after_s": 30},
                          format="json")
    assert made.status_code == 201, made.json()
    rule_id = made.json()["id"]
    assert made.json()["zone_name"] == "Equipment store"
    assert any(r.pk == rule_id and r.after_s == 30 for r in rules.STATE.current().rules)

    patched = as_biomed.patch(f"{RULES}{rule_id}/", {"after_s": 90, "enabled": False}, format="json")
    assert patched.status_code == 200, patched.json()
    rule = StatusRule.objects.get(pk=rule_id)
    assert (rule.after_s, rule.enabled, rule.zone_id, rule.from_statuses) == (90, False, store.pk, [S.IN_USE])
    assert not any(r.pk == rule_id for r in rules.STATE.current().rules)  # disabled: out of the directory

    assert as_biomed.delete(f"{RULES}{rule_id}/").status_code == 204
    assert as_biomed.get(f"{RULES}{rule_id}/").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "status": S.IN_USE}, "zone_kind"),  # neither a zone nor a kind
    ({"name": "x", "zone_kind": "room", "status": "lost"}, "status"),
    ({"name": "x", "zone_kind": "room", "status": S.IN_USE, "from_statuses": ["lost"]}, "from_statuses"),
    ({"name": "x", "zone_kind": "room", "status": S.IN_USE, "from_statuses": [S.IN_USE]}, "from_statuses"),
    ({"name": "x", "zone_kind": "room", "status": S.IN_USE, "after_s": -5}, "after_s"),
    ({"name": "x", "zone_kind": "spaceship", "status": S.IN_USE}, "zone_kind"),
    ({"zone_kind": "room", "status": S.IN_USE}, "name"),
])
def test_it_refuses_a_bad_rule_naming_the_field(as_biomed: APIClient, body: dict[str, Any], field: str) -> None:
    before = StatusRule.objects.count()
    response = as_biomed.post(RULES, body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert StatusRule.objects.count() == before


def test_a_rule_names_a_zone_or_a_kind_not_both(as_biomed: APIClient, floor: Floor) -> None:
    response = as_biomed.post(RULES, {"name": "x", "zone_kind": "room", "zone": Zone.objects.filter(floor=floor)
                                      .first().pk, "status": S.IN_USE}, format="json")  # type: ignore[union-attr]
    assert response.status_code == 400 and "zone_kind" in response.json()


def test_biomed_adds_a_forbidden_zone_for_one_category(as_biomed: APIClient, floor: Floor) -> None:
    stairs = Zone.objects.get(floor=floor, code="ST-1")
    made = as_biomed.post(FORBIDDEN, {"zone": stairs.pk, "category": "infusion_pump", "note": "no pumps"},
                          format="json")
    assert made.status_code == 201, made.json()
    spec = ForbiddenZone.objects.get(pk=made.json()["id"])
    assert (spec.zone_id, spec.category) == (stairs.pk, "infusion_pump")
    assert as_biomed.put(f"{FORBIDDEN}{spec.pk}/", {"zone_kind": "stairs"}, format="json").status_code == 200
    spec.refresh_from_db()
    assert (spec.zone_id, spec.zone_kind, spec.category) == (None, "stairs", "")
    assert as_biomed.delete(f"{FORBIDDEN}{spec.pk}/").status_code == 204


@pytest.mark.parametrize("persona", ["nurse", "charge_nurse", "security_officer", "visitor"])
def test_others_may_not_read_or_edit_the_rules(api: APIClient, persona: str, request: pytest.FixtureRequest) -> None:
    api.force_authenticate(request.getfixturevalue(persona))
    assert api.get(RULES).status_code == 403
    assert api.post(RULES, {"name": "x", "zone_kind": "room", "status": S.IN_USE}, format="json").status_code == 403
    assert api.post(FORBIDDEN, {"zone_kind": "stairs"}, format="json").status_code == 403


def test_an_anonymous_call_is_401(api: APIClient) -> None:
    assert api.get(RULES).status_code == 401
