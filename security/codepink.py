"""Code Pink: an infant-abduction lockdown (or a drill of one) with its timeline.

code_pink_start locks every exit controller of its scope (a floor, or the whole building) and holds the
elevators there (security.doors.services.door_command, published at once), raises the CRITICAL alert
security.code_pink (audience security; its escalation policy tells every audience within seconds) and
writes each step into the incident's timeline (CodePinkEvent). A second trigger while a Code Pink of the
same scope is active adds a line to it instead of a new incident. code_pink_resolve unlocks and releases
what the incident locked (unless another active incident still needs it) and resolves the alert.

A drill runs the same flow, marked as one everywhere: the alert title ("DRILL — Code Pink ..."), the alert
data and every timeline line ({"drill": true}), the door commands' reason. A drill never swallows a real
trigger: a real Code Pink during a drill is a new incident, and no drill starts during a real one.

Automatic starts: the rules call code_pink_start(trigger="exit_breach") when an infant goes through an exit;
code_pink_connect() subscribes a forced exit door on a floor with armed infants (trigger "door_forced") and
copies the alert's acknowledgements and escalations into the timeline.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from alerts.audiences import SECURITY
from alerts.models import Alert, AlertEvent
from alerts.services import alert_raise, alert_resolve
from floorplans.models import Building, Door, Floor
from security.doors.services import (
    door_command,
    door_forced_listeners,
    elevator_controllers,
    exit_controllers,
)
from security.exceptions import SecurityRefused
from security.models import CodePink, CodePinkEvent, DoorCommand, DoorController, Infant
from security.selectors import infants_armed_on_floor
from security.services import CODE_PINK, require
from tracking.models import CurrentLocation

if TYPE_CHECKING:
    from collections.abc import Iterable

logger = logging.getLogger(__name__)

Trigger = CodePink.Trigger
# what resolving undoes for each command the incident sent
UNDO: dict[str, str] = {DoorCommand.Command.LOCK: DoorCommand.Command.UNLOCK,
                        DoorCommand.Command.HOLD: DoorCommand.Command.RELEASE}
# alert timeline actions copied into the incident's timeline
ALERT_STEPS = (AlertEvent.Action.ACKNOWLEDGED, AlertEvent.Action.ESCALATED, AlertEvent.Action.RESOLVED,
               AlertEvent.Action.CANCELLED)


@transaction.atomic
def code_pink_start(
    *, trigger: str, building_id: int, floor_id: int | None = None, infant_id: int | None = None,
    drill: bool = False, user: User | None = None, note: str = "", at: datetime | None = None,
) -> CodePink:
    """Start a Code Pink on a floor (or the whole building when floor_id is None), or add this trigger to the
    active one covering that floor."""
    require(user, "security.start_codepink", "start a Code Pink")
    at = at or timezone.now()
    if trigger not in Trigger.values:
        raise ValueError(f"trigger {trigger!r} is not one of {Trigger.values}")
    building = Building.objects.select_for_update().filter(pk=building_id).first()  # one start at a time
    if building is None:
        raise SecurityRefused(f"There is no building with id {building_id}.")
    floor = Floor.objects.filter(pk=floor_id, building=building).first() if floor_id is not None else None
    if floor_id is not None and floor is None:
        raise SecurityRefused(f"Floor {floor_id} is not in {building.name}.")
    infant = None
    if infant_id is not None:
        infant = Infant.objects.select_related("tracked_object").filter(pk=infant_id).first()
        if infant is None:
            raise SecurityRefused(f"There is no enrolled infant with id {infant_id}.")
    active = _active_covering(building, floor)
    real = next((cp for cp in active if not cp.drill), None)
    if drill and real is not None:
        raise SecurityRefused(f"A real Code Pink is active ({_scope(real)}): no drill now.")
    same = real if not drill else next((cp for cp in active if cp.drill), None)
    if same is not None:
        _event(same, "triggered_again", at, user=user, note=note,
               data={"trigger": trigger, "infant_id": infant_id, "floor_id": floor_id})
        return same
    code_pink = CodePink.objects.create(building=building, floor=floor, infant=infant, trigger=trigger, drill=drill,
                                        started_at=at, started_by=user)
    _event(code_pink, "started", at, user=user, note=note,
           data={"trigger": trigger, "infant_id": infant_id, "floor_id": floor_id, "building_id": building_id})
    commanded = _lock_down(code_pink, user=user, at=at)
    code_pink.alert = _alert_raise(code_pink, commanded, note=note, at=at)
    code_pink.save(update_fields=["alert"])
    _event(code_pink, "alert_raised", at, data={"alert_id": code_pink.alert.pk, "severity": code_pink.alert.severity})
    logger.warning("%s started (%s, trigger %s) by %s", code_pink, _scope(code_pink), trigger,
                   user.username if user is not None else "the system")
    return code_pink


def _active_covering(building: Building, floor: Floor | None) -> list[CodePink]:
    """Active incidents of this building whose scope covers the requested one (the same floor, or all)."""
    active = CodePink.objects.filter(building=building, state=CodePink.State.ACTIVE).order_by("started_at")
    return [cp for cp in active if cp.floor_id is None or (floor is not None and cp.floor_id == floor.pk)]


def _lock_down(code_pink: CodePink, *, user: User | None, at: datetime) -> list[str]:
    """Lock every exit and hold every elevator bank of the scope; returns the controller codes commanded."""
    floor_id, building_id = code_pink.floor_id, code_pink.building_id
    steps = [(c, DoorCommand.Command.LOCK) for c in exit_controllers(floor_id=floor_id, building_id=building_id)]
    steps += [(c, DoorCommand.Command.HOLD) for c in elevator_controllers(floor_id=floor_id, building_id=building_id)]
    if not steps:
        _event(code_pink, "no_doors", at, note="no lockable exit or elevator controller in this scope")
    return [controller.code for controller, command in steps
            if _command(code_pink, controller, command, user=user, at=at)]


def _command(code_pink: CodePink, controller: DoorController, command: str, *, user: User | None,
             at: datetime) -> bool:
    """Send one door command for the incident and put it on the timeline; a failure is a timeline line too."""
    reason = f"Code Pink{' drill' if code_pink.drill else ''} #{code_pink.pk}"
    action = f"door_{command}"
    try:
        with transaction.atomic():  # a failed command must not undo the incident
            sent = door_command(controller=controller, command=command, reason=reason, user=user,
                                code_pink=code_pink, at=at)
    except Exception as error:  # a door we cannot command must not stop the others or the alarm
        logger.exception("%s: %s %s failed", code_pink, command, controller.code)
        _event(code_pink, f"{action}_failed", at, user=user, note=f"{controller.name}: {error}",
               data={"controller": controller.code, "command": command})
        return False
    _event(code_pink, action, at, user=user, note=f"{controller.name}: {command}",
           data={"controller": controller.code, "command": command, "command_id": str(sent.command_id)})
    return True


def _alert_raise(code_pink: CodePink, commanded: list[str], *, note: str, at: datetime) -> Alert:
    infant = code_pink.infant
    title = f"Code Pink — {_scope(code_pink)}" + (f": {infant}" if infant is not None else "")
    if code_pink.drill:
        title = f"DRILL — {title}"
    message = ("A drill: exits locked and elevators held as in a real Code Pink. " if code_pink.drill else
               "Possible infant abduction: exits locked and elevators held. Watch every exit and stairwell. ")
    return alert_raise(
        kind=CODE_PINK, severity=Alert.Severity.CRITICAL, key=f"{CODE_PINK}:{code_pink.pk}", audience=SECURITY,
        title=title, message=message + note, subject_type=Alert.Subject.INFANT,
        subject_id=str(infant.pk) if infant is not None else "",
        subject_label=str(infant) if infant is not None else _scope(code_pink),
        ward_id=infant.ward_id if infant is not None else None,
        data={"code_pink_id": code_pink.pk, "drill": code_pink.drill, "trigger": code_pink.trigger,
              "infant_id": infant.pk if infant is not None else None, "building_id": code_pink.building_id,
              "floor_id": code_pink.floor_id, "controllers": commanded},
        at=at, **_place(code_pink),
    )


def _place(code_pink: CodePink) -> dict[str, Any]:
    """Where the alert is shown: the infant's last position, else the floor of the incident."""
    infant = code_pink.infant
    tag_pk = infant.tracked_object.tag_id if infant is not None else None
    row = CurrentLocation.objects.filter(tag_id=tag_pk).values("floor_id", "zone_id", "position").first() \
        if tag_pk is not None else None
    if row is not None:
        return {"floor_id": row["floor_id"], "zone_id": row["zone_id"], "x_m": row["position"].x,
                "y_m": row["position"].y}
    return {"floor_id": code_pink.floor_id}


