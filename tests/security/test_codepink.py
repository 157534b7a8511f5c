"""Code Pink: every exit of the floor locked and its elevators held through the real door service, the
CRITICAL alert, the timeline, drills marked as such, resolve undoing exactly what was locked, and one
active incident per scope."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from alerts.models import Alert
from floorplans.models import Floor
from security.codepink import code_pink_note, code_pink_resolve, code_pink_start
from security.doors.port import door_port_install
from security.doors.protocol import Command
from security.exceptions import SecurityRefused
from security.models import CodePink, DoorCommand, Infant
from tests.security.test_codepink_helpers import EXITS, Lockdown, lockdown_setup
from tests.security.test_services_helpers import T0, infant_make, ward_setup

pytestmark = pytest.mark.django_db
S = timedelta(seconds=1)


@pytest.fixture
def site(floor_doc: dict[str, Any]) -> Lockdown:
    return lockdown_setup(floor_doc)


@pytest.fixture
def baby(site: Lockdown) -> Infant:
    return infant_make(ward_setup(site.floor))


def _start(site: Lockdown, **extra: Any) -> CodePink:
    arguments: dict[str, Any] = {"trigger": "manual", "building_id": site.floor.building_id,
                                 "floor_id": site.floor.pk, "at": T0}
    return code_pink_start(**(arguments | extra))


def _commands(code_pink: CodePink) -> list[tuple[str, str]]:
    return sorted(DoorCommand.objects.filter(code_pink=code_pink).values_list("controller__code", "command"))


def _timeline(code_pink: CodePink) -> list[str]:
    return list(code_pink.timeline.values_list("action", flat=True))


def test_it_locks_every_exit_of_the_floor_holds_its_elevators_and_raises_the_alarm(
        site: Lockdown, baby: Infant, nurse: User) -> None:
    code_pink = _start(site, infant_id=baby.pk, user=nurse, note="mother says a visitor took the baby")
    assert (code_pink.state, code_pink.trigger, code_pink.drill, code_pink.floor, code_pink.infant,
            code_pink.started_by, code_pink.started_at) == ("active", "manual", False, site.floor, baby, nurse, T0)
    assert _commands(code_pink) == sorted([(code, "lock") for code in EXITS] + [("lifts-3N", "hold")])
    assert not DoorCommand.objects.filter(controller=site.store).exists()  # not an exit: left alone
    assert set(DoorCommand.objects.values_list("reason", flat=True)) == {f"Code Pink #{code_pink.pk}"}
    assert _timeline(code_pink) == ["started", "door_lock", "door_lock", "door_lock", "door_hold", "alert_raised"]
    alert = code_pink.alert
    assert alert is not None
    assert (alert.kind, alert.severity, alert.audience, alert.key, alert.subject_id, alert.floor) == (
        "security.code_pink", Alert.Severity.CRITICAL, "security", f"security.code_pink:{code_pink.pk}",
        str(baby.pk), site.floor)
    assert alert.title == "Code Pink — 3 North - Test Ward: Baby Jones"
    assert alert.message.endswith("mother says a visitor took the baby")
    assert alert.data["drill"] is False and alert.data["code_pink_id"] == code_pink.pk
    assert sorted(alert.data["controllers"]) == sorted([*EXITS, "lifts-3N"])


def test_every_door_step_is_on_the_timeline_with_its_command_id(site: Lockdown, nurse: User) -> None:
    code_pink = _start(site, user=nurse)
    steps = {e.data["controller"]: e for e in code_pink.timeline.filter(action__in=["door_lock", "door_hold"])}
    assert set(steps) == {*EXITS, "lifts-3N"}
    for code, event in steps.items():
        sent = DoorCommand.objects.get(controller__code=code, code_pink=code_pink)
        assert event.data["command_id"] == str(sent.command_id) and event.user == nurse and event.at == T0


def test_a_drill_runs_the_same_flow_marked_as_a_drill_everywhere(site: Lockdown, security_officer: User) -> None:
    drill = _start(site, drill=True, user=security_officer)
    assert drill.drill and len(_commands(drill)) == 4  # the doors really lock: the drill exercises them
    assert set(DoorCommand.objects.values_list("reason", flat=True)) == {f"Code Pink drill #{drill.pk}"}
    assert drill.alert is not None and drill.alert.title.startswith("DRILL — Code Pink")
    assert drill.alert.data["drill"] is True and drill.alert.message.startswith("A drill:")
    assert all(event.data["drill"] is True for event in drill.timeline.all())
    code_pink_resolve(code_pink_id=drill.pk, user=security_officer, resolution="drill over")
    assert all(event.data["drill"] is True for event in drill.timeline.all())


def test_resolving_unlocks_and_releases_what_it_locked_and_resolves_the_alarm(
        site: Lockdown, baby: Infant, security_officer: User) -> None:
    code_pink = _start(site, infant_id=baby.pk)
    done = code_pink_resolve(code_pink_id=code_pink.pk, user=security_officer, resolution="found with her mother",
                             at=T0 + 600 * S)
    assert (done.state, done.resolved_by, done.resolved_at, done.resolution) == (
        "resolved", security_officer, T0 + 600 * S, "found with her mother")
    undone = DoorCommand.objects.filter(code_pink=code_pink, command__in=["unlock", "release"])
    assert sorted(undone.values_list("controller__code", "command")) == sorted(
        [(code, "unlock") for code in EXITS] + [("lifts-3N", "release")])
    assert all(c.sent_at == T0 + 600 * S and c.requested_by == security_officer for c in undone)
    assert code_pink.alert is not None
    code_pink.alert.refresh_from_db()
    assert code_pink.alert.state == Alert.State.RESOLVED
    assert code_pink.alert.timeline.get(action="resolved").note == "found with her mother"
    assert _timeline(done)[-1] == "resolved"


def test_it_refuses_to_resolve_without_the_permission_a_resolution_or_twice(
        site: Lockdown, nurse: User, security_officer: User) -> None:
    code_pink = _start(site, user=nurse)
    with pytest.raises(SecurityRefused, match="You are not allowed to resolve a Code Pink"):
        code_pink_resolve(code_pink_id=code_pink.pk, user=nurse, resolution="found")
    with pytest.raises(SecurityRefused, match="Say how the Code Pink ended"):
        code_pink_resolve(code_pink_id=code_pink.pk, user=security_officer, resolution=" ")
    code_pink_resolve(code_pink_id=code_pink.pk, user=security_officer, resolution="found")
    with pytest.raises(SecurityRefused, match=r"This Code Pink was already resolved at \d\d:\d\d"):
        code_pink_resolve(code_pink_id=code_pink.pk, user=security_officer, resolution="found")
    with pytest.raises(SecurityRefused, match="There is no Code Pink with id 0"):
        code_pink_resolve(code_pink_id=0, user=security_officer, resolution="found")


def test_it_refuses_to_start_without_the_permission_or_with_a_bad_scope(
        site: Lockdown, visitor: User, biomed: User, floor: Floor) -> None:
    for user in (visitor, biomed):
        with pytest.raises(SecurityRefused, match="You are not allowed to start a Code Pink"):
            _start(site, user=user)
    with pytest.raises(SecurityRefused, match="There is no building with id 0"):
        _start(site, building_id=0)
    with pytest.raises(SecurityRefused, match="There is no enrolled infant with id 0"):
        _start(site, infant_id=0)
    with pytest.raises(ValueError, match="trigger 'panic' is not one of"):
        _start(site, trigger="panic")
    assert not CodePink.objects.exists() and not DoorCommand.objects.exists()


def test_a_second_trigger_adds_to_the_active_code_pink_of_the_floor(site: Lockdown, baby: Infant,
                                                                    nurse: User) -> None:
    first = _start(site, user=nurse)
    again = _start(site, trigger="exit_breach", infant_id=baby.pk, note="through Stairs 2", at=T0 + 5 * S)
    assert again.pk == first.pk and CodePink.objects.count() == 1
    assert Alert.objects.filter(kind="security.code_pink").count() == 1
    assert DoorCommand.objects.count() == 4  # not locked twice
    line = first.timeline.get(action="triggered_again")
    assert (line.at, line.note, line.data["trigger"], line.data["infant_id"]) == (
        T0 + 5 * S, "through Stairs 2", "exit_breach", baby.pk)


def test_a_building_wide_code_pink_covers_its_floors_but_not_the_other_way_round(site: Lockdown) -> None:
    floor_level = _start(site)
    building = _start(site, floor_id=None, at=T0 + S)
    assert building.pk != floor_level.pk and building.floor is None
    assert _commands(building) == _commands(floor_level)  # every exit of the building: this floor's
    assert _start(site, at=T0 + 2 * S).pk == floor_level.pk  # the floor's own incident takes the line


def test_a_real_code_pink_during_a_drill_is_its_own_incident_and_no_drill_starts_during_a_real_one(
        site: Lockdown) -> None:
    drill = _start(site, drill=True)
    real = _start(site, trigger="exit_breach", at=T0 + S)
    assert real.pk != drill.pk and not real.drill
    assert real.alert is not None and not real.alert.title.startswith("DRILL")
    with pytest.raises(SecurityRefused, match=r"A real Code Pink is active .*: no drill now"):
        _start(site, drill=True, at=T0 + 2 * S)


def test_resolving_one_incident_keeps_the_doors_another_still_needs(site: Lockdown, security_officer: User) -> None:
    drill = _start(site, drill=True)
    real = _start(site, trigger="exit_breach", at=T0 + S)
    code_pink_resolve(code_pink_id=drill.pk, user=security_officer, resolution="drill stopped: real alarm")
    assert not DoorCommand.objects.filter(command__in=["unlock", "release"]).exists()
    assert drill.timeline.filter(action="door_kept").count() == 4
    code_pink_resolve(code_pink_id=real.pk, user=security_officer, resolution="found")
    assert DoorCommand.objects.filter(code_pink=real, command__in=["unlock", "release"]).count() == 4


def test_a_door_that_cannot_be_commanded_is_on_the_timeline_and_the_rest_goes_on(site: Lockdown) -> None:
    class BrokenForOne:
        def send(self, *, topic: str, command: Command) -> bool:
            if "maglock-3N-west" in topic:
                raise ConnectionError("relay board not answering")
            return True

    previous = door_port_install(BrokenForOne())
    try:
        code_pink = _start(site)
    finally:
        door_port_install(previous)
    failed = code_pink.timeline.get(action="door_lock_failed")
    assert failed.data["controller"] == "maglock-3N-west" and "relay board not answering" in failed.note
    assert len(_commands(code_pink)) == 3 and code_pink.alert is not None
    assert "maglock-3N-west" not in code_pink.alert.data["controllers"]


def test_a_floor_without_door_controllers_still_gets_the_alarm_and_says_so(floor: Floor) -> None:
    code_pink = code_pink_start(trigger="manual", building_id=floor.building_id, floor_id=floor.pk, at=T0)
    assert _timeline(code_pink) == ["started", "no_doors", "alert_raised"]
    assert code_pink.alert is not None and code_pink.alert.data["controllers"] == []


def test_it_notes_sightings_and_steps_on_the_timeline(site: Lockdown, security_officer: User) -> None:
    drill = _start(site, drill=True)
    event = code_pink_note(code_pink_id=drill.pk, action="seen", user=security_officer, note="Stairs 2, level 1",
                           data={"x_m": 3.5}, at=T0 + 30 * S)
    assert (event.action, event.note, event.data, event.at) == ("seen", "Stairs 2, level 1",
                                                                {"x_m": 3.5, "drill": True}, T0 + 30 * S)
    with pytest.raises(ValueError, match="1 to 32 characters"):
        code_pink_note(code_pink_id=drill.pk, action="x" * 33)
    with pytest.raises(SecurityRefused, match="There is no Code Pink with id 0"):
        code_pink_note(code_pink_id=0, action="seen")


@pytest.mark.django_db(transaction=True)
def test_two_triggers_at_the_same_moment_make_one_code_pink(site: Lockdown, nurse: User,
                                                            security_officer: User) -> None:
    barrier = threading.Barrier(2)
    started: dict[str, int] = {}

    def start(user: User) -> None:
        try:
            barrier.wait(timeout=10)
            started[user.username] = _start(site, user=user).pk
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(user,)) for user in (nurse, security_officer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(started) == 2 and len(set(started.values())) == 1
    code_pink = CodePink.objects.get()
    assert code_pink.timeline.filter(action="triggered_again").count() == 1
    assert DoorCommand.objects.count() == 4 and Alert.objects.filter(kind="security.code_pink").count() == 1
