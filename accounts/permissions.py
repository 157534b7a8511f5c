"""DRF permission that follows Django's model permissions, reads included."""

from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions


class ModelPermissionsWithView(DjangoModelPermissions):
    """Like DjangoModelPermissions, but reading needs the model's `view_` permission too."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