@transaction.atomic
def code_pink_resolve(*, code_pink_id: int, user: User, resolution: str, at: datetime | None = None) -> CodePink:
    """End the incident: unlock and release what it locked and held, resolve its alert."""
    require(user, "security.change_codepink", "resolve a Code Pink")
    at = at or timezone.now()
    if not resolution.strip():
        raise SecurityRefused("Say how the Code Pink ended (for example: infant found with her mother).")
    code_pink = CodePink.objects.select_for_update().filter(pk=code_pink_id).first()
    if code_pink is None:
        raise SecurityRefused(f"There is no Code Pink with id {code_pink_id}.")
    if code_pink.state != CodePink.State.ACTIVE:
        raise SecurityRefused(f"This Code Pink was already resolved at "
                              f"{timezone.localtime(code_pink.resolved_at or at):%H:%M}.")
    code_pink.state, code_pink.resolved_at, code_pink.resolved_by = CodePink.State.RESOLVED, at, user
    code_pink.resolution = resolution.strip()
    code_pink.save(update_fields=["state", "resolved_at", "resolved_by", "resolution"])
    still_needed = _controllers_of(CodePink.objects.filter(state=CodePink.State.ACTIVE))
    for controller, command in _undo_plan(code_pink):
        if controller.pk in still_needed:
            _event(code_pink, "door_kept", at, user=user, note=f"{controller.name}: another Code Pink is active",
                   data={"controller": controller.code})
            continue
        _command(code_pink, controller, command, user=user, at=at)
    alert = code_pink.alert
    if alert is not None and alert.is_open:
        alert_resolve(alert_id=alert.pk, user=user, note=code_pink.resolution, at=at)
    _event(code_pink, "resolved", at, user=user, note=code_pink.resolution)
    return code_pink


