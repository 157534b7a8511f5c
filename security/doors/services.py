"""Writes about door controllers: commands out (door_command), state and events in (door_state_apply,
door_event_apply, from `manage.py run_doors`), the offline check, the door alerts and the floor maps.

Commands are sent at once, not on commit: a lock must neither wait for the caller's transaction nor be
undone by its rollback. The DoorCommand row is the audit trail; `acked_at` is set when a state message
carries its id (the listener asks again for a while if the row was not committed yet when it came).

Conditions follow the controller's reported flags (the retained state is the truth; an event only says
it sooner): forced false -> true raises `security.door_forced` (HIGH) and calls door_forced_listeners,
true -> false marks it cleared (someone still has to resolve it); egress becoming "released" raises
`security.door_egress_released` (HIGH: a protected exit unlocked by a sustained push), marked cleared
when staff reset (or unlock) the door and resolved by a person; held_open raises
`security.door_held_open` (WARNING), resolved when the door closes; silence for 3 heartbeats raises
`security.door_offline` (WARNING), resolved by the next state. All are for the "security" audience,
subject "door" <controller code>, key `security.<kind>:<controller code>`. Any change is broadcast to the
floors' maps as {"type": "doors", "floor_id", "doors": [rows]} (selectors.door_rows).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.audiences import SECURITY
from alerts.models import Alert
from alerts.services import alert_condition_clear, alert_raise
from security.doors.egress import (
    CLOSED,
    DOOR_COMMANDS,
    EGRESS_PUSH,
    EGRESS_RELEASED,
    ELEVATOR_COMMANDS,
    FORCED,
    HELD_OPEN,
)
from security.doors.port import door_port
from security.doors.protocol import HEARTBEAT_S, Command, DoorEvent, DoorState
from security.doors.selectors import (
    controller_floor_ids,
    controller_get,
    controller_place,
    controller_topic,
    door_rows,
    elevator_controllers,
    exit_controllers,
)
from security.exceptions import SecurityRefused
from security.models import CodePink, DoorCommand, DoorController
from tracking.pipeline.frames import floor_group

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "DOOR_EGRESS_RELEASED", "DOOR_FORCED", "DOOR_HELD_OPEN", "DOOR_OFFLINE", "DoorCommandRefused", "UnknownController",
    "door_command", "door_command_ack", "door_event_apply", "door_forced_listeners", "door_state_apply",
    "doors_offline_check", "doors_register_periodic", "elevator_controllers", "exit_controllers",
]

logger = logging.getLogger(__name__)

DOOR_FORCED, DOOR_HELD_OPEN, DOOR_OFFLINE = "security.door_forced", "security.door_held_open", "security.door_offline"
DOOR_EGRESS_RELEASED = "security.door_egress_released"
DOORS_MESSAGE_EVENT = "floor.frame"  # the floor consumer relays the text of these unchanged
OFFLINE_CHECK_EVERY_S = 5.0

door_forced_listeners: list[Callable[[DoorController, datetime], None]] = []


class DoorCommandRefused(SecurityRefused):
    """A command this controller cannot take, or no such controller; the message says which. One of the
    SecurityRefused family; the API answers it with a 400 on "command" (security.apis.refusals)."""


class UnknownController(LookupError):
    """A message from a controller code that has no DoorController row."""


def heartbeat_s() -> float:
    return float(getattr(settings, "SECURITY_DOOR_HEARTBEAT_S", HEARTBEAT_S))


def offline_after_s() -> float:
    """A controller silent for this long is offline (three missed heartbeats)."""
    return 3.0 * heartbeat_s()


def door_key(kind: str, code: str) -> str:
    return f"{kind}:{code}"


# --- commands ---------------------------------------------------------------------------------------------

def door_command(
    *, controller: DoorController | str, command: str, reason: str, user: User | None = None,
    code_pink: CodePink | None = None, at: datetime | None = None,
) -> DoorCommand:
    """Send `command` to the controller now (a queue put, never a network wait) and record it."""
    row = controller if isinstance(controller, DoorController) else controller_get(code=controller)
    if row is None:
        raise DoorCommandRefused(f"there is no door controller {controller!r}")
    allowed = ELEVATOR_COMMANDS if row.kind == DoorController.Kind.ELEVATOR else DOOR_COMMANDS
    if command not in allowed:
        raise DoorCommandRefused(f"{row.code} is a{'n' if row.kind[0] in 'aeiou' else ''} {row.kind} controller: "
                                 f"it takes {' / '.join(allowed)}, not {command!r}")
    sent_at = at or timezone.now()
    record = DoorCommand.objects.create(controller=row, command=command, reason=reason[:200], requested_by=user,
                                        code_pink=code_pink, sent_at=sent_at)
    sent = door_port().send(topic=controller_topic(row),
                            command=Command(id=str(record.command_id), cmd=command, reason=reason, at=sent_at))
    if not sent:
        record.error = "not sent: too many door commands waiting for the broker"
        record.save(update_fields=["error"])
    logger.info("door %s: %s (%s) id %s%s", row.code, command, reason, record.command_id, "" if sent else " NOT SENT")
    return record


def door_command_ack(*, code: str, command_id: str, at: datetime) -> bool:
    """Controller `code` has processed command `command_id` (its state names it): set acked_at unless set.
    False if there is no such command yet (the sender's transaction may not have committed: ask again)."""
    if DoorCommand.objects.filter(command_id=command_id, controller__code=code, acked_at__isnull=True).update(
            acked_at=at):
        return True
    return DoorCommand.objects.filter(command_id=command_id, controller__code=code).exists()


# --- state and events in ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Flags:
    online: bool
    locked: bool
    open: bool
    forced: bool
    held_open: bool
    held: bool
    egress: str
    release_at: datetime | None

    @classmethod
    def of(cls, c: DoorController) -> _Flags:
        return cls(c.online, c.locked, c.door_open, c.forced, c.held_open, c.held, c.egress, c.egress_release_at)


def door_state_apply(*, code: str, state: DoorState, retained: bool = False,
                     at: datetime | None = None) -> DoorController:
    """A state message from controller `code`, received at `at` (a retained one may be old: it counts
    from its own time). Updates the row, acknowledges the command it names, raises or clears the door
    conditions, tells the floor maps. UnknownController if no row has that code."""
    now = at or timezone.now()
    heard_at = min(state.at, now) if retained else now
    controller, forced_began = _state_apply(code, state, heard_at=heard_at, now=now)
    _tell_forced(controller, forced_began)
    return controller


@transaction.atomic
def _state_apply(code: str, state: DoorState, *, heard_at: datetime, now: datetime
                 ) -> tuple[DoorController, datetime | None]:
    controller = _locked(code)
    before = _Flags.of(controller)
    controller.online = now - heard_at < timedelta(seconds=offline_after_s())
    controller.locked, controller.door_open, controller.held = state.locked, state.open, state.held
    controller.forced, controller.held_open = state.forced, state.held_open
    controller.egress, controller.egress_release_at = state.egress, state.release_at
    controller.state_at = max(heard_at, controller.state_at) if controller.state_at else heard_at
    controller.save()
    if state.ack is not None:
        door_command_ack(code=code, command_id=state.ack, at=heard_at)
    return controller, _conditions(controller, before, at=min(state.at, now))


def door_event_apply(*, code: str, event: DoorEvent, at: datetime | None = None) -> DoorController:
    """An event message from controller `code`: forced / held_open / closed / egress_released change the
    row (and the conditions) at once, ahead of the state that follows; egress_push is logged."""
    now = at or timezone.now()
    controller, forced_began = _event_apply(code, event, at=min(event.at, now))
    _tell_forced(controller, forced_began)
    return controller


@transaction.atomic
def _event_apply(code: str, event: DoorEvent, *, at: datetime) -> tuple[DoorController, datetime | None]:
    controller = _locked(code)
    before = _Flags.of(controller)
    if event.event == FORCED:
        controller.forced = controller.door_open = True
    elif event.event == HELD_OPEN:
        controller.held_open = controller.door_open = True
    elif event.event == CLOSED:
        controller.door_open = controller.forced = controller.held_open = False
    elif event.event == EGRESS_RELEASED:
        controller.egress = DoorController.Egress.RELEASED
    if event.event in (EGRESS_PUSH, EGRESS_RELEASED):
        logger.info("door %s: %s at %s", code, event.event, event.at.isoformat())
    if _Flags.of(controller) != before:
        controller.save(update_fields=["door_open", "forced", "held_open", "egress"])
    return controller, _conditions(controller, before, at=at)


def _locked(code: str) -> DoorController:
    controller = DoorController.objects.select_for_update().filter(code=code).first()
    if controller is None:
        raise UnknownController(f"no door controller {code!r}")
    return controller


def _conditions(controller: DoorController, before: _Flags, *, at: datetime) -> datetime | None:
    """Raise or clear what changed between `before` and the row; announce a change. Returns `at` if the
    door has just been forced (the listeners are told after commit)."""
    after = _Flags.of(controller)
    forced_began = after.forced and not before.forced
    if forced_began:
        _raise(controller, DOOR_FORCED, Alert.Severity.HIGH, at, "Door forced",
               "opened while locked, without a delayed-egress release")
    elif before.forced and not after.forced:
        alert_condition_clear(key=door_key(DOOR_FORCED, controller.code), note="door closed or reset", at=at)
    released = DoorController.Egress.RELEASED
    if after.egress == released and before.egress != released:
        _raise(controller, DOOR_EGRESS_RELEASED, Alert.Severity.HIGH, at, "Exit released by delayed egress",
               "unlocked after a sustained push on its exit device and stays unlocked until staff reset it")
    elif before.egress == released and after.egress != released:
        alert_condition_clear(key=door_key(DOOR_EGRESS_RELEASED, controller.code), note="door reset or unlocked",
                              at=at)
    if after.held_open and not before.held_open:
        _raise(controller, DOOR_HELD_OPEN, Alert.Severity.WARNING, at, "Door held open",
               "has been standing open while locked")
    elif before.held_open and not after.held_open:
        alert_condition_clear(key=door_key(DOOR_HELD_OPEN, controller.code), note="door closed", at=at, resolve=True)
    if after.online and not before.online:
        alert_condition_clear(key=door_key(DOOR_OFFLINE, controller.code), note="controller reporting again",
                              at=at, resolve=True)
    if after != before:
        doors_announce(controller)
    return at if forced_began else None


def _raise(controller: DoorController, kind: str, severity: int, at: datetime, title: str, what: str) -> None:
    floor_id, x_m, y_m = controller_place(controller)
    alert_raise(kind=kind, severity=severity, key=door_key(kind, controller.code), title=f"{title}: {controller.name}",
                message=f"{controller.name} ({controller.code}) {what}.", subject_type=Alert.Subject.DOOR,
                subject_id=controller.code, subject_label=controller.name, audience=SECURITY, floor_id=floor_id,
                x_m=x_m, y_m=y_m, data={"controller": controller.code}, at=at)


def _tell_forced(controller: DoorController, forced_at: datetime | None) -> None:
    """Call every door_forced_listener (one failing does not stop the others)."""
    if forced_at is None:
        return
    for listener in list(door_forced_listeners):
        try:
            listener(controller, forced_at)
        except Exception:  # a listener's bug must not lose the door's state or the other listeners
            logger.exception("door %s: door_forced listener %r failed", controller.code, listener)


# --- offline -------------------------------------------------------------------------------------------

_watch_since: datetime | None = None  # when this process began checking (a never-heard controller's grace)


def doors_offline_check(*, now: datetime) -> int:
    """Mark offline (and alert on) every controller silent for offline_after_s, unless its offline alert
    is open already; a controller never heard from counts from when this process began checking.
    Returns how many were marked or alerted."""
    global _watch_since
    if _watch_since is None or now < _watch_since:
        _watch_since = now
    cutoff = now - timedelta(seconds=offline_after_s())
    silent = Q(state_at__lt=cutoff) | (Q(state_at__isnull=True) if _watch_since <= cutoff else Q(pk__in=[]))
    candidates = list(DoorController.objects.filter(silent).values_list("code", "online"))
    if not candidates:
        return 0
    open_keys = set(Alert.objects.filter(kind=DOOR_OFFLINE, state__in=Alert.OPEN_STATES).values_list("key", flat=True))
    due = [code for code, online in candidates if online or door_key(DOOR_OFFLINE, code) not in open_keys]
    return sum(_offline(code, cutoff=cutoff, now=now) for code in due)


@transaction.atomic
def _offline(code: str, *, cutoff: datetime, now: datetime) -> bool:
    controller = DoorController.objects.select_for_update().filter(code=code).first()
    if controller is None or (controller.state_at is not None and controller.state_at >= cutoff):
        return False  # gone, or it reported meanwhile
    if controller.online:
        controller.online = False
        controller.save(update_fields=["online"])
        doors_announce(controller)
    last = controller.state_at.isoformat(timespec="seconds") if controller.state_at else "never"
    _raise(controller, DOOR_OFFLINE, Alert.Severity.WARNING, now, "Door controller offline",
           f"has not reported since {last} (every {heartbeat_s():g} s expected)")
    logger.warning("door %s: offline (last state %s)", code, last)
    return True


def doors_register_periodic() -> None:
    """Run the offline check with the other periodic jobs (call from an AppConfig.ready)."""
    from alerts.periodic import register

    register("security.doors_offline", OFFLINE_CHECK_EVERY_S, lambda now: doors_offline_check(now=now))


# --- floor maps --------------------------------------------------------------------------------------------

def doors_message(*, floor_id: int) -> str:
    return json.dumps({"type": "doors", "floor_id": floor_id, "doors": door_rows(floor_id=floor_id)},
                      separators=(",", ":"))


def doors_announce(controller: DoorController) -> None:
    """After commit, send every floor showing the controller its fresh door rows."""
    floor_ids = sorted(controller_floor_ids(controller))
    if floor_ids:
        transaction.on_commit(lambda: _send({f: doors_message(floor_id=f) for f in floor_ids}), robust=True)


def _send(texts: dict[int, str]) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _send_now(texts)  # a plain thread: run_doors, the periodic runner, a request
        return
    # this thread runs an event loop (async_to_sync refuses to nest): send from a helper thread
    helper = threading.Thread(target=_send_now, args=(texts,), name="doors-broadcast", daemon=True)
    helper.start()
    helper.join(timeout=10)


def _send_now(texts: dict[int, str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for floor_id, text in texts.items():
        try:
            async_to_sync(layer.group_send)(floor_group(floor_id), {"type": DOORS_MESSAGE_EVENT, "text": text})
        except Exception:  # the channel layer down must not undo the door's state
            logger.exception("could not send the doors of floor %s to its maps", floor_id)
