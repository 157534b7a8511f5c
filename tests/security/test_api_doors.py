"""GET /api/security/doors/ and POST /api/security/doors/<code>/command/: the door rows (the floor
websocket's "doors" shape) and commands that reach the real MQTT broker."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from floorplans.models import Floor
from security.models import DoorCommand
from tests.security.test_api_helpers import Nursery, Subscriber, nursery_setup
from tests.tracking.whereabouts import floor_elsewhere, scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    return nursery_setup(floor)

CONTRACT_KEYS = {"controller", "doors", "locked", "open", "forced", "held_open", "held", "egress", "release_at",
                 "online"}


def test_it_lists_a_floors_controllers_with_their_doors_and_state(
        api: APIClient, nurse: User, nursery: Nursery) -> None:
    api.force_authenticate(nurse)
    response = api.get("/api/security/doors/", {"floor": nursery.floor.pk})
    assert response.status_code == 200
    [row] = response.json()
    assert CONTRACT_KEYS <= set(row)
    assert row["controller"] == "maglock-3N" and row["doors"] == ["X-1"] and row["floor_id"] == nursery.floor.pk
    assert (row["online"], row["locked"], row["egress"], row["release_at"]) == (True, False, "idle", None)
    assert api.get("/api/security/doors/").json() == [row]  # every floor: the same row


@pytest.mark.parametrize("who", ["visitor", "biomed"])
def test_it_refuses_the_door_list_without_the_permission(
        api: APIClient, nursery: Nursery, who: str, request: pytest.FixtureRequest) -> None:
    api.force_authenticate(request.getfixturevalue(who))
    assert api.get("/api/security/doors/").status_code == 403


def test_an_officer_locks_a_door_and_the_command_reaches_the_broker(
        api: APIClient, security_officer: User, nursery: Nursery) -> None:
    api.force_authenticate(security_officer)
    with Subscriber(f"{nursery.exit.topic}/cmd") as broker:
        response = api.post("/api/security/doors/maglock-3N/command/", {"command": "lock", "reason": "drill prep"},
                            format="json")
        assert response.status_code == 202, response.json()
        published = broker.next()
    body = response.json()
    command = DoorCommand.objects.get()
    assert (command.command, command.reason, command.requested_by) == ("lock", "drill prep", security_officer)
    assert body["command_id"] == str(command.command_id) and body["controller"] == "maglock-3N"
    assert body["requested_by"] == "security_officer" and body["acked_at"] is None
    assert (published["id"], published["cmd"], published["reason"]) == (str(command.command_id), "lock", "drill prep")


@pytest.mark.parametrize(("command", "status", "says"), [
    ("hold", 400, "it takes lock / unlock"),  # an elevator command to a maglock: the door services refuse
    ("explode", 400, "is not a valid choice"),
])
def test_it_refuses_a_command_the_controller_does_not_take(
        api: APIClient, security_officer: User, nursery: Nursery, command: str, status: int, says: str) -> None:
    api.force_authenticate(security_officer)
    response = api.post("/api/security/doors/maglock-3N/command/", {"command": command}, format="json")
    assert response.status_code == status and says in str(response.json()["command"])
    assert not DoorCommand.objects.exists()


def test_a_refused_door_command_keeps_its_400_and_its_sentence(
        api: APIClient, security_officer: User, nursery: Nursery) -> None:
    """DoorCommandRefused is a SecurityRefused (a 409 elsewhere): the door command still answers 400."""
    api.force_authenticate(security_officer)
    response = api.post("/api/security/doors/maglock-3N/command/", {"command": "hold"}, format="json")
    assert (response.status_code, response.json()) == (
        400, {"command": "maglock-3N is a maglock controller: it takes lock / unlock / reset, not 'hold'"})


def test_a_nurse_may_see_doors_but_not_command_them(api: APIClient, nurse: User, nursery: Nursery) -> None:
    api.force_authenticate(nurse)
    assert api.post("/api/security/doors/maglock-3N/command/", {"command": "unlock"}, format="json").status_code == 403
    assert not DoorCommand.objects.exists()


def test_a_controller_unknown_or_outside_the_scope_is_not_found(
        api: APIClient, security_officer: User, nursery: Nursery) -> None:
    api.force_authenticate(security_officer)
    assert api.post("/api/security/doors/no-such/command/", {"command": "lock"}, format="json").status_code == 404
    scope(security_officer, "Block B only", buildings=(floor_elsewhere().building,))
    assert api.post("/api/security/doors/maglock-3N/command/", {"command": "lock"}, format="json").status_code == 404
    assert api.get("/api/security/doors/", {"floor": nursery.floor.pk}).status_code == 403
    assert api.get("/api/security/doors/").json() == []
