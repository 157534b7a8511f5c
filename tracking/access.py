"""Who may watch which floor: the one place the websocket and the REST API ask.

A user watches a floor's live positions (and reads locations, trails and occupancy there) when they
hold `tracking.view_currentlocation` and the floor is in their scope. Superusers see every floor.

Scope, as a hospital sets it: a group with FloorAccess rows (a floor, or every floor of a
building) is a *scope group*. A user in no scope group sees every floor; a user in one or more sees the
floors of all their scope groups' rows together. Role groups (nurse, security officer...) carry no
rows, so they grant the permission and the scope groups ("Block A staff", "3 North") narrow it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.contrib.auth.models import User
from django.db.models import Model, QuerySet

from floorplans.models import Floor
from tracking.models import FloorAccess

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

WATCH_PERMISSION = "tracking.view_currentlocation"

M = TypeVar("M", bound=Model)


def floor_ids_visible(*, user: AnyUser) -> frozenset[int] | None:
    """The ids of the floors the user may watch; None means every floor (no scope applies)."""
    if not isinstance(user, User) or not user.is_active:  # AnonymousUser: nothing
        return frozenset()
    if user.is_superuser:
        return None
    if not user.has_perm(WATCH_PERMISSION):
        return frozenset()
    rules = list(FloorAccess.objects.filter(group__user=user).values_list("floor_id", "building_id"))
    if not rules:
        return None
    floor_ids = {floor_id for floor_id, _ in rules if floor_id is not None}
    building_ids = {building_id for _, building_id in rules if building_id is not None}
    if building_ids:
        floor_ids |= set(Floor.objects.filter(building_id__in=building_ids).values_list("pk", flat=True))
    return frozenset(floor_ids)


def can_watch_floor(*, user: AnyUser, floor_id: int) -> bool:
    """May this user see the live positions of floor `floor_id` (which must exist)?"""
    visible = floor_ids_visible(user=user)
    if visible is None:
        return Floor.objects.filter(pk=floor_id).exists()
    return floor_id in visible


def visible_only(queryset: QuerySet[M], *, user: AnyUser, floor_field: str = "floor") -> QuerySet[M]:
    """The rows of `queryset` that lie on floors the user may watch (`floor_field` names the floor FK)."""
    visible = floor_ids_visible(user=user)
    if visible is None:
        return queryset
    return queryset.filter(**{f"{floor_field}__in": sorted(visible)})
