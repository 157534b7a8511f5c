"""The position rules, fed FixesLocated events built directly, on the demo's maternity floor: approach,
at the exit (lock first), through (Code Pink), the lift lobby (elevators held), outside the ward, escorts
suspending exactly the exit alarms of their infant, and what a window of other tags costs (nothing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.db.models.signals import post_save

from alerts.models import Alert
from alerts.services import alert_resolve
from floorplans.services import floor_file_check, floor_import
from security import rules
from security.models import CodePink, CodePinkEvent, DoorCommand
from security.selectors import armed_infants, armed_mothers
from security.services import escort_start
from tests.security.test_rules_helpers import CORRIDOR_W, T0, Maternity, fixes, open_alert, status
from tracking.models import Tag

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules_fresh")]

STAIR_A_FRONT = (9.8, 11.1)  # 0.8 m in front of the west stair door
STAIR_A_NEAR = (11.5, 11.1)  # 2.5 m: approaching
STAIRWELL = (7.0, 11.1)  # through the door
LIFT_FRONT = (38.6, 11.8)  # 0.6 m in front of the lift lobby door


def _at(m: Maternity, tag: str, xy: tuple[float, float], dt_s: float) -> None:
    rules.on_fixes_located(fixes(m.floor.pk, [(m.tags[tag], xy[0], xy[1], dt_s)]))


def _commands(code: str, command: str = "lock") -> int:
    return DoorCommand.objects.filter(controller__code=code, command=command).count()


def test_approaching_an_exit_warns_and_moving_away_clears_it(m: Maternity) -> None:
    _at(m, "B001", CORRIDOR_W, 0)
    assert not Alert.objects.exists()
    _at(m, "B001", STAIR_A_NEAR, 1)
    approach = open_alert(rules.EXIT_APPROACH, m.mary)
    assert approach is not None and approach.severity == Alert.Severity.WARNING
    assert (approach.floor_id, approach.x_m, approach.y_m) == (m.floor.pk, 11.5, 11.1)
    _at(m, "B001", (12.3, 11.1), 2)  # 3.3 m: beyond approach_m but within the clearing margin
    assert open_alert(rules.EXIT_APPROACH, m.mary) is not None
    _at(m, "B001", (12.6, 11.1), 3)
    assert open_alert(rules.EXIT_APPROACH, m.mary) is None
    assert Alert.objects.get(kind=rules.EXIT_APPROACH).condition_cleared_at == T0 + timedelta(seconds=3)
    assert not DoorCommand.objects.exists()


def test_at_an_exit_the_door_is_locked_once_and_the_alarm_clears_when_the_infant_is_back(m: Maternity) -> None:
    for dt_s in (0.0, 0.1, 0.2):  # three windows at the door
        _at(m, "B001", STAIR_A_FRONT, dt_s)
    assert _commands("maglock-2E-west") == 1
    alarm = open_alert(rules.EXIT_ALARM, m.mary)
    assert alarm is not None and alarm.severity == Alert.Severity.CRITICAL
    assert alarm.data["door"] == "D-L2-STAIR-A" and "door locked" in alarm.title
    assert not CodePink.objects.exists() and not _commands("lifts-2E", "hold")
    _at(m, "B001", CORRIDOR_W, 5)
    assert open_alert(rules.EXIT_ALARM, m.mary) is None
    assert Alert.objects.get(kind=rules.EXIT_ALARM).state == Alert.State.NEW  # cleared, still to be resolved
    _at(m, "B001", STAIR_A_FRONT, 9)  # a second attempt: locked again
    assert _commands("maglock-2E-west") == 2


def test_the_lock_is_sent_before_the_alarm_is_written(m: Maternity) -> None:
    locks_when_raised: list[int] = []

    def alert_saved(sender: type, instance: Alert, created: bool, **kwargs: Any) -> None:
        if created and instance.kind == rules.EXIT_ALARM:
            locks_when_raised.append(_commands("maglock-2E-west"))

    post_save.connect(alert_saved, sender=Alert, dispatch_uid="test-lock-first")
    try:
        _at(m, "B001", STAIR_A_FRONT, 0)
    finally:
        post_save.disconnect(sender=Alert, dispatch_uid="test-lock-first")
    assert locks_when_raised == [1]


def test_at_the_lift_lobby_door_the_elevators_are_held_too(m: Maternity) -> None:
    _at(m, "B001", LIFT_FRONT, 0)
    assert _commands("maglock-2E-lifts") == 1 and _commands("lifts-2E", "hold") == 1
    hold = open_alert(rules.ELEVATOR_HOLD, m.mary)
    assert hold is not None and hold.severity == Alert.Severity.HIGH
    assert open_alert(rules.EXIT_ALARM, m.mary) is not None


def test_through_an_exit_starts_code_pink_which_locks_every_exit_and_follows_the_infant(m: Maternity) -> None:
    _at(m, "B001", STAIR_A_FRONT, 0)
    _at(m, "B001", STAIRWELL, 1)
    pink = CodePink.objects.get()
    assert (pink.trigger, pink.infant_id, pink.floor_id, pink.state) == ("exit_breach", m.mary.pk, m.floor.pk,
                                                                        "active")
    assert {c.controller.code for c in pink.commands.filter(command="lock")} == {
        "maglock-2E-west", "maglock-2E-east", "maglock-2E-lifts"}
    assert open_alert(rules.EXIT_ALARM, m.mary).data["level"] == "through"  # type: ignore[union-attr]
    assert open_alert(rules.OUTSIDE_WARD, m.mary) is not None  # the stairwell is off the ward
    for i in range(1, 25):  # 12 s in the stairwell, a fix every 0.5 s
        _at(m, "B001", (7.0, 11.1 - 0.1 * i), 1 + 0.5 * i)
    seen = CodePinkEvent.objects.filter(code_pink=pink, action="seen").order_by("at")
    assert [e.at - T0 for e in seen] == [timedelta(seconds=s) for s in (1, 6, 11)]  # every 5 s
    assert seen.last().data["y_m"] == pytest.approx(9.1)  # type: ignore[union-attr]
    pink_alert = Alert.objects.get(key=f"security.code_pink:{pink.pk}")
    assert pink_alert.y_m == pytest.approx(9.1)  # moved with the infant (every 5 s)
    assert CodePink.objects.count() == 1  # one incident, however many windows


def test_an_escort_suspends_only_its_infants_exit_alarms(m: Maternity, charge_nurse: User) -> None:
    escort_start(infant_id=m.mary.pk, user=charge_nurse, destination="Radiology", reason="scan", minutes=30, at=T0)
    rules.on_fixes_located(fixes(m.floor.pk, [(m.tags["B001"], *STAIR_A_FRONT, 1), (m.tags["B002"], *LIFT_FRONT, 1)]))
    _at(m, "B001", STAIRWELL, 2)
    assert open_alert(rules.EXIT_ALARM, m.mary) is None and open_alert(rules.OUTSIDE_WARD, m.mary) is None
    assert _commands("maglock-2E-west") == 0 and not CodePink.objects.filter(infant=m.mary).exists()
    assert open_alert(rules.EXIT_ALARM, m.jane) is not None and _commands("maglock-2E-lifts") == 1
    rules.on_status_changed(status(m.tags["B001"], 3, tamper=True))  # the band cut on the way: still an alarm
    tamper = open_alert(rules.TAMPER, m.mary)
    assert tamper is not None and (tamper.x_m, tamper.y_m) == STAIRWELL


def test_after_the_escort_expires_the_exit_alarms_are_armed_again(m: Maternity, charge_nurse: User) -> None:
    escort_start(infant_id=m.mary.pk, user=charge_nurse, destination="Radiology", reason="scan", minutes=1, at=T0)
    _at(m, "B001", STAIR_A_FRONT, 30)
    assert open_alert(rules.EXIT_ALARM, m.mary) is None
    _at(m, "B001", STAIR_A_FRONT, 61)
    assert open_alert(rules.EXIT_ALARM, m.mary) is not None and _commands("maglock-2E-west") == 1


def test_off_the_ward_raises_outside_ward_with_the_place_and_back_on_clears_it(m: Maternity) -> None:
    _at(m, "B001", (2.0, 2.0), 0)  # west of the building, nowhere near an exit
    outside = open_alert(rules.OUTSIDE_WARD, m.mary)
    assert outside is not None and (outside.floor_id, outside.x_m, outside.y_m) == (m.floor.pk, 2.0, 2.0)
    assert not DoorCommand.objects.exists()
    _at(m, "B001", CORRIDOR_W, 4)
    assert open_alert(rules.OUTSIDE_WARD, m.mary) is None


def test_on_another_floor_the_infant_is_outside_its_ward(m: Maternity, floor: Any) -> None:
    _at_floor = fixes(floor.pk, [(m.tags["B001"], 12.0, 9.5, 0)])  # the test ward's corridor (3 North)
    rules.on_fixes_located(_at_floor)
    outside = open_alert(rules.OUTSIDE_WARD, m.mary)
    assert outside is not None and outside.floor_id == floor.pk and "another floor" in outside.title


def test_a_window_of_other_tags_costs_no_query(m: Maternity, django_assert_num_queries: Any) -> None:
    others = [Tag(pk=100_000 + i, tag_id=f"AC23{i:08X}") for i in range(5000)]
    rng = np.random.default_rng(3)
    window = fixes(m.floor.pk, [(t, *rng.uniform([9, 4], [69, 18]), 0.0) for t in others])
    assert armed_infants() and armed_mothers()  # the directory is warm, as in a running pipeline
    with django_assert_num_queries(0):
        rules.on_fixes_located(window)
    assert not rules.STATE.last


def test_an_open_alert_follows_the_infant_but_one_dealt_with_is_not_raised_again(m: Maternity,
                                                                                security_officer: User) -> None:
    _at(m, "B001", (2.0, 2.0), 0)
    for dt_s in range(1, 7):
        _at(m, "B001", (2.0, 2.0 + dt_s), dt_s)
    outside = Alert.objects.get(kind=rules.OUTSIDE_WARD)
    assert (outside.x_m, outside.y_m) == (2.0, 7.0)  # moved with the infant after 5 s
    alert_resolve(alert_id=outside.pk, user=security_officer, note="with her father, checked")
    for dt_s in range(7, 20):
        _at(m, "B001", (2.0, 8.0), dt_s)
    assert Alert.objects.filter(kind=rules.OUTSIDE_WARD).count() == 1  # not raised again while still outside
    _at(m, "B001", CORRIDOR_W, 21)
    _at(m, "B001", (2.0, 2.0), 22)  # a new time off the ward
    assert Alert.objects.filter(kind=rules.OUTSIDE_WARD).count() == 2


def test_the_floor_geometry_marks_exits_into_or_next_to_a_lift_lobby(m: Maternity, floor_doc: dict[str, Any]) -> None:
    geometry = rules.floor_geometry_load(floor_id=m.floor.pk)
    assert {d.code: d.to_elevator_lobby for d in geometry.exits.doors} == {
        "D-L2-STAIR-A": False, "D-L2-STAIR-B": False, "D-L2-LIFTS": True}
    assert set(geometry.wards) == {m.ward.pk}
    # the test ward's stairwell, given a door on to a lift lobby: its exit now leads to the lifts
    floor_doc["features"] += [
        {"type": "Feature", "properties": {"feature": "zone", "code": "LOBBY", "name": "Lobby",
                                           "kind": "elevator_lobby"},
         "geometry": {"type": "Polygon", "coordinates": [[[26, 16], [30, 16], [30, 20], [26, 20], [26, 16]]]}},
        {"type": "Feature", "properties": {"feature": "door", "code": "D-LOBBY", "name": "Lobby door",
                                           "from_zone": "LOBBY", "to_zone": "ST-1"},
         "geometry": {"type": "LineString", "coordinates": [[27, 16], [29, 16]]}},
    ]
    floor = floor_import(floor_file=floor_file_check(floor_doc)).floor
    (exit_door,) = rules.floor_geometry_load(floor_id=floor.pk).exits.doors
    assert (exit_door.code, exit_door.controller, exit_door.to_elevator_lobby) == ("X-1", "maglock-3N", True)
