"""API shapes for tracking: query parameters (validated, 400 on bad input) and responses.

The location-like responses are built as dicts by the selectors (fast for thousands of rows); their
serializers here describe them for the OpenAPI schema, and a test keeps both in step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from floorplans.models import Floor, Zone
from tracking.models import Asset, Tag, TrackedObject

TRAIL_DEFAULT_SPAN = timedelta(hours=1)
TRAIL_MAX_SPAN = timedelta(days=31)
TRAIL_MAX_POINTS = 10_000

# ---- query parameters ---------------------------------------------------------------------------------


class LocationQuerySerializer(serializers.Serializer[Any]):
    floor = serializers.PrimaryKeyRelatedField(queryset=Floor.objects.all(), required=False)
    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.all(), required=False,
                                              help_text="tags assigned to the zone or inside its polygon")
    kind = serializers.ChoiceField(choices=TrackedObject.Kind.choices, required=False)
    category = serializers.ChoiceField(choices=Asset.Category.choices, required=False)
    q = serializers.CharField(required=False, max_length=100, help_text="words in name, asset number, category, tag")


class SearchQuerySerializer(serializers.Serializer[Any]):
    q = serializers.CharField(max_length=100, help_text="every word must match name, asset number, category or tag")
    floor = serializers.PrimaryKeyRelatedField(queryset=Floor.objects.all(), required=False)


class NearestQuerySerializer(serializers.Serializer[Any]):
    category = serializers.ChoiceField(choices=Asset.Category.choices)
    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.select_related("floor"),
                                              help_text="distances are measured from this zone's centroid")
    available = serializers.BooleanField(required=False, default=False, help_text="only assets with status available")
    limit = serializers.IntegerField(required=False, default=5, min_value=1, max_value=50)


class TrailQuerySerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField(required=False, help_text="ISO 8601; default: an hour before `until`")
    until = serializers.DateTimeField(required=False, help_text="ISO 8601, exclusive; default: now")
    limit = serializers.IntegerField(required=False, default=1000, min_value=1, max_value=TRAIL_MAX_POINTS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        until = attrs["until"] = attrs.get("until") or timezone.now()
        since = attrs["since"] = attrs.get("since") or until - TRAIL_DEFAULT_SPAN
        if since >= until:
            raise serializers.ValidationError({"since": "must be before until"})
        if until - since > TRAIL_MAX_SPAN:
            raise serializers.ValidationError({"since": f"the range may span at most {TRAIL_MAX_SPAN.days} days"})
        return attrs


class OccupancyQuerySerializer(serializers.Serializer[Any]):
    floor = serializers.PrimaryKeyRelatedField(queryset=Floor.objects.all())


class TagQuerySerializer(serializers.Serializer[Any]):
    tech = serializers.ChoiceField(choices=Tag.Tech.choices, required=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, max_length=128, help_text="part of the tag id")


class TrackedObjectQuerySerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=TrackedObject.Kind.choices, required=False)
    category = serializers.ChoiceField(choices=Asset.Category.choices, required=False)
    status = serializers.ChoiceField(choices=Asset.Status.choices, required=False)
    tag = serializers.CharField(required=False, max_length=128, help_text="the carried tag's id, exactly")
    q = serializers.CharField(required=False, max_length=100)


# ---- responses ----------------------------------------------------------------------------------------


class FixSerializer(serializers.Serializer[Any]):
    """One tag's position, as in websocket messages (docs/realtime.md)."""

    tag = serializers.CharField()
    object = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    kind = serializers.CharField(help_text="tracked-object kind, or empty")
    category = serializers.CharField(help_text="asset category, or empty")
    x_m = serializers.FloatField()
    y_m = serializers.FloatField()
    accuracy_m = serializers.FloatField()
    zone = serializers.IntegerField(allow_null=True)
    stationary = serializers.BooleanField()
    seen_at = serializers.DateTimeField()


class LocationSerializer(FixSerializer):
    floor = serializers.IntegerField()
    zone_name = serializers.CharField()


class SearchItemSerializer(serializers.Serializer[Any]):
    object = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    category = serializers.CharField()
    tag = serializers.CharField()
    status = serializers.CharField(help_text="asset status, or empty")
    floor = serializers.IntegerField(allow_null=True, help_text="null: never located")
    floor_name = serializers.CharField()
    zone = serializers.IntegerField(allow_null=True)
    zone_name = serializers.CharField()
    x_m = serializers.FloatField(allow_null=True)
    y_m = serializers.FloatField(allow_null=True)
    seen_at = serializers.DateTimeField(allow_null=True)


class NearestItemSerializer(SearchItemSerializer):
    distance_m = serializers.FloatField(help_text="in plan metres from the zone's centroid")
    floors_away = serializers.IntegerField(help_text="levels between the asset and the zone (0: same floor)")


class TrailPointSerializer(serializers.Serializer[Any]):
    x_m = serializers.FloatField()
    y_m = serializers.FloatField()
    floor = serializers.IntegerField()
    zone = serializers.IntegerField(allow_null=True)
    accuracy_m = serializers.FloatField()
    seen_at = serializers.DateTimeField()


class TrailSerializer(serializers.Serializer[Any]):
    tag = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    truncated = serializers.BooleanField(help_text="more points than limit: these are the latest")
    points = TrailPointSerializer(many=True)


class OccupancySerializer(serializers.Serializer[Any]):
    zone = serializers.IntegerField()
    zone_name = serializers.CharField()
    count = serializers.IntegerField()
    by_kind = serializers.DictField(child=serializers.IntegerField(),
                                    help_text='counts by tracked-object kind; "unassigned" for bare tags')


# ---- models -------------------------------------------------------------------------------------------


class TagSerializer(serializers.ModelSerializer[Tag]):
    object: serializers.PrimaryKeyRelatedField[TrackedObject] = serializers.PrimaryKeyRelatedField(
        source="tracked_object", read_only=True, allow_null=True
    )

    class Meta:
        model = Tag
        fields = ["id", "tag_id", "tech", "model", "battery_pct", "active", "object"]


class AssetSerializer(serializers.ModelSerializer[Asset]):
    class Meta:
        model = Asset
        fields = ["asset_number", "category", "status", "make", "model", "serial_number", "department", "home_zone",
                  "pm_due_on"]


class TrackedObjectSerializer(serializers.ModelSerializer[TrackedObject]):
    tag: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(slug_field="tag_id", read_only=True,
                                                                          allow_null=True)
    asset = AssetSerializer(read_only=True, allow_null=True, help_text="null unless it is equipment")

    class Meta:
        model = TrackedObject
        fields = ["id", "kind", "name", "tag", "home_zone", "asset"]
