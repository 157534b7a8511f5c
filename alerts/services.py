"""Every write to alerts: raise (deduplicated by key), move, clear, acknowledge, resolve, cancel, escalate.

Each service is atomic, locks the alert row, records a timeline event, queues webhook deliveries in the
same transaction and broadcasts to the audiences after commit. A move is the exception: it only updates
the place and tells the screens (it is not news for the timeline or a pager).
"""

from __future__ import annotations

import logging
import math
import numbers
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.audiences import audience_check
from alerts.broadcast import announce, sound_min_severity, webhooks_queue
from alerts.exceptions import InvalidAlertTransition
from alerts.models import Alert, AlertEvent
from alerts.policies import Plan, policy_for
from alerts.webhooks import webhooks_deliver_due
from floorplans.models import Zone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "alert_acknowledge", "alert_cancel", "alert_condition_clear", "alert_move", "alert_raise", "alert_resolve",
    "alerts_escalate_due", "webhooks_deliver_due",
]

logger = logging.getLogger(__name__)

TRANSITIONS = Alert.TRANSITIONS
Action = AlertEvent.Action
MOVED = "moved"  # a websocket action only: a move writes no timeline event, so it is no AlertEvent.Action
PLACE_FIELDS = ("floor_id", "zone_id", "ward_id", "x_m", "y_m")  # where an alert is (alert_raise's place)


def repeat_log_every_s() -> float:
    """A condition reported again and again is written to the timeline at most this often."""
    return float(getattr(settings, "ALERTS_REPEAT_LOG_EVERY_S", 60.0))


def _event(alert: Alert, action: str, at: datetime, *, user: User | None = None, note: str = "",
           audience: str = "", data: dict[str, Any] | None = None) -> AlertEvent:
    return AlertEvent.objects.create(alert=alert, at=at, action=action, user=user, note=note, audience=audience,
                                     data=data or {})


def _move(alert: Alert, to_state: str) -> None:
    if to_state not in TRANSITIONS[alert.state]:
        raise InvalidAlertTransition(alert.pk, alert.state, to_state)
    alert.state = to_state


def _place_floor(floor_id: int | None, zone_id: int | None, ward_id: int | None) -> int | None:
    """The floor an alert is placed on: given, else the zone's, else the ward's (routes it to that floor)."""
    if floor_id is not None:
        return floor_id
    zone_pk = zone_id if zone_id is not None else ward_id
    if zone_pk is None:
        return None
    return Zone.objects.filter(pk=zone_pk).values_list("floor_id", flat=True).first()


def _lock_open(key: str) -> Alert | None:
    return Alert.objects.select_for_update().filter(key=key, state__in=Alert.OPEN_STATES).first()


@transaction.atomic
def alert_raise(
    *, kind: str, severity: int, key: str, title: str, subject_type: str, subject_id: str, audience: str,
    message: str = "", subject_label: str = "", floor_id: int | None = None, zone_id: int | None = None,
    x_m: float | None = None, y_m: float | None = None, ward_id: int | None = None,
    data: dict[str, Any] | None = None, at: datetime | None = None,
) -> Alert:
    """Raise the condition `key`, or update its open alert (one open alert per key)."""
    if severity not in Alert.Severity.values:
        raise ValueError(f"severity {severity!r} is not one of {Alert.Severity.values}")
    if subject_type not in Alert.Subject.values:
        raise ValueError(f"subject_type {subject_type!r} is not one of {Alert.Subject.values}")
    audience_check(audience)
    now = at or timezone.now()
    place: dict[str, Any] = {"floor_id": _place_floor(floor_id, zone_id, ward_id), "zone_id": zone_id, "x_m": x_m,
                             "y_m": y_m, "ward_id": ward_id}
    fields: dict[str, Any] = {"kind": kind, "title": title[:200], "message": message,
                              "subject_label": subject_label[:200], "data": data or {}}
    alert = _lock_open(key)
    if alert is None:
        try:
            with transaction.atomic():  # a savepoint: another process may have raised the same key just now
                return _create(key=key, severity=severity, subject_type=subject_type, subject_id=subject_id,
                               audience=audience, now=now, place=place, fields=fields)
        except IntegrityError:
            alert = _lock_open(key)
            if alert is None:
                raise
    return _repeat(alert, severity=severity, now=now, place=place, fields=fields)


def _create(*, key: str, severity: int, subject_type: str, subject_id: str, audience: str, now: datetime,
            place: dict[str, Any], fields: dict[str, Any]) -> Alert:
    plan = policy_for(kind=fields["kind"], severity=severity)
    alert = Alert.objects.create(
        key=key, severity=severity, subject_type=subject_type, subject_id=subject_id, audience=audience,
        audiences=[audience], policy_id=plan.policy_id, escalation_plan=plan.as_json(),
        next_escalation_at=plan.next_escalation_at(now, 0), next_reminder_at=plan.first_reminder_at(now),
        raised_at=now, updated_at=now, **place, **fields,
    )
    _event(alert, Action.RAISED, now, audience=audience, data={"severity": severity, "policy": plan.policy_name})
    announce(alert, action=Action.RAISED, sound=severity >= sound_min_severity())
    webhooks_queue(alert, action=Action.RAISED, at=now)
    return alert


