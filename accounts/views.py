from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views

from accounts.demo import DEMO_LOGINS


class LoginView(auth_views.LoginView):
    """Django's login; on the demo it also lists the demo accounts."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = DEMO_LOGINS if settings.SHOW_DEMO_LOGINS else []
        return context
