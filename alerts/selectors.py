"""Reads of alerts: who hears which audiences, and the alerts a user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from alerts.audiences import audiences_of_roles
from alerts.models import Alert, AlertEvent
from tracking.access import floor_ids_visible

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

VIEW_PERMISSION = "alerts.view_alert"
CHANGE_PERMISSION = "alerts.change_alert"


def audiences_of(user: AnyUser) -> set[str]:
    """The audiences a person hears: those of their roles (administrators and superusers: all)."""
    if not isinstance(user, User) or not user.is_active or not user.has_perm(VIEW_PERMISSION):
        return set()
    return audiences_of_roles(user.groups.values_list("name", flat=True), superuser=user.is_superuser)


def alert_floor_scope(user: AnyUser) -> frozenset[int] | None:
    """The floors whose alerts the user hears (None: every floor), as for watching floors."""
    return floor_ids_visible(user=user)


def _kind_filter(kind: str) -> Q:
    if kind.endswith("*"):
        return Q(kind__startswith=kind[:-1])
    if kind.endswith("."):
        return Q(kind__startswith=kind)
    return Q(kind=kind)


def alerts_for_user(
    user: AnyUser, *, state: Iterable[str] | None = None, open: bool | None = None, kind: str | None = None,
    severity_min: int | None = None, floor_id: int | None = None, ward_id: int | None = None,
    audience: str | None = None, subject_type: str | None = None, subject_id: str | None = None,
) -> QuerySet[Alert]:
    """The alerts addressed to one of the user's audiences, on floors they may watch (or placed nowhere),
    newest first, filtered."""
    audiences = audiences_of(user)
    if not audiences:
        return Alert.objects.none()
    alerts = Alert.objects.filter(audiences__overlap=sorted(audiences))
    floors = alert_floor_scope(user)
    if floors is not None:
        alerts = alerts.filter(Q(floor__isnull=True) | Q(floor__in=sorted(floors)))
    states = list(state or [])
    if states:
        alerts = alerts.filter(state__in=states)
    if open is not None:
        alerts = alerts.filter(state__in=Alert.OPEN_STATES) if open else alerts.exclude(state__in=Alert.OPEN_STATES)
    if kind:
        alerts = alerts.filter(_kind_filter(kind))
    if severity_min is not None:
        alerts = alerts.filter(severity__gte=severity_min)
    if floor_id is not None:
        alerts = alerts.filter(floor_id=floor_id)
    if ward_id is not None:
        alerts = alerts.filter(ward_id=ward_id)
    if audience:
        alerts = alerts.filter(audiences__contains=[audience])
    if subject_type:
        alerts = alerts.filter(subject_type=subject_type)
    if subject_id:
        alerts = alerts.filter(subject_id=subject_id)
    return alerts.select_related("zone", "ward", "acknowledged_by", "resolved_by").order_by("-raised_at", "-pk")


def alert_for_user(user: AnyUser, *, alert_id: int) -> Alert | None:
    """One alert the user may see, with its timeline prefetched; None if unknown or not theirs."""
    return alerts_for_user(user).filter(pk=alert_id).prefetch_related("timeline__user").first()


def alert_timeline(*, alert_id: int) -> QuerySet[AlertEvent]:
    return AlertEvent.objects.filter(alert_id=alert_id).select_related("user").order_by("at", "pk")


def open_alerts_snapshot(user: AnyUser, *, limit: int = 500) -> list[Alert]:
    return list(alerts_for_user(user, open=True)[:limit])