def _repeat(alert: Alert, *, severity: int, now: datetime, place: dict[str, Any], fields: dict[str, Any]) -> Alert:
    rose = severity > alert.severity
    recurred = not alert.condition_active
    previous = alert.severity
    alert.severity = max(alert.severity, severity)
    alert.occurrences += 1
    alert.condition_active, alert.condition_cleared_at = True, None
    alert.updated_at = now
    for name, value in {**place, **fields}.items():
        if value is not None and name != "data":
            setattr(alert, name, value)
    alert.data = {**alert.data, **fields["data"]}
    alert.save()
    if rose:
        _event(alert, Action.SEVERITY_RAISED, now, data={"from": previous, "to": alert.severity})
        announce(alert, action=Action.SEVERITY_RAISED, sound=alert.severity >= sound_min_severity())
        webhooks_queue(alert, action=Action.SEVERITY_RAISED, at=now)
    elif recurred or _repeat_not_logged_since(alert, now - timedelta(seconds=repeat_log_every_s())):
        _event(alert, Action.REPEATED, now, data={"occurrences": alert.occurrences})
        announce(alert, action=Action.REPEATED, sound=False)
    return alert


def _repeat_not_logged_since(alert: Alert, since: datetime) -> bool:
    return not alert.timeline.filter(action__in=[Action.REPEATED, Action.RAISED], at__gt=since).exists()


@transaction.atomic
def alert_move(*, alert_id: int, place: dict[str, Any], data: dict[str, Any] | None = None,
               at: datetime) -> Alert | None:
    """The subject of an open alert moved (an infant carried along): the alert's place follows it.

    The keys of `place` (any of PLACE_FIELDS) replace the alert's, a None included (zone_id None: in no
    zone now); keys not given stay. With no floor given, a zone or ward given places the alert on its
    floor, as alert_raise does. `data` is merged into the alert's. Occurrences, severity and the
    condition stay as they are; nothing goes on the timeline or to webhooks; the screens hear action
    "moved", without sound. A resolved or cancelled alert is left alone: None.
    """
    _place_check(place)
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    if not alert.is_open:
        return None
    moved = {name: place.get(name, getattr(alert, name)) for name in PLACE_FIELDS}
    if place.get("floor_id") is None and ("zone_id" in place or "ward_id" in place):
        moved["floor_id"] = _place_floor(None, moved["zone_id"], moved["ward_id"])
    for name, value in moved.items():
        setattr(alert, name, value)
    alert.data = {**alert.data, **(data or {})}
    alert.updated_at = at
    alert.save(update_fields=["floor", "zone", "ward", "x_m", "y_m", "data", "updated_at"])
    announce(alert, action=MOVED, sound=False)
    return alert


def _place_check(place: dict[str, Any]) -> None:
    unknown = sorted(set(place) - set(PLACE_FIELDS))
    if unknown:
        raise ValueError(f"place keys {unknown} are not among {list(PLACE_FIELDS)}")
    for name in ("x_m", "y_m"):
        value = place.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                                  or not math.isfinite(value)):
            raise ValueError(f"place {name}={value!r}: need a finite number of metres or None")
    for name in ("floor_id", "zone_id", "ward_id"):
        value = place.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise ValueError(f"place {name}={value!r}: need a primary key (int) or None")


@transaction.atomic
def alert_condition_clear(
    *, key: str, note: str = "", at: datetime | None = None, resolve: bool = False
) -> Alert | None:
    """The condition `key` is over: say so on its open alert (and resolve it when `resolve`). None if no open alert."""
    alert = _lock_open(key)
    if alert is None:
        return None
    now = at or timezone.now()
    if alert.condition_active:
        alert.condition_active, alert.condition_cleared_at, alert.updated_at = False, now, now
        _event(alert, Action.CONDITION_CLEARED, now, note=note)
    elif not resolve:
        return alert  # already said; clearing twice is not news
    if resolve:
        _finish(alert, Alert.State.RESOLVED, user=None, note=note or "condition cleared", now=now)
        return alert
    alert.save()
    announce(alert, action=Action.CONDITION_CLEARED, sound=False, note=note)
    webhooks_queue(alert, action=Action.CONDITION_CLEARED, at=now, note=note)
    return alert


@transaction.atomic
def alert_acknowledge(*, alert_id: int, user: User, note: str = "", at: datetime | None = None) -> Alert:
    """Someone is on it: stops escalation and reminders."""
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    now = at or timezone.now()
    _move(alert, Alert.State.ACKNOWLEDGED)
    alert.acknowledged_at, alert.acknowledged_by, alert.updated_at = now, user, now
    alert.next_escalation_at = alert.next_reminder_at = None
    alert.save()
    _event(alert, Action.ACKNOWLEDGED, now, user=user, note=note)
    announce(alert, action=Action.ACKNOWLEDGED, sound=False, note=note)
    webhooks_queue(alert, action=Action.ACKNOWLEDGED, at=now, note=note)
    return alert


