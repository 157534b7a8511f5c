from __future__ import annotations

from django.apps import AppConfig


class InfusionConfig(AppConfig):
    name = "infusion"

    def ready(self) -> None:
        from infusion.rules import subscribe_all  # models are loaded only now

        subscribe_all()
