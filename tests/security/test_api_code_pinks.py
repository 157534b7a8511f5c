"""The Code Pink API: calling one (exits lock over the real broker), the active list for the banner, the
merged timeline, resolving with a resolution (exits unlock), and who may do what."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from alerts.models import Alert
from floorplans.models import Floor
from security.models import CodePink
from tests.security.test_api_helpers import Nursery, Subscriber, nursery_setup
from tests.tracking.whereabouts import floor_elsewhere

pytestmark = pytest.mark.django_db


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    return nursery_setup(floor)


def test_an_officer_calls_a_drill_the_exit_locks_and_resolving_it_unlocks_it(
        api: APIClient, security_officer: User, nursery: Nursery) -> None:
    api.force_authenticate(security_officer)
    with Subscriber(f"{nursery.exit.topic}/cmd") as broker:
        started = api.post("/api/security/code-pinks/start/", {
            "floor": nursery.floor.pk, "drill": True, "infant": nursery.baby.pk, "note": "drill: Baby Jones"},
            format="json")
        assert started.status_code == 201, started.json()
        assert broker.next()["cmd"] == "lock"
        incident = CodePink.objects.get()
        body = started.json()
        assert (body["id"], body["drill"], body["state"], body["floor_name"], body["infant_name"], body["started_by"]) \
            == (incident.pk, True, "active", nursery.floor.name, "Baby Jones", "security_officer")
        assert [row["id"] for row in api.get("/api/security/code-pinks/", {"state": "active"}).json()["results"]] \
            == [incident.pk]
        timeline = api.get(f"/api/security/code-pinks/{incident.pk}/timeline/").json()
        actions = [(entry["source"], entry["action"]) for entry in timeline]
        assert actions[0] == ("code pink", "started") and ("code pink", "door lock") in actions
        assert [entry["at"] for entry in timeline] == sorted(entry["at"] for entry in timeline)
        assert api.post(f"/api/security/code-pinks/{incident.pk}/resolve/", {"resolution": " "},
                        format="json").status_code == 400
        resolved = api.post(f"/api/security/code-pinks/{incident.pk}/resolve/",
                            {"resolution": "drill over: found in room 101"}, format="json")
        assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
        assert broker.next()["cmd"] == "unlock"
    incident.refresh_from_db()
    assert incident.resolved_by == security_officer and incident.alert is not None
    assert Alert.objects.get(pk=incident.alert.pk).state == Alert.State.RESOLVED
    again = api.post(f"/api/security/code-pinks/{incident.pk}/resolve/", {"resolution": "again"}, format="json")
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]


def test_a_nurse_may_call_a_code_pink_but_not_resolve_it(
        api: APIClient, nurse: User, biomed: User, nursery: Nursery) -> None:
    api.force_authenticate(biomed)
    assert api.post("/api/security/code-pinks/start/", {"floor": nursery.floor.pk}, format="json").status_code == 403
    api.force_authenticate(nurse)
    started = api.post("/api/security/code-pinks/start/", {"floor": nursery.floor.pk}, format="json")
    assert started.status_code == 201 and started.json()["drill"] is False
    resolve = api.post(f"/api/security/code-pinks/{started.json()['id']}/resolve/", {"resolution": "found"},
                       format="json")
    assert resolve.status_code == 403
    assert CodePink.objects.get().state == CodePink.State.ACTIVE


def test_a_drill_is_refused_during_a_real_code_pink(
        api: APIClient, security_officer: User, nursery: Nursery) -> None:
    api.force_authenticate(security_officer)
    assert api.post("/api/security/code-pinks/start/", {"building": nursery.floor.building_id},
                    format="json").status_code == 201
    drill = api.post("/api/security/code-pinks/start/", {"floor": nursery.floor.pk, "drill": True}, format="json")
    assert drill.status_code == 409 and "no drill now" in drill.json()["detail"]


@pytest.mark.parametrize("body", [{}, {"drill": True}, {"floor": "x"}])
def test_it_wants_a_floor_or_a_building(api: APIClient, security_officer: User, nursery: Nursery,
                                        body: dict[str, object]) -> None:
    api.force_authenticate(security_officer)
    response = api.post("/api/security/code-pinks/start/", body, format="json")
    assert response.status_code == 400 and "floor" in response.json()
    assert not CodePink.objects.exists()


def test_a_floor_of_another_building_is_refused(api: APIClient, security_officer: User, nursery: Nursery) -> None:
    api.force_authenticate(security_officer)
    response = api.post("/api/security/code-pinks/start/", {
        "floor": nursery.floor.pk, "building": floor_elsewhere().building_id}, format="json")
    assert response.status_code == 400 and "not in that building" in str(response.json())
