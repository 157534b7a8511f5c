"""Positions: every window's fixes of armed infants -> exit approach / at / through, the lift lobby, off the
ward, and Code Pink's follow-up (see security.rules)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from alerts.models import Alert
from alerts.services import alert_move
from security.codepink import code_pink_note, code_pink_start
from security.doors.services import elevator_controllers
from security.geometry import ExitDoor, ExitLevel, FloorGeometry
from security.models import CodePink
from security.rules.matching import together_check
from security.rules.state import (
    CRITICAL,
    ELEVATOR_HOLD,
    EXIT_ALARM,
    EXIT_APPROACH,
    HIGH,
    OUTSIDE_WARD,
    STATE,
    SUPERVISION_LOST,
    TAMPER,
    WARNING,
    Fix,
    InfantWatch,
    command_door,
    infant_clear,
    infant_raise,
    key,
    supervision_s,
)
from security.selectors import armed_infants, armed_mothers
from security.services import CODE_PINK, ESCORT_SUSPENDS
from tracking.pipeline.events import FixesLocated

if TYPE_CHECKING:
    from security.selectors import ArmedInfant

logger = logging.getLogger(__name__)

FOLLOWED = (EXIT_ALARM, ELEVATOR_HOLD, OUTSIDE_WARD, TAMPER)  # open location alerts that move with the infant
CLEAR_MARGIN_M = 0.5  # an approach clears this far beyond approach_m (no flapping on the line)
SEEN_EVERY_S, PLACE_EVERY_S = 5.0, 5.0


def on_fixes_located(event: FixesLocated) -> None:
    """One floor's window of fixes: only the rows of armed infants and mothers are looked at."""
    infants = armed_infants()
    if not infants:
        return
    mothers = armed_mothers()
    state = STATE
    rows = np.flatnonzero(np.isin(event.tag_pk, state.pks(infants, mothers)))
    if len(rows) == 0:
        return  # the common case: nobody we watch moved
    with state.lock:
        moved: list[tuple[ArmedInfant, Fix, float]] = []  # (infant, fix, seconds since last heard)
        for i in rows:
            tag_pk, zone = int(event.tag_pk[i]), int(event.zone_pk[i])
            fix = Fix(event.floor_id, float(event.x_m[i]), float(event.y_m[i]), zone if zone >= 0 else None,
                      float(event.seen_at_s[i]))
            gap_s = fix.at_s - state.heard_s.get(tag_pk, float("-inf"))
            state.last[tag_pk] = fix
            state.heard_s[tag_pk] = max(fix.at_s, state.heard_s.get(tag_pk, fix.at_s))
            if tag_pk in infants:
                moved.append((infants[tag_pk], fix, gap_s))
        if moved:
            _infants_moved(event.floor_id, moved)
        together_check(infants, mothers, now_s=float(event.seen_at_s[rows].max()))


def _infants_moved(floor_id: int, moved: list[tuple[ArmedInfant, Fix, float]]) -> None:
    geometry = STATE.geometry(floor_id)
    found = geometry.exits.classify([f.x_m for _, f, _ in moved], [f.y_m for _, f, _ in moved])
    for j, (infant, fix, gap_s) in enumerate(moved):
        door = geometry.exits.doors[found.door[j]] if found.door[j] >= 0 else None
        try:  # one infant's failure must not keep another's door from locking
            _infant_moved(infant, fix, gap_s, int(found.level[j]), door, float(found.distance_m[j]), geometry)
        except Exception:
            logger.exception("security: rules failed for infant %s at %s", infant.infant_id, fix.place())


