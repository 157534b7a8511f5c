"""The infant-protection rules: the pipeline's fixes and tag statuses -> alarms, door commands, Code Pink.

Positions (FixesLocated, every floor every window). The rows of armed infants and mothers are picked out
with one np.isin against the armed directory (security.selectors, cached): for every other row - nearly all
of them - a window costs that and nothing else, no query. For the infants' rows (security.geometry):
  - within APPROACH of an exit, on the protected side -> security.exit_approach (WARNING); cleared when the
    infant is farther than approach + CLEAR_MARGIN_M from every exit;
  - AT the exit -> a lock command to the door's controller first (door_command, MQTT at once), then
    security.exit_alarm (CRITICAL); a door to the lift lobby also holds the floor's elevators
    (security.elevator_hold, HIGH); the alarms' conditions clear when the infant is back from the door (the
    door stays locked until security unlocks it);
  - THROUGH the exit -> the same, and Code Pink (trigger exit_breach) for the floor;
  - outside its ward polygon, or on another floor -> security.outside_ward (HIGH), cleared back on the ward.
  An escort running for the infant suspends exactly these (security.services.ESCORT_SUSPENDS): no alarm, no
  lock, no Code Pink; the passage is logged.
  While a Code Pink covers the infant's floor (or names the infant), its timeline gets a "seen" line every
  SEEN_EVERY_S, and the infant's open location alerts move with it (every PLACE_EVERY_S).
  A mother and an infant within TOGETHER_M for TOGETHER_S without a break -> match_record(how="together"),
  once per pair per TOGETHER_AGAIN_S (a wrong pair raises security.mismatch in match_record).

Statuses (TagStatusChanged, on a change only): security.TagState and Tag.battery_pct are kept; for an armed
infant, a cut strap -> security.tamper (CRITICAL, wherever it is, escort or not), a loose strap ->
security.strap_loose (WARNING, nurses), a low battery -> security.low_battery (INFO, nurses; a mother's tag
too), each cleared when the tag says so; a mother's button -> match_record(how="button") with the nearest
armed infant within BUTTON_M.

Supervision (periodic job "security.supervision" every 2 s, in run_alerts): an armed infant whose tag was
last heard more than SECURITY_SUPERVISION_S ago (from this process's memory or CurrentLocation.seen_at, so
another process or a fresh one is right) -> security.supervision_lost (HIGH) with the last place and the
trail before it; cleared on the next read (at once by the pipeline, or by the next run).

Handlers run in the pipeline's committer thread, the job in the periodic runner's: one lock guards the memory
(RuleState). Thresholds are settings: SECURITY_SUPERVISION_S (env HOSPITAL_IOT_SUPERVISION_S),
SECURITY_EXIT_APPROACH_M, SECURITY_EXIT_AT_M.

Modules: state (memory, thresholds, shared writes), exits (positions), matching (mother and infant),
status (tag status), supervision (the periodic job). The pure geometry is security.geometry.
"""

from __future__ import annotations

from security.rules.exits import on_fixes_located
from security.rules.state import (
    ELEVATOR_HOLD,
    EXIT_ALARM,
    EXIT_APPROACH,
    LOW_BATTERY,
    OUTSIDE_WARD,
    STATE,
    STRAP_LOOSE,
    SUPERVISION_LOST,
    TAMPER,
    floor_geometry_load,
    reset,
    supervision_s,
)
from security.rules.status import on_status_changed, strap_of, tag_state_save
from security.rules.supervision import SUPERVISION_EVERY_S, SUPERVISION_JOB, security_supervision
from tracking.pipeline.events import FixesLocated, TagStatusChanged, subscribe

__all__ = [
    "ELEVATOR_HOLD", "EXIT_ALARM", "EXIT_APPROACH", "LOW_BATTERY", "OUTSIDE_WARD", "STATE", "STRAP_LOOSE",
    "SUPERVISION_LOST", "TAMPER", "floor_geometry_load", "on_fixes_located", "on_status_changed", "reset",
    "security_supervision", "strap_of", "subscribe_all", "supervision_s", "tag_state_save",
]


def subscribe_all() -> None:
    """Wire the rules to the pipeline's events and the alerts' periodic runner (SecurityConfig.ready)."""
    from alerts import periodic  # at ready() time: alerts registers its own jobs in its ready()

    subscribe(FixesLocated, on_fixes_located)
    subscribe(TagStatusChanged, on_status_changed)
    periodic.register(SUPERVISION_JOB, SUPERVISION_EVERY_S, security_supervision)
