"""Who may watch which floor: the permission, superusers, and per-group floor/building scopes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import IntegrityError

from floorplans.models import Floor
from tests.tracking.whereabouts import floor_above, floor_elsewhere, place, scope
from tracking.access import can_watch_floor, floor_ids_visible, visible_only
from tracking.models import CurrentLocation, FloorAccess

pytestmark = pytest.mark.django_db


def _watchable(user: User | AnonymousUser, *floors: Floor) -> list[bool]:
    return [can_watch_floor(user=user, floor_id=f.pk) for f in floors]


def test_it_lets_every_watching_role_see_every_floor_when_no_scope_is_set(
    floor: Floor, nurse: User, charge_nurse: User, biomed: User, security_officer: User, administrator: User
) -> None:
    other = floor_elsewhere()
    for user in (nurse, charge_nurse, biomed, security_officer, administrator):
        assert _watchable(user, floor, other) == [True, True], user.username
        assert floor_ids_visible(user=user) is None


def test_it_refuses_anonymous_users_people_without_the_permission_and_inactive_users(
    floor: Floor, visitor: User, nurse: User
) -> None:
    assert _watchable(AnonymousUser(), floor) == [False]
    assert _watchable(visitor, floor) == [False]
    assert floor_ids_visible(user=visitor) == frozenset()
    nurse.is_active = False
    nurse.save()
    assert _watchable(User.objects.get(pk=nurse.pk), floor) == [False]


def test_it_refuses_a_floor_that_does_not_exist(floor: Floor, nurse: User) -> None:
    assert can_watch_floor(user=nurse, floor_id=floor.pk + 1000) is False


def test_it_lets_a_superuser_see_everything_even_when_scoped(floor: Floor) -> None:
    root = User.objects.create_superuser("root", password="pw")
    other = floor_elsewhere()
    scope(root, "3 North only", floors=(floor,))
    assert _watchable(root, floor, other) == [True, True]


def test_it_limits_a_scoped_user_to_the_floors_of_their_scope_groups(floor: Floor, nurse: User) -> None:
    upstairs, other = floor_above(floor), floor_elsewhere()
    scope(nurse, "3 North", floors=(floor,))
    assert _watchable(nurse, floor, upstairs, other) == [True, False, False]
    scope(nurse, "Block B", buildings=(other.building,))  # a second scope group adds its floors
    assert _watchable(User.objects.get(pk=nurse.pk), floor, upstairs, other) == [True, False, True]


def test_it_gives_a_building_scope_every_floor_of_that_building(floor: Floor, security_officer: User) -> None:
    upstairs, other = floor_above(floor), floor_elsewhere()
    scope(security_officer, "Block A", buildings=(floor.building,))
    assert _watchable(security_officer, floor, upstairs, other) == [True, True, False]
    assert floor_ids_visible(user=security_officer) == frozenset({floor.pk, upstairs.pk})


def test_it_does_not_let_a_role_group_without_rows_widen_a_scope(floor: Floor, nurse: User) -> None:
    other = floor_elsewhere()
    scope(nurse, "3 North", floors=(floor,))
    assert nurse.groups.filter(name="nurse", floor_access__isnull=True).exists()  # the role group has no rows
    assert _watchable(nurse, other) == [False]


def test_it_scopes_querysets_to_the_visible_floors(floor: Floor, nurse: User) -> None:
    other = floor_elsewhere()
    place("here", floor, 1, 1)
    place("there", other, 1, 1)
    everything = CurrentLocation.objects.order_by("tag__tag_id")
    assert [c.tag.tag_id for c in visible_only(everything, user=nurse)] == ["here", "there"]
    scope(nurse, "3 North", floors=(floor,))
    assert [c.tag.tag_id for c in visible_only(everything, user=nurse)] == ["here"]


@pytest.mark.parametrize("rule", ["both", "neither"])
def test_it_requires_a_rule_to_name_exactly_a_floor_or_a_building(floor: Floor, rule: str) -> None:
    group = Group.objects.create(name="scope")
    fields = {"floor": floor, "building": floor.building} if rule == "both" else {}
    with pytest.raises(IntegrityError):
        FloorAccess.objects.create(group=group, **fields)


def test_it_lets_only_the_administrator_change_floor_scopes(
    nurse: User, charge_nurse: User, biomed: User, security_officer: User, administrator: User
) -> None:
    may_change = {user.username: user.has_perm("tracking.change_flooraccess")
                  for user in (nurse, charge_nurse, biomed, security_officer, administrator)}
    assert may_change == {"nurse": False, "charge_nurse": False, "biomed": False, "security_officer": False,
                          "administrator": True}
    assert biomed.has_perms(["tracking.change_asset", "tracking.view_locationhistory"])
    assert not biomed.has_perm("tracking.change_currentlocation")
