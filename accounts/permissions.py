"""DRF permission that follows Django's model permissions, reads included."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission, DjangoModelPermissions

if TYPE_CHECKING:  # rest_framework.views imports the default permission classes: no cycle at run time
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ModelPermissionsWithView(DjangoModelPermissions):
    """Like DjangoModelPermissions, but reading needs the model's `view_` permission too."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


def has_permission(codename: str) -> type[BasePermission]:
    """A DRF permission class requiring one Django permission ("app_label.codename")."""

    class _HasPermission(BasePermission):
        message = f"this needs the permission {codename}"

        def has_permission(self, request: Request, view: APIView) -> bool:
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(codename))

    return _HasPermission
