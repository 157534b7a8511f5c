"""API shapes of the asset registry (/api/assets/): query parameters, the asset, its place and histories,
the write input, the import report. Answers are built from the models and tracking.assets.finding."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from floorplans.models import Zone
from tracking.assets.finding import NEAREST_MAX
from tracking.assets.registry.selectors import Pm, pm_state
from tracking.models import Asset, AssetStatusChange, AssetVerification, Tag

MAX_IMPORT_BYTES = 20 * 1024 * 1024


# ---- query parameters ---------------------------------------------------------------------------------

class AssetQuerySerializer(serializers.Serializer[Any]):
    q = serializers.CharField(required=False, max_length=100,
                              help_text="every word in asset number, serial number, make, model, tag id or category")
    category = serializers.ChoiceField(choices=Asset.Category.choices, required=False)
    status = serializers.ChoiceField(choices=Asset.Status.choices, required=False)
    department = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.filter(kind=Zone.Kind.WARD), required=False,
                                                    help_text="the owning ward's zone id")
    pm = serializers.ChoiceField(choices=Pm.CHOICES, required=False, help_text="preventive maintenance overdue or due")


class NearestAvailableQuerySerializer(serializers.Serializer[Any]):
    category = serializers.ChoiceField(choices=Asset.Category.choices)
    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.select_related("floor"),
                                              help_text="the room (any zone) to measure from: its centroid")
    limit = serializers.IntegerField(required=False, default=5, min_value=1, max_value=NEAREST_MAX)


# ---- answers --------------------------------------------------------------------------------------------

class PlaceSerializer(serializers.Serializer[Any]):
    """Where an asset's tag was last located (tracking.assets.finding.AssetPlace)."""

    floor = serializers.IntegerField()
    floor_name = serializers.CharField()
    building_name = serializers.CharField()
    level = serializers.IntegerField()
    zone = serializers.IntegerField(allow_null=True)
    zone_name = serializers.CharField()
    zone_kind = serializers.CharField()
    room_name = serializers.CharField(help_text="the zone's parent (the room around a bed), or empty")
    x_m = serializers.FloatField()
    y_m = serializers.FloatField()
    accuracy_m = serializers.FloatField()
    seen_at = serializers.DateTimeField()


class AssetRecordSerializer(serializers.ModelSerializer[Asset]):
    """An asset; `place` is where it is now (null: never located, or on a floor you may not watch).
    The list and detail views put the places in the context (`places`: asset pk -> AssetPlace)."""

    tag_id = serializers.SerializerMethodField()
    tag_tech = serializers.SerializerMethodField()
    department_code = serializers.CharField(source="department.code", default="", read_only=True)
    home_zone_code = serializers.CharField(source="home_zone.code", default="", read_only=True)
    pm_state = serializers.SerializerMethodField(help_text='"overdue", "due" (within 30 days) or ""')
    place = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = ["id", "asset_number", "category", "make", "model", "serial_number", "tag_id", "tag_tech",
                  "department", "department_code", "home_zone", "home_zone_code", "status", "status_changed_at",
                  "pm_due_on", "pm_interval_days", "pm_state", "purchased_on", "purchase_value", "place"]
        read_only_fields = fields

    def _tag(self, asset: Asset) -> Tag | None:
        return asset.tracked_object.tag

    def get_tag_id(self, asset: Asset) -> str:
        tag = self._tag(asset)
        return tag.tag_id if tag is not None else ""

    def get_tag_tech(self, asset: Asset) -> str:
        tag = self._tag(asset)
        return tag.tech if tag is not None else ""

    def get_pm_state(self, asset: Asset) -> str:
        today: date = self.context["today"]
        return pm_state(asset, today=today)

    @extend_schema_field(PlaceSerializer(allow_null=True))
    def get_place(self, asset: Asset) -> dict[str, Any] | None:
        place = self.context["places"].get(asset.pk)
        return None if place is None else dict(place.as_dict())


class StatusChangeSerializer(serializers.ModelSerializer[AssetStatusChange]):
    user = serializers.CharField(source="user.username", default="", read_only=True)
    zone_name = serializers.CharField(source="zone.name", default="", read_only=True)

    class Meta:
        model = AssetStatusChange
        fields = ["id", "at", "from_status", "to_status", "source", "rule", "zone", "zone_name", "user"]
        read_only_fields = fields


