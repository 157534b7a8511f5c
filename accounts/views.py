from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.demo import DEMO_LOGINS


class LoginView(auth_views.LoginView):
    """Django's login; on the demo it also lists the demo accounts."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = DEMO_LOGINS if settings.SHOW_DEMO_LOGINS else []
        return context


# Where a user lands after logging in: the first page of this list their permissions open (nav order, the
# floors first, so everyone who sees floors lands as before). A pharmacist sees no floors: the pharmacy.
LANDING_PAGES = (
    ("floorplans.view_floor", "home"),
    ("infusion.add_infusionbag", "infusion_pharmacy"),
    ("infusion.view_infusionbag", "infusion_wards"),
    ("security.view_infant", "security_console"),
    ("tracking.view_asset", "asset_list"),
    ("alerts.view_alert", "alert_list"),
    ("readers.view_reader", "reader_list"),
)


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    for permission, page in LANDING_PAGES:
        if request.user.has_perm(permission):
            return redirect(page)
    raise PermissionDenied("This account has no page to show: ask an administrator to give it a role.")
