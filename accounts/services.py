"""Writes for roles and users."""

from __future__ import annotations

import logging
from fnmatch import fnmatchcase

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.roles import ROLE_PERMISSIONS, STAFF_ROLES

logger = logging.getLogger(__name__)


def _codes(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Make each role's group hold exactly the permissions of ROLE_PERMISSIONS; returns counts."""
    permissions = list(Permission.objects.select_related("content_type"))
    counts: dict[str, int] = {}
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        granted = [p for p in permissions if any(fnmatchcase(_codes(p), pattern) for pattern in patterns)]
        group.permissions.set(granted)
        counts[role] = len(granted)
    logger.debug("roles synced: %s", counts)
    return counts


@transaction.atomic
def user_create_with_role(
    *, username: str, role: str, password: str | None, first_name: str = "", last_name: str = ""
) -> User:
    """Create or update a user holding exactly one role (password None: unusable, for machines)."""
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"unknown role {role!r}; roles are {sorted(ROLE_PERMISSIONS)}")
    user, _ = User.objects.get_or_create(username=username)
    user.first_name, user.last_name = first_name, last_name
    user.is_staff = role in STAFF_ROLES
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user


def token_for(*, user: User) -> str:
    """The user's API token, created on first use."""
    token, _ = Token.objects.get_or_create(user=user)
    return str(token.key)