class VerificationSerializer(serializers.ModelSerializer[AssetVerification]):
    user = serializers.CharField(source="user.username", default="", read_only=True)
    zone_name = serializers.CharField(source="zone.name", default="", read_only=True)

    class Meta:
        model = AssetVerification
        fields = ["id", "at", "how", "audit", "zone", "zone_name", "user"]
        read_only_fields = fields


class NearestAvailableItemSerializer(serializers.Serializer[Any]):
    asset = serializers.IntegerField()
    asset_number = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    make = serializers.CharField()
    model = serializers.CharField()
    tag = serializers.CharField()
    place = PlaceSerializer()
    distance_m = serializers.FloatField(help_text="plan metres from the zone's centroid")
    floors_away = serializers.IntegerField(help_text="levels between the asset and the zone (0: same floor)")


# ---- writes -----------------------------------------------------------------------------------------------

class AssetWriteSerializer(serializers.Serializer[Any]):
    """Create (POST) or change (PATCH: only the fields sent) an asset. Zones by code as in the CSV
    (docs/assets.md); null or "" clears an optional field. Status changes go to .../status/."""

    asset_number = serializers.CharField(max_length=64)
    category = serializers.ChoiceField(choices=Asset.Category.choices)
    make = serializers.CharField(max_length=100, required=False, allow_blank=True)
    model = serializers.CharField(max_length=100, required=False, allow_blank=True)
    serial_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tag_id = serializers.CharField(max_length=128, required=False, help_text="the tag it carries")
    tag_tech = serializers.ChoiceField(choices=Tag.Tech.choices, required=False,
                                       help_text="needed when the tag is new to the system")
    department = serializers.CharField(max_length=150, required=False, allow_blank=True, allow_null=True,
                                       help_text="the owning ward's zone code")
    home_zone = serializers.CharField(max_length=150, required=False, allow_blank=True, allow_null=True,
                                      help_text="a zone code, or FLOOR/CODE")
    status = serializers.ChoiceField(choices=Asset.Status.choices, required=False, help_text="on create only")
    pm_due_on = serializers.DateField(required=False, allow_null=True)
    pm_interval_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3650)
    purchased_on = serializers.DateField(required=False, allow_null=True)
    purchase_value = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                              allow_null=True)

    def row_values(self) -> dict[str, Any]:
        """The validated fields as an AssetRow's values (zones still codes; "" -> None where that clears)."""
        values = dict(self.validated_data)
        values.pop("asset_number", None)
        for name in ("department", "home_zone"):
            if name in values and not values[name]:
                values[name] = None
        return values


class StatusInputSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Asset.Status.choices)


class StatusResultSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
    changed = serializers.BooleanField(help_text="false: the asset already had this status")
    change = StatusChangeSerializer(allow_null=True)


class ImportInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="the CSV (docs/assets.md), UTF-8")
    dry_run = serializers.BooleanField(required=False, default=False, help_text="check and report, write nothing")

    def validate_file(self, file: Any) -> Any:
        if file.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError(f"larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB: split the file")
        return file


class RowErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(help_text="the spreadsheet row: the header is row 1")
    column = serializers.CharField(help_text="empty: the row as a whole")
    value = serializers.CharField()
    reason = serializers.CharField()


class RowChangeSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField()
    asset_number = serializers.CharField()
    action = serializers.ChoiceField(choices=["created", "updated", "unchanged"])

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "fields" would shadow Serializer.fields as a class attribute
        return {**super().get_fields(), "fields": serializers.ListField(
            child=serializers.CharField(), help_text="what changes (updated) or is set (created)")}


class ImportReportSerializer(serializers.Serializer[Any]):
    dry_run = serializers.BooleanField()
    imported = serializers.BooleanField(help_text="true: written; false: a dry run, or errors (nothing written)")
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    tags_created = serializers.IntegerField()
    status_changes = serializers.IntegerField()
    ignored_columns = serializers.ListField(child=serializers.CharField())
    changes = RowChangeSerializer(many=True)
    elapsed_s = serializers.FloatField()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "errors" would shadow Serializer.errors as a class attribute
        return {**super().get_fields(), "errors": RowErrorSerializer(many=True)}