@transaction.atomic
def alert_resolve(*, alert_id: int, user: User | None, note: str = "", at: datetime | None = None) -> Alert:
    """Dealt with (user None: the system resolved it)."""
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    _finish(alert, Alert.State.RESOLVED, user=user, note=note, now=at or timezone.now())
    return alert


@transaction.atomic
def alert_cancel(*, alert_id: int, user: User, note: str = "", at: datetime | None = None) -> Alert:
    """Raised in error (a false alarm, a test tag): closed without having been dealt with."""
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    _finish(alert, Alert.State.CANCELLED, user=user, note=note, now=at or timezone.now())
    return alert


def _finish(alert: Alert, state: str, *, user: User | None, note: str, now: datetime) -> None:
    _move(alert, state)
    alert.resolved_at, alert.resolved_by, alert.updated_at = now, user, now
    alert.next_escalation_at = alert.next_reminder_at = None
    alert.save()
    action = Action.RESOLVED if state == Alert.State.RESOLVED else Action.CANCELLED
    _event(alert, action, now, user=user, note=note)
    announce(alert, action=action, sound=False, note=note)
    webhooks_queue(alert, action=action, at=now, note=note)


BATCH = 200  # alerts handled per call and kind of timer; the rest wait for the next second


def alerts_escalate_due(*, now: datetime) -> int:
    """Escalate unacknowledged alerts whose next step is due, and remind for those whose reminder is due.
    Each alert in its own transaction (skip_locked: two runners never double-escalate). Returns how many
    alerts changed."""
    changed = 0
    due = Alert.objects.filter(state=Alert.State.NEW)
    for alert_id in list(due.filter(next_escalation_at__lte=now).order_by("next_escalation_at")
                         .values_list("pk", flat=True)[:BATCH]):
        changed += _guarded(_escalate, alert_id, now)
    for alert_id in list(due.filter(next_reminder_at__lte=now).order_by("next_reminder_at")
                         .values_list("pk", flat=True)[:BATCH]):
        changed += _guarded(_remind, alert_id, now)
    return changed


def _guarded(step: Any, alert_id: int, now: datetime) -> int:
    try:
        return 1 if step(alert_id, now) else 0
    except Exception:  # one bad alert must not stop the others' escalation
        logger.exception("escalation timer failed for alert %s", alert_id)
        return 0


def _locked_new(alert_id: int) -> Alert | None:
    return Alert.objects.select_for_update(skip_locked=True).filter(pk=alert_id, state=Alert.State.NEW).first()


@transaction.atomic
def _escalate(alert_id: int, now: datetime) -> bool:
    alert = _locked_new(alert_id)
    if alert is None or alert.next_escalation_at is None or alert.next_escalation_at > now:
        return False
    plan = Plan.from_json(alert.escalation_plan, alert.policy_id)
    # every step that is due fires (the runner may have been stopped for a while), each on the timeline
    while alert.next_escalation_at is not None and alert.next_escalation_at <= now:
        if alert.escalation_level >= len(plan.steps):
            alert.next_escalation_at = None
            break
        step = plan.steps[alert.escalation_level]
        alert.escalation_level += 1
        if step.audience not in alert.audiences:
            alert.audiences = [*alert.audiences, step.audience]
        alert.next_escalation_at = plan.next_escalation_at(alert.raised_at, alert.escalation_level)
        _event(alert, Action.ESCALATED, now, audience=step.audience,
               data={"level": alert.escalation_level, "after_s": step.after_s})
        announce(alert, action=Action.ESCALATED, sound=True, note=f"escalated to {step.audience}")
        webhooks_queue(alert, action=Action.ESCALATED, at=now, note=f"escalated to {step.audience}")
    alert.updated_at = now
    alert.save(update_fields=["escalation_level", "audiences", "next_escalation_at", "updated_at"])
    return True


@transaction.atomic
def _remind(alert_id: int, now: datetime) -> bool:
    alert = _locked_new(alert_id)
    if alert is None or alert.next_reminder_at is None or alert.next_reminder_at > now:
        return False
    every_s = int(alert.escalation_plan.get("reminder_every_s", 0))
    if every_s <= 0:
        alert.next_reminder_at = None
    else:
        # the next reminder after now: missed ones (runner stopped) are not replayed in a burst
        missed = int((now - alert.next_reminder_at).total_seconds() // every_s)
        alert.next_reminder_at += timedelta(seconds=every_s * (missed + 1))
        _event(alert, Action.REMINDED, now, data={"audiences": alert.audiences})
        announce(alert, action=Action.REMINDED, sound=True, message_type="reminder")
    alert.save(update_fields=["next_reminder_at"])
    return every_s > 0