def _infant_moved(infant: ArmedInfant, fix: Fix, gap_s: float, level: int, door: ExitDoor | None,
                  distance_m: float, geometry: FloorGeometry) -> None:
    watch = STATE.watch(infant.infant_id)
    if level == ExitLevel.NONE and watch.level == ExitLevel.APPROACH and distance_m <= (
            geometry.exits.approach_m + CLEAR_MARGIN_M):
        level = ExitLevel.APPROACH  # not yet far enough to call it over
    if infant.escorted_until is not None and infant.escorted_until > fix.at:
        _escorted(infant, watch, level, door, fix)
    else:
        _exit_rule(infant, watch, level, door, fix, geometry)
        in_ward = infant.floor_id == fix.floor_id and bool(geometry.in_ward(infant.ward_id, [fix.x_m], [fix.y_m])[0])
        _ward_rule(infant, watch, in_ward, fix)
    _follow(infant, watch, fix, geometry)
    lost = STATE.lost is not None and infant.infant_id in STATE.lost
    if lost or gap_s > supervision_s():  # heard again (the alert may be another process's: clear by key)
        infant_clear(SUPERVISION_LOST, infant, at=fix.at, note="heard again")
        if STATE.lost is not None:
            STATE.lost.discard(infant.infant_id)


def _exit_rule(infant: ArmedInfant, watch: InfantWatch, level: int, door: ExitDoor | None, fix: Fix,
               geometry: FloorGeometry) -> None:
    at, place = fix.at, fix.place()
    if level >= ExitLevel.AT_EXIT and door is not None:
        if door.code != watch.door or level > watch.level:
            _at_exit(infant, watch, level, door, fix, geometry)
    elif watch.level >= ExitLevel.AT_EXIT:
        for kind in (EXIT_ALARM, ELEVATOR_HOLD):
            if kind in watch.raised:
                infant_clear(kind, infant, at=at, note=f"{infant.name} is back from the exit (doors stay as they are)")
        watch.locked, watch.held, watch.breached, watch.door = set(), False, False, ""
    if level >= ExitLevel.APPROACH and EXIT_APPROACH not in watch.raised and door is not None:
        infant_raise(EXIT_APPROACH, WARNING, infant, title=f"{infant.name} near exit {door.name or door.code}",
                     message="An infant's band is close to an exit of the unit.", at=at, place=place, door=door.code)
    elif level == ExitLevel.NONE and EXIT_APPROACH in watch.raised:
        infant_clear(EXIT_APPROACH, infant, at=at, note=f"{infant.name} moved away from the exit")
    watch.level = level


def _at_exit(infant: ArmedInfant, watch: InfantWatch, level: int, door: ExitDoor, fix: Fix,
             geometry: FloorGeometry) -> None:
    """Lock first (the command is what must be fast), then say it."""
    at, through = fix.at, level == ExitLevel.THROUGH
    reason = f"infant {infant.name} {'through' if through else 'at'} exit {door.code}"
    errors = {}
    if door.controller and door.controller not in watch.locked:
        errors[door.controller] = command_door(door.controller, "lock", reason=reason, at=at)
        watch.locked.add(door.controller)
    if door.to_elevator_lobby and not watch.held:
        watch.held = True
        _hold_elevators(infant, geometry, fix, reason)
    if through and not watch.breached:
        watch.breached = True
        _code_pink(infant, door, fix, geometry)
    what = "through" if through else "at"
    locked = "door locked" if door.controller and not errors.get(door.controller) else "door NOT locked"
    message = ("An infant's band went through an exit: Code Pink started." if through else
               "An infant's band is at an exit of the unit. Go to the door now.")
    infant_raise(EXIT_ALARM, CRITICAL, infant, title=f"{infant.name} {what} exit {door.name or door.code}: {locked}",
                 message=message, at=at, place=fix.place(), door=door.code, controller=door.controller,
                 level=ExitLevel(level).name.lower(), command_errors={k: v for k, v in errors.items() if v})
    watch.door = door.code


def _code_pink(infant: ArmedInfant, door: ExitDoor, fix: Fix, geometry: FloorGeometry) -> None:
    try:
        pink = code_pink_start(trigger=CodePink.Trigger.EXIT_BREACH, building_id=geometry.building_id,
                               floor_id=geometry.floor_id, infant_id=infant.infant_id, at=fix.at,
                               note=f"{infant.name} went through {door.name or door.code}")
    except Exception:  # the exit alarm must still be raised
        logger.exception("security: could not start Code Pink for infant %s", infant.infant_id)
        return
    STATE.code_pinks.append((pink.pk, geometry.building_id, geometry.floor_id, infant.infant_id))


