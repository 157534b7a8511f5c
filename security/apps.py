from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "infant protection and doors"

    def ready(self) -> None:
        from security.rules import subscribe_all  # models are loaded only now

        subscribe_all()
