from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "infant protection and doors"

    def ready(self) -> None:  # models are loaded only now
        from security import access  # noqa: F401  (connects the access log to tracking.signals.locations_viewed)
        from security.codepink import code_pink_connect
        from security.doors.services import doors_register_periodic
        from security.rules import subscribe_all
        from security.services import escorts_connect

        subscribe_all()  # the pipeline's events -> exit, tamper, supervision, outside-ward and match rules
        escorts_connect()  # periodic "security.escorts": overdue escorts -> security.escort_expired
        code_pink_connect()  # a forced exit door -> Code Pink; its alert's acknowledgements -> its timeline
        doors_register_periodic()  # periodic door-offline check