def _hold_elevators(infant: ArmedInfant, geometry: FloorGeometry, fix: Fix, reason: str) -> None:
    controllers = elevator_controllers(floor_id=geometry.floor_id, building_id=geometry.building_id)
    if not controllers:
        logger.warning("security: %s at a lift lobby door of floor %s, which has no elevator controller",
                       infant.name, geometry.floor_id)
        return
    errors = {c.code: command_door(c.code, "hold", reason=reason, at=fix.at) for c in controllers}
    infant_raise(ELEVATOR_HOLD, HIGH, infant, title=f"Elevators held: {infant.name} at the lift lobby",
                 message="An infant's band reached the lift lobby door: the floor's elevators are held here.",
                 at=fix.at, place=fix.place(), controllers=sorted(errors),
                 command_errors={k: v for k, v in errors.items() if v})


def _escorted(infant: ArmedInfant, watch: InfantWatch, level: int, door: ExitDoor | None, fix: Fix) -> None:
    """No exit alarms for an escorted infant (escort_start cleared the open ones): the passage is logged once
    per door. The exit episode starts afresh when the escort ends."""
    if level >= ExitLevel.AT_EXIT and door is not None and door.code != watch.escorted_door:
        logger.info("security: escorted infant %s (%s) %s exit %s at %s; no alarm (escort until %s)",
                    infant.infant_id, infant.name, ExitLevel(level).name.lower(), door.code, fix.at.isoformat(),
                    infant.escorted_until)
        watch.escorted_door = door.code
    watch.raised -= set(ESCORT_SUSPENDS)
    watch.level, watch.door, watch.locked, watch.held, watch.breached = ExitLevel.NONE, "", set(), False, False


def _ward_rule(infant: ArmedInfant, watch: InfantWatch, in_ward: bool, fix: Fix) -> None:
    if not in_ward and OUTSIDE_WARD not in watch.raised:
        where = "on another floor" if fix.floor_id != infant.floor_id else "outside the ward"
        infant_raise(OUTSIDE_WARD, HIGH, infant, title=f"{infant.name} {where}", at=fix.at, place=fix.place(),
                     message="An infant's band is outside its ward with no escort.")
    elif in_ward and OUTSIDE_WARD in watch.raised:
        infant_clear(OUTSIDE_WARD, infant, at=fix.at, note=f"{infant.name} is back on the ward")


def _follow(infant: ArmedInfant, watch: InfantWatch, fix: Fix, geometry: FloorGeometry) -> None:
    """During a Code Pink: the timeline's "seen" lines. The infant's open location alerts (and the Code Pink's
    alert, if it names the infant) move with it, every PLACE_EVERY_S: a move, not a new occurrence."""
    pink = STATE.code_pink_for(infant, fix.floor_id, geometry.building_id)
    if pink is not None and fix.at_s - watch.seen_note_s >= SEEN_EVERY_S:
        watch.seen_note_s = fix.at_s
        code_pink_note(code_pink_id=pink[0], action="seen", at=fix.at,
                       note=f"{infant.name} seen at ({fix.x_m:.1f}, {fix.y_m:.1f}) m",
                       data={"infant_id": infant.infant_id, "tag_id": infant.tag_id, **fix.place()})
    if fix.at_s - watch.place_s < PLACE_EVERY_S:
        return
    watch.place_s = fix.at_s
    seen = {**fix.place(), "seen_at": fix.at.isoformat()}
    data_by_key = {key(kind, infant.infant_id): seen for kind in watch.raised.intersection(FOLLOWED)}
    if pink is not None and pink[1]:
        data_by_key[f"{CODE_PINK}:{pink[0]}"] = {"infant_seen": seen}
    if not data_by_key:
        return
    # only open alerts move (one dealt with stays where it was closed); locked in pk order
    open_alerts = Alert.objects.filter(key__in=data_by_key, state__in=Alert.OPEN_STATES).order_by("pk")
    for alert_key, alert_id in open_alerts.values_list("key", "pk"):
        alert_move(alert_id=alert_id, place=fix.place(), data=data_by_key[alert_key], at=fix.at)
