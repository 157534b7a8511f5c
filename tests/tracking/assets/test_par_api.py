"""The PAR levels API: nurses read the levels of the floors they may watch, with the live count and state;
biomedical engineering adds (counted at once), changes and deletes them; bad bodies are a 400."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from alerts.models import Alert
from floorplans.models import Floor, Zone
from tests.tracking.assets.test_rules_helpers import asset_make, locate
from tests.tracking.whereabouts import floor_elsewhere, scope
from tracking.assets import rules
from tracking.assets.services_rules import parlevel_save
from tracking.models import ParLevel

pytestmark = pytest.mark.django_db

PAR = "/api/assets/par-levels/"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    rules.reset()
    yield
    rules.reset()


@pytest.fixture
def store(floor: Floor) -> Zone:
    for number in ("IP-1", "IP-2", "IP-3"):
        locate(asset_make(number), Zone.objects.get(floor=floor, code="3N-ST"))
    return Zone.objects.get(floor=floor, code="3N-ST")


def test_biomed_adds_a_level_that_is_counted_and_alerted_at_once(api: APIClient, biomed: User, store: Zone,
                                                                  django_capture_on_commit_callbacks: Any) -> None:
    api.force_authenticate(biomed)
    with django_capture_on_commit_callbacks(execute=True):
        made = api.post(PAR, {"zone": store.pk, "category": "infusion_pump", "target_count": 6, "critical_count": 4},
                        format="json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["available"], body["state"], body["zone_name"], body["category_label"]) == (
        3, "low", "Equipment store", "infusion pump")
    assert api.get(f"{PAR}{body['id']}/").json()["alert"] == Alert.objects.get(kind=rules.PAR_LOW).pk

    with django_capture_on_commit_callbacks(execute=True):
        changed = api.patch(f"{PAR}{body['id']}/", {"critical_count": 2}, format="json")
    assert changed.status_code == 200 and changed.json()["state"] == "below_target"
    assert not Alert.objects.get(kind=rules.PAR_LOW).condition_active

    assert api.delete(f"{PAR}{body['id']}/").status_code == 204
    assert not ParLevel.objects.exists()
    assert Alert.objects.get(kind=rules.PAR_LOW).state == Alert.State.RESOLVED


@pytest.mark.parametrize(("body", "field"), [
    ({"category": "infusion_pump", "target_count": 2, "critical_count": 3}, "critical_count"),
    ({"category": "teleporter", "target_count": 2, "critical_count": 1}, "category"),
    ({"category": "infusion_pump", "target_count": -1, "critical_count": 0}, "target_count"),
    ({"category": "infusion_pump", "target_count": 2}, "critical_count"),
    ({"category": "infusion_pump", "target_count": 2, "critical_count": 1, "ward": "store"}, "ward"),
])
def test_it_refuses_a_bad_level_naming_the_field(api: APIClient, biomed: User, store: Zone, body: dict[str, Any],
                                                 field: str) -> None:
    api.force_authenticate(biomed)
    response = api.post(PAR, {"zone": store.pk, **body} | ({"ward": store.pk} if body.get("ward") else {}),
                        format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not ParLevel.objects.exists()


def test_a_second_level_for_the_same_zone_and_category_is_refused(api: APIClient, biomed: User, store: Zone) -> None:
    api.force_authenticate(biomed)
    body = {"zone": store.pk, "category": "infusion_pump", "target_count": 2, "critical_count": 1}
    assert api.post(PAR, body, format="json").status_code == 201
    again = api.post(PAR, body, format="json")
    assert again.status_code == 400 and ParLevel.objects.count() == 1


def test_nurses_read_the_levels_of_their_floors_but_may_not_change_them(api: APIClient, nurse: User,
                                                                         store: Zone) -> None:
    here = parlevel_save(zone=store, category="infusion_pump", target_count=3, critical_count=1)
    other_floor = floor_elsewhere()
    away = Zone.objects.create(floor=other_floor, code="ST", name="Other store", kind="storage",
                               polygon=store.polygon)
    parlevel_save(zone=away, category="infusion_pump", target_count=3, critical_count=1)
    scope(nurse, "3N nurses", floors=(store.floor,))
    api.force_authenticate(nurse)

    rows = api.get(PAR).json()
    assert [(r["id"], r["available"], r["state"]) for r in rows] == [(here.pk, 3, "at_target")]
    assert api.get(f"{PAR}{here.pk}/").status_code == 200
    assert api.post(PAR, {"zone": store.pk, "category": "bed", "target_count": 1, "critical_count": 1},
                    format="json").status_code == 403
    assert api.delete(f"{PAR}{here.pk}/").status_code == 403


def test_security_may_not_read_par_levels(api: APIClient, security_officer: User) -> None:
    api.force_authenticate(security_officer)
    assert api.get(PAR).status_code == 403
