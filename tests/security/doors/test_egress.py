"""The door state machine on a controlled clock: every transition, the refused and the no-op ones too."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from security.doors.egress import DoorMachine, DoorRefused, EgressSettings, Snapshot, Step

SETTINGS = EgressSettings(egress_delay_s=15.0, egress_push_s=1.0, held_open_s=30.0)
Steps = list[tuple[float, str]]


def machine(*, kind: str = "maglock", locked: bool = False, settings: EgressSettings = SETTINGS) -> DoorMachine:
    door = DoorMachine(kind, settings)
    if locked:
        door.state = Snapshot(locked=True)
    return door


def run(door: DoorMachine, steps: Steps) -> tuple[list[Step], list[tuple[str, float]]]:
    done = [getattr(door, name)(t_s) for t_s, name in steps]
    return done, [event for step in done for event in step.events]


CASES: list[tuple[str, bool, Steps, dict[str, Any], list[tuple[str, float]]]] = [
    # (case, starts locked, inputs, state fields expected after them, events reported)
    ("lock an unlocked door", False, [(0, "lock")], {"locked": True}, []),
    ("unlock a locked door", True, [(0, "unlock")], {"locked": False}, []),
    ("open while unlocked: no alarm", False, [(0, "door_open")], {"open": True, "forced": False}, []),
    ("open while locked: forced", True, [(5, "door_open")], {"open": True, "forced": True}, [("forced", 5)]),
    ("closing ends the forced alarm", True, [(5, "door_open"), (8, "door_close")],
     {"open": False, "forced": False}, [("forced", 5), ("closed", 8)]),
    ("unlocking a forced door keeps the alarm until it closes", True, [(5, "door_open"), (6, "unlock")],
     {"forced": True, "locked": False}, [("forced", 5)]),
    ("reset clears the forced alarm", True, [(5, "door_open"), (6, "reset")], {"forced": False, "open": True},
     [("forced", 5)]),
    ("held open once open for held_open_s while locked", True, [(0, "door_open"), (29.9, "advance"),
                                                               (30, "advance")],
     {"held_open": True, "forced": True}, [("forced", 0), ("held_open", 30)]),
    ("held open reported at its own time though time is read late", True, [(0, "door_open"), (100, "advance")],
     {"held_open": True}, [("forced", 0), ("held_open", 30)]),
    ("an unlocked door may stand open", False, [(0, "door_open"), (1000, "advance")],
     {"open": True, "held_open": False}, []),
    ("locking an open door starts the held-open time then", False,
     [(0, "door_open"), (10, "lock"), (39.9, "advance"), (40, "advance")], {"held_open": True},
     [("held_open", 40)]),
    ("unlocking ends held open", False, [(0, "door_open"), (10, "lock"), (40, "advance"), (41, "unlock")],
     {"held_open": False, "open": True}, [("held_open", 40)]),
    ("closing ends held open", True, [(0, "door_open"), (30, "advance"), (31, "door_close")],
     {"held_open": False, "open": False}, [("forced", 0), ("held_open", 30), ("closed", 31)]),
    # delayed egress
    ("a sustained push starts the delay", True, [(0, "push_start"), (1, "advance")],
     {"egress": "pending", "release_at_s": 16.0, "pushing": True}, [("egress_push", 1)]),
    ("the lock releases egress_delay_s after the push", True, [(0, "push_start"), (15.9, "advance"),
                                                              (16, "advance")],
     {"egress": "released", "locked": True}, [("egress_push", 1), ("egress_released", 16)]),
    ("a brief push does nothing", True, [(0, "push_start"), (0.5, "push_end"), (100, "advance")],
     {"egress": "idle", "pushing": False, "release_at_s": None}, []),
    ("a push of exactly egress_push_s counts", True, [(0, "push_start"), (1.0, "push_end")],
     {"egress": "pending"}, [("egress_push", 1)]),
    ("letting go does not stop the delay", True, [(0, "push_start"), (1.2, "push_end"), (16, "advance")],
     {"egress": "released", "pushing": False}, [("egress_push", 1), ("egress_released", 16)]),
    ("opening during the delay is forcing", True, [(0, "push_start"), (2, "door_open")],
     {"forced": True, "egress": "pending"}, [("egress_push", 1), ("forced", 2)]),
    ("opening after the release is egress, not forcing", True,
     [(0, "push_start"), (1, "push_end"), (16, "advance"), (17, "door_open")],
     {"forced": False, "open": True, "egress": "released"}, [("egress_push", 1), ("egress_released", 16)]),
    ("the release outlasts the door closing", True,
     [(0, "push_start"), (1, "push_end"), (16, "advance"), (17, "door_open"), (20, "door_close"), (500, "advance")],
     {"egress": "released", "open": False}, [("egress_push", 1), ("egress_released", 16), ("closed", 20)]),
    ("a propped door after the release is held open", True,
     [(0, "push_start"), (1, "push_end"), (16, "advance"), (17, "door_open"), (47, "advance")],
     {"held_open": True, "forced": False}, [("egress_push", 1), ("egress_released", 16), ("held_open", 47)]),
    ("reset after the release locks again", True, [(0, "push_start"), (1, "push_end"), (16, "advance"),
                                                  (30, "reset")],
     {"egress": "idle", "locked": True, "release_at_s": None}, [("egress_push", 1), ("egress_released", 16)]),
    ("reset during the delay cancels it", True, [(0, "push_start"), (1, "push_end"), (5, "reset"), (100, "advance")],
     {"egress": "idle"}, [("egress_push", 1)]),
    ("someone still pushing after a reset starts a new cycle", True,
     [(0, "push_start"), (1, "advance"), (5, "reset"), (6, "advance")],
     {"egress": "pending", "release_at_s": 21.0}, [("egress_push", 1), ("egress_push", 6)]),
    ("unlock during the delay frees the door", True, [(0, "push_start"), (1, "push_end"), (5, "unlock"),
                                                     (100, "advance")],
     {"egress": "idle", "locked": False}, [("egress_push", 1)]),
    ("a push on an unlocked door starts nothing", False, [(0, "push_start"), (100, "advance")],
     {"egress": "idle", "pushing": True}, []),
    ("locking while the bar is pushed counts the push from the lock", False,
     [(0, "push_start"), (5, "lock"), (5.9, "advance"), (6, "advance")], {"egress": "pending"},
     [("egress_push", 6)]),
    ("timers fire in time order within one advance", False,
     [(0, "door_open"), (0, "lock"), (0, "push_start"), (100, "advance")],
     {"egress": "released", "held_open": True},
     [("egress_push", 1), ("egress_released", 16), ("held_open", 30)]),
]


@pytest.mark.parametrize(("case", "locked", "steps", "expected", "events"), CASES, ids=[c[0] for c in CASES])
def test_it_moves_as_the_table_says(case: str, locked: bool, steps: Steps, expected: dict[str, Any],
                                    events: list[tuple[str, float]]) -> None:
    door = machine(locked=locked)
    _, reported = run(door, steps)
    state = asdict(door.state)
    assert {key: state[key] for key in expected} == expected
    assert reported == events


NOOPS: list[tuple[str, str, bool, Steps, str]] = [
    # (case, kind, starts locked, inputs (the last is the no-op), note)
    ("lock when locked", "maglock", True, [(0, "lock")], "already locked"),
    ("unlock when unlocked", "access", False, [(0, "unlock")], "already unlocked"),
    ("reset with nothing to reset", "maglock", True, [(0, "reset")], "no egress cycle or forced alarm"),
    ("lock after the release", "maglock", True, [(0, "push_start"), (16, "advance"), (17, "lock")],
     "stays released until reset"),
    ("a bouncing contact opens twice", "maglock", False, [(0, "door_open"), (0.1, "door_open")], "already open"),
    ("close when closed", "maglock", False, [(0, "door_close")], "already closed"),
    ("push twice", "maglock", True, [(0, "push_start"), (0.2, "push_start")], "bar already pushed"),
    ("let go unpushed", "maglock", True, [(0, "push_end")], "bar not pushed"),
    ("hold when held", "elevator", False, [(0, "hold"), (1, "hold")], "already held"),
    ("release when not held", "elevator", False, [(0, "release")], "not held"),
]


@pytest.mark.parametrize(("case", "kind", "locked", "steps", "note"), NOOPS, ids=[c[0] for c in NOOPS])
def test_it_records_inputs_that_change_nothing(case: str, kind: str, locked: bool, steps: Steps, note: str) -> None:
    door = machine(kind=kind, locked=locked)
    run(door, steps[:-1])
    before = door.state
    last = run(door, steps[-1:])[0][0]
    assert not last.changed
    assert note in last.note
    assert door.state == before
    assert door.history[-1] is last
    assert len(door.history) == len([s for s in steps if s[1] != "advance"])


def test_a_noop_still_reports_the_timers_that_fell_due_before_it() -> None:
    door = machine(locked=True)
    door.push_start(0)
    step = door.lock(20)  # no-op (released), but the release happened at 16 and must be reported
    assert not step.changed
    assert step.events == (("egress_push", 1), ("egress_released", 16))


REFUSED: list[tuple[str, str, str, str]] = [
    ("elevators are not locked", "elevator", "lock", "takes only hold / release"),
    ("elevators have no door contact", "elevator", "door_open", "takes only hold / release"),
    ("elevators have no push bar", "elevator", "push_start", "takes only hold / release"),
    ("a maglock holds no elevator", "maglock", "hold", "a maglock controller takes only lock / unlock / reset"),
    ("an access door holds no elevator", "access", "release", "an access controller takes only"),
]


@pytest.mark.parametrize(("case", "kind", "action", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_it_refuses_what_the_kind_cannot_do_and_records_it(case: str, kind: str, action: str, message: str) -> None:
    door = machine(kind=kind)
    with pytest.raises(DoorRefused, match=message):
        getattr(door, action)(1.0)
    assert door.state == Snapshot()
    assert door.history[-1].note.startswith("refused:")


def test_elevator_hold_and_release() -> None:
    door = machine(kind="elevator")
    assert door.command("hold", 0).changed and door.state.held
    assert door.command("release", 1).changed and not door.state.held


def test_it_refuses_unknown_commands_and_time_going_back() -> None:
    door = machine()
    door.lock(10)
    with pytest.raises(DoorRefused, match="unknown command 'open_sesame'"):
        door.command("open_sesame", 11)
    with pytest.raises(DoorRefused, match="time went back"):
        door.unlock(9)
    with pytest.raises(DoorRefused, match="not a finite number"):
        door.unlock(float("nan"))
    assert door.state.locked


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"egress_push_s": 3.5}, "egress_push_s 3.5"),
    ({"egress_push_s": -1.0}, "egress_push_s -1.0"),
    ({"egress_delay_s": 0.0}, "egress_delay_s 0.0"),
    ({"egress_delay_s": 31.0}, "egress_delay_s 31.0"),
    ({"held_open_s": 0.0}, "held_open_s 0.0"),
])
def test_it_refuses_settings_against_the_fire_code(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EgressSettings(**kwargs)


def test_it_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="controller kind 'turnstile'"):
        DoorMachine("turnstile")


def test_next_due_and_the_sounder_follow_the_cycle() -> None:
    door = machine(locked=True, settings=EgressSettings(egress_delay_s=0.3, egress_push_s=0.0, held_open_s=5.0))
    assert door.next_due_s() is None and not door.state.sounder
    step = door.push_start(2.0)  # no push time needed: the delay starts at once
    assert step.events == (("egress_push", 2.0),)
    assert door.next_due_s() == pytest.approx(2.3) and door.state.sounder
    assert door.push_end(2.1).events == ()
    assert door.advance(2.3).events == (("egress_released", 2.3),)
    assert door.next_due_s() is None and door.state.sounder and not door.state.secure
    door.reset(3.0)
    assert door.state.secure and not door.state.sounder
