from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        from alerts.periodic import register
        from alerts.readers_offline import reader_condition_changed
        from alerts.services import alerts_escalate_due, webhooks_deliver_due
        from readers.services import reader_condition_listeners

        register("alerts.escalation", 1.0, lambda now: alerts_escalate_due(now=now))
        register("alerts.webhooks", 1.0, lambda now: webhooks_deliver_due(now=now))
        if reader_condition_changed not in reader_condition_listeners:
            reader_condition_listeners.append(reader_condition_changed)