def _undo_plan(code_pink: CodePink) -> list[tuple[DoorController, str]]:
    """(controller, undo command) for each controller the incident locked or held, once each."""
    plan: dict[int, tuple[DoorController, str]] = {}
    for sent in code_pink.commands.filter(command__in=list(UNDO)).select_related("controller").order_by("sent_at"):
        plan.setdefault(sent.controller_id, (sent.controller, UNDO[sent.command]))
    return list(plan.values())


def _controllers_of(code_pinks: Iterable[CodePink]) -> set[int]:
    return set(DoorCommand.objects.filter(code_pink__in=list(code_pinks), command__in=list(UNDO))
               .values_list("controller_id", flat=True))


def code_pink_note(
    *, code_pink_id: int, action: str, user: User | None = None, note: str = "", data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CodePinkEvent:
    """Add a line to an incident's timeline (an infant sighting, a search update, a handover)."""
    if not action.strip() or len(action) > 32:
        raise ValueError(f"action {action!r}: 1 to 32 characters")
    code_pink = CodePink.objects.filter(pk=code_pink_id).first()
    if code_pink is None:
        raise SecurityRefused(f"There is no Code Pink with id {code_pink_id}.")
    return _event(code_pink, action.strip(), at or timezone.now(), user=user, note=note, data=data)


def _event(code_pink: CodePink, action: str, at: datetime, *, user: User | None = None, note: str = "",
           data: dict[str, Any] | None = None) -> CodePinkEvent:
    return CodePinkEvent.objects.create(code_pink=code_pink, at=at, action=action[:32], user=user, note=note,
                                        data={**(data or {}), "drill": code_pink.drill})


def _scope(code_pink: CodePink) -> str:
    if code_pink.floor is not None:
        return code_pink.floor.name
    return f"all of {code_pink.building.name}"


# --- automatic triggers -----------------------------------------------------------------------------------


def code_pink_door_forced(controller: DoorController, at: datetime) -> None:
    """A door_forced listener: a forced exit door on a floor with armed infants starts a Code Pink there."""
    if controller.floor_id is None or not infants_armed_on_floor(floor_id=controller.floor_id):
        return
    if not Door.objects.filter(floor_id=controller.floor_id, lock_controller=controller.code, is_exit=True).exists():
        return  # not an exit (a nursery or medication-room door): a door alarm, not a lockdown
    floor = Floor.objects.get(pk=controller.floor_id)
    try:
        code_pink_start(trigger=Trigger.DOOR_FORCED, building_id=floor.building_id, floor_id=floor.pk,
                        note=f"{controller.name} forced open", at=at)
    except Exception:  # the door worker calls us: log and let it go on with its other controllers
        logger.exception("could not start a Code Pink for the forced door %s", controller.code)


def code_pink_alert_followed(event: AlertEvent) -> CodePinkEvent | None:
    """Copy an acknowledgement, escalation or resolution of a Code Pink's alert into its timeline."""
    if event.action not in ALERT_STEPS or event.alert.kind != CODE_PINK:
        return None
    code_pink = CodePink.objects.filter(alert_id=event.alert_id).first()
    if code_pink is None:
        return None
    note = event.note or (f"told {event.audience}" if event.audience else "")
    return _event(code_pink, f"alert_{event.action}", event.at, user=event.user, note=note,
                  data={"alert_id": event.alert_id, "audience": event.audience})


def _alert_event_saved(sender: type, instance: AlertEvent, created: bool, **kwargs: Any) -> None:
    if created and instance.action in ALERT_STEPS:
        code_pink_alert_followed(instance)


def code_pink_connect() -> None:
    """At start-up: follow forced doors and the Code Pink alerts' lifecycle (idempotent)."""
    if code_pink_door_forced not in door_forced_listeners:
        door_forced_listeners.append(code_pink_door_forced)
    post_save.connect(_alert_event_saved, sender=AlertEvent, dispatch_uid="security.codepink.alert_event")
