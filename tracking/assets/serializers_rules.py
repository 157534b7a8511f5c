"""Serializers of the rules API: status rules, forbidden zones, PAR levels (in: what a client sends; out:
what it gets, with names and, for a PAR level, its live count and state)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from floorplans.models import Zone
from tracking.models import Asset, ForbiddenZone, StatusRule

ZONES = Zone.objects.all()


class StatusRuleSerializer(serializers.ModelSerializer[StatusRule]):
    from_statuses = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, allow_empty=True,
        help_text=f"statuses the rule changes from ({', '.join(Asset.Status.values)}); empty: any but out for "
                  "repair and retired")
    zone = serializers.PrimaryKeyRelatedField(queryset=ZONES, required=False, allow_null=True, default=None)
    zone_name = serializers.CharField(source="zone.name", read_only=True, default="")

    class Meta:
        model = StatusRule
        fields = ["id", "name", "zone_kind", "zone", "zone_name", "category", "from_statuses", "status", "after_s",
                  "enabled", "priority"]
        read_only_fields = ["id", "zone_name"]
        validators: list[Any] = []  # the service checks the model's constraints

    def validate_from_statuses(self, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(Asset.Status.values))
        if unknown:
            raise serializers.ValidationError(f"unknown status {', '.join(unknown)}; "
                                              f"one of {', '.join(Asset.Status.values)}")
        return value


class ForbiddenZoneSerializer(serializers.ModelSerializer[ForbiddenZone]):
    zone = serializers.PrimaryKeyRelatedField(queryset=ZONES, required=False, allow_null=True, default=None)
    zone_name = serializers.CharField(source="zone.name", read_only=True, default="")

    class Meta:
        model = ForbiddenZone
        fields = ["id", "zone_kind", "zone", "zone_name", "category", "note"]
        read_only_fields = ["id", "zone_name"]
        validators: list[Any] = []


class ParLevelInSerializer(serializers.Serializer[Any]):
    zone = serializers.PrimaryKeyRelatedField(queryset=ZONES)
    category = serializers.ChoiceField(choices=Asset.Category.choices)
    target_count = serializers.IntegerField(min_value=0)
    critical_count = serializers.IntegerField(min_value=0)
    ward = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.filter(kind=Zone.Kind.WARD), required=False,
                                              allow_null=True, default=None)


class ParLevelSerializer(serializers.Serializer[Any]):
    """A PAR level as tracking.assets.selectors_rules.par_levels_overview gives it."""

    id = serializers.IntegerField()
    zone = serializers.IntegerField()
    zone_name = serializers.CharField()
    floor = serializers.IntegerField()
    floor_name = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    target_count = serializers.IntegerField()
    critical_count = serializers.IntegerField()
    ward = serializers.IntegerField(allow_null=True)
    ward_name = serializers.CharField()
    available = serializers.IntegerField(help_text="available assets of the category in the zone now")
    state = serializers.CharField(help_text="zero, low (below critical), below_target or at_target")
    state_label = serializers.CharField()
    alert = serializers.IntegerField(allow_null=True, help_text="the open assets.par_low alert, if any")
