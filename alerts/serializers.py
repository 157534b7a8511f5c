"""The alert's one outward shape: REST answers, websocket messages and webhook bodies all use these."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.audiences import AUDIENCES
from alerts.models import Alert, AlertEvent

# the alert's states inline in the schema: a shared "state" enum component would collide with other apps'
_STATE_SCHEMA = {"type": "string", "enum": list(Alert.State.values)}


@extend_schema_field(_STATE_SCHEMA, component_name="AlertState")
class AlertStateField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Alert.State.choices, **kwargs)


@extend_schema_field({"type": "array", "items": _STATE_SCHEMA})
class AlertStatesField(serializers.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Alert.State.choices, **kwargs)


class AlertSerializer(serializers.ModelSerializer[Alert]):
    state = AlertStateField(read_only=True)
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    zone_name = serializers.CharField(source="zone.name", read_only=True, allow_null=True, default=None)
    ward_name = serializers.CharField(source="ward.name", read_only=True, allow_null=True, default=None)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", read_only=True, allow_null=True,
                                            default=None)
    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, allow_null=True, default=None)
    audiences = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id", "kind", "severity", "severity_label", "state", "key", "title", "message",
            "subject_type", "subject_id", "subject_label",
            "floor", "zone", "zone_name", "x_m", "y_m", "ward", "ward_name",
            "audience", "audiences", "escalation_level", "next_escalation_at",
            "condition_active", "condition_cleared_at", "occurrences",
            "raised_at", "updated_at", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by", "data",
        ]
        read_only_fields = fields


class AlertEventSerializer(serializers.ModelSerializer[AlertEvent]):
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = AlertEvent
        fields = ["at", "action", "user", "note", "audience", "data"]
        read_only_fields = fields


class AlertDetailSerializer(AlertSerializer):
    timeline = AlertEventSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "timeline"]
        read_only_fields = fields


class AlertQuerySerializer(serializers.Serializer[dict[str, Any]]):
    """GET /api/alerts/ filters."""

    state = AlertStatesField(required=False, help_text="one or more states (repeat the parameter)")
    open = serializers.BooleanField(required=False, allow_null=True, default=None,
                                    help_text="1: only new and acknowledged alerts; 0: only resolved and cancelled")
    kind = serializers.CharField(required=False, max_length=64,
                                 help_text='exact kind, or a prefix ending in "." or "*": "infusion." / "infusion.*"')
    severity_min = serializers.ChoiceField(choices=Alert.Severity.choices, required=False)
    floor = serializers.IntegerField(required=False, min_value=1)
    ward = serializers.IntegerField(required=False, min_value=1)
    audience = serializers.ChoiceField(choices=list(AUDIENCES), required=False)
    subject_type = serializers.ChoiceField(choices=Alert.Subject.choices, required=False)
    subject_id = serializers.CharField(required=False, max_length=64)


class AlertNoteSerializer(serializers.Serializer[dict[str, Any]]):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
