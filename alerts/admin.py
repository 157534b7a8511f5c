"""Administrators edit escalation policies and webhooks here, and read alerts and the delivery log."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from alerts.models import Alert, AlertEvent, EscalationPolicy, Webhook, WebhookDelivery


class AlertEventInline(admin.TabularInline[AlertEvent, Alert]):
    model = AlertEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "user", "audience", "note"]
    readonly_fields = ["at", "action", "user", "audience", "note"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    """Read-only: alerts change through their lifecycle (the page and the API), never by editing rows."""

    list_display = ["raised_at", "severity", "kind", "title", "state", "audience", "escalation_level", "occurrences"]
    list_filter = ["state", "severity", "kind", "audience"]
    search_fields = ["title", "key", "subject_id", "subject_label"]
    date_hierarchy = "raised_at"
    inlines = [AlertEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin[EscalationPolicy]):
    list_display = ["name", "kind_pattern", "min_severity", "steps", "reminder_every_s", "active"]
    list_editable = ["active"]
    list_filter = ["active"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin[Webhook]):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "url", "kinds", "min_severity", "max_attempts", "active"]
    list_filter = ["active"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = ["created_at", "webhook", "alert", "action", "status", "attempt", "response_code", "next_attempt_at"]
    list_filter = ["status", "webhook"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
