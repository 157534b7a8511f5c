"""Alerts: one row per ongoing condition (deduplicated by key), its timeline, escalation policies and
outbound webhooks with their delivery log. Writes go through alerts.services only."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from alerts.audiences import AUDIENCE_CHOICES


class Alert(models.Model):
    class Severity(models.IntegerChoices):
        INFO = 10
        WARNING = 20
        HIGH = 30
        CRITICAL = 40

    class State(models.TextChoices):
        NEW = "new"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"
        CANCELLED = "cancelled"

    class Subject(models.TextChoices):
        TAG = "tag"
        BAG = "bag"
        INFANT = "infant"
        ASSET = "asset"
        READER = "reader"
        PATIENT = "patient"
        DOOR = "door"

    # the lifecycle as data: which state may follow which (resolved and cancelled are final)
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        State.NEW: (State.ACKNOWLEDGED, State.RESOLVED, State.CANCELLED),
        State.ACKNOWLEDGED: (State.RESOLVED, State.CANCELLED),
        State.RESOLVED: (),
        State.CANCELLED: (),
    }
    OPEN_STATES: ClassVar[tuple[str, ...]] = (State.NEW, State.ACKNOWLEDGED)

    kind = models.CharField(max_length=64, help_text='dotted, e.g. "infusion.wrong_patient", "readers.offline"')
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW)
    key = models.CharField(max_length=200, help_text='the ongoing condition, e.g. "infusion.wrong_patient:bag=17"')
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)

    subject_type = models.CharField(max_length=16, choices=Subject.choices)
    subject_id = models.CharField(max_length=64)
    subject_label = models.CharField(max_length=200, blank=True)

    # where it happened, as it was when last raised (a snapshot, not a live location)
    floor = models.ForeignKey("floorplans.Floor", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    zone = models.ForeignKey("floorplans.Zone", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    x_m = models.FloatField(null=True, blank=True)
    y_m = models.FloatField(null=True, blank=True)
    ward = models.ForeignKey(
        "floorplans.Zone", null=True, blank=True, on_delete=models.SET_NULL, related_name="ward_alerts",
        limit_choices_to={"kind": "ward"},
    )

    audience = models.CharField(max_length=32, choices=AUDIENCE_CHOICES, help_text="who was told first")
    audiences = ArrayField(
        models.CharField(max_length=32), default=list,
        help_text="everyone told so far (the first audience + escalation)",
    )
    policy = models.ForeignKey(
        "alerts.EscalationPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    # the policy's steps and reminder period as they were when the alert was raised
    escalation_plan = models.JSONField(default=dict, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True)

    condition_active = models.BooleanField(default=True)
    condition_cleared_at = models.DateTimeField(null=True, blank=True)
    occurrences = models.PositiveIntegerField(default=1)

    raised_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="resolved or cancelled")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(state__in=["new", "acknowledged"]), name="one_open_alert_per_key"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-raised_at"], name="alert_state_raised"),
            models.Index(fields=["kind", "-raised_at"], name="alert_kind_raised"),
            models.Index(fields=["next_escalation_at"], name="alert_next_escalation",
                         condition=models.Q(state="new")),
            models.Index(fields=["next_reminder_at"], name="alert_next_reminder", condition=models.Q(state="new")),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()} {self.kind}: {self.title} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class AlertEvent(models.Model):
    """One line of an alert's timeline: what happened, when, by whom, to which audience."""

    class Action(models.TextChoices):
        RAISED = "raised"
        REPEATED = "repeated"
        SEVERITY_RAISED = "severity_raised", "severity raised"
        ESCALATED = "escalated"
        REMINDED = "reminded"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"
        CANCELLED = "cancelled"
        CONDITION_CLEARED = "condition_cleared", "condition cleared"
        WEBHOOK_FAILED = "webhook_failed", "webhook gave up"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    action = models.CharField(max_length=32, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    note = models.TextField(blank=True)
    audience = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["alert", "at"], name="alertevent_alert_at")]

    def __str__(self) -> str:
        return f"alert {self.alert_id} {self.action} at {self.at:%Y-%m-%d %H:%M:%S}"


def _steps_default() -> list[dict[str, object]]:
    return []


class EscalationPolicy(models.Model):
    """How an unacknowledged alert escalates: matched by kind pattern and minimum severity.

    When several active policies match an alert, the most specific wins: the pattern with the most
    literal (non-wildcard) characters, then the higher min_severity, then the older policy.
    """

    name = models.CharField(max_length=100, unique=True)
    kind_pattern = models.CharField(max_length=64, help_text='fnmatch pattern, e.g. "infusion.*" or "*"')
    min_severity = models.PositiveSmallIntegerField(choices=Alert.Severity.choices, default=Alert.Severity.INFO)
    steps = models.JSONField(
        default=_steps_default, blank=True,
        help_text='[{"after_s": 120, "audience": "charge_nurses"}, ...]: seconds after the alert was raised, '
        "each later than the one before",
    )
    reminder_every_s = models.PositiveIntegerField(default=0, help_text="0 = no audible reminders")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind_pattern", "min_severity"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return f"{self.name} ({self.kind_pattern}, ≥{self.get_min_severity_display()})"

    def clean(self) -> None:
        from alerts.policies import steps_parse  # policies imports this module

        try:
            steps_parse(self.steps)
        except ValueError as error:
            raise ValidationError({"steps": str(error)}) from error


class Webhook(models.Model):
    """An outbound HTTP endpoint (a pager gateway, a nurse-call system) told about alert changes."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, blank=True, help_text="signs each body with HMAC-SHA256")
    kinds = models.CharField(
        max_length=500, default="*", help_text='comma-separated fnmatch patterns, e.g. "infusion.*, security.*"'
    )
    min_severity = models.PositiveSmallIntegerField(choices=Alert.Severity.choices, default=Alert.Severity.HIGH)
    active = models.BooleanField(default=True)
    max_attempts = models.PositiveSmallIntegerField(default=6, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One alert change to send to one webhook, with its attempts (the delivery log)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed", "failed (will retry)"
        GAVE_UP = "gave_up", "gave up"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="webhook_deliveries")
    action = models.CharField(max_length=32)
    payload = models.JSONField(help_text="the body as queued: the alert as it was at that moment")
    attempt = models.PositiveSmallIntegerField(default=0, help_text="attempts made so far")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due",
                         condition=models.Q(status__in=["pending", "failed"])),
        ]

    def __str__(self) -> str:
        return f"{self.webhook} · alert {self.alert_id} {self.action} · {self.status}"
