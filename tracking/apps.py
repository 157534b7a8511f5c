from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self) -> None:
        from tracking.assets.handheld import register_periodic
        from tracking.assets.rules import subscribe_all

        subscribe_all()
        register_periodic()  # handheld sweeps run wherever the periodic jobs run (run_rtls / run_alerts)
