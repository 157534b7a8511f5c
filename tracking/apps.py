from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self) -> None:
        from tracking.assets.rules import subscribe_all

        subscribe_all()
