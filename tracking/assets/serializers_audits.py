"""Serializers of the audit and utilization API: inputs are checked here, answers shaped here."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from floorplans.models import Zone
from tracking.assets.audit_selectors import audit_place
from tracking.models import Asset, Audit, AuditItem

MAX_SEEN_WITHIN_H = 24 * 30
MAX_MISSING_AFTER_DAYS = 365


class AuditStartSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.ChoiceField(choices=Audit.Kind.choices)
    department = serializers.IntegerField(required=False, allow_null=True, help_text="a ward zone id")
    zones = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                  help_text="zone ids; the zones inside them are audited too")
    seen_within_h = serializers.IntegerField(min_value=1, max_value=MAX_SEEN_WITHIN_H, default=24)
    missing_after_days = serializers.IntegerField(min_value=1, max_value=MAX_MISSING_AFTER_DAYS, default=3)
    reader = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="handheld: the mobile reader's code (blank: reads come from uploads)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("department") is None and not attrs.get("zones"):
            raise serializers.ValidationError("choose a department or at least one zone")
        if attrs["kind"] == Audit.Kind.HANDS_FREE and attrs.get("reader"):
            raise serializers.ValidationError({"reader": "a hands-free audit uses no reader"})
        return attrs


class AuditSerializer(serializers.ModelSerializer[Audit]):
    place = serializers.SerializerMethodField()
    started_by = serializers.SerializerMethodField()
    zones = serializers.PrimaryKeyRelatedField[Zone](many=True, read_only=True)
    page = serializers.SerializerMethodField()
    report_csv = serializers.SerializerMethodField()
    report_pdf = serializers.SerializerMethodField()

    class Meta:
        model = Audit
        fields = ["id", "kind", "state", "place", "department", "zones", "seen_within_h", "missing_after_days",
                  "reader", "started_by", "started_at", "ended_at", "summary", "page", "report_csv", "report_pdf"]
        read_only_fields = fields

    def get_place(self, audit: Audit) -> str:
        return audit_place(audit)

    def get_started_by(self, audit: Audit) -> str:
        return audit.started_by.username if audit.started_by else ""

    def get_page(self, audit: Audit) -> str:
        return reverse("asset_audit_page", args=[audit.pk])

    def get_report_csv(self, audit: Audit) -> str:
        return reverse("asset_audit_csv", args=[audit.pk])

    def get_report_pdf(self, audit: Audit) -> str:
        return reverse("asset_audit_pdf", args=[audit.pk])


class AuditItemSerializer(serializers.ModelSerializer[AuditItem]):
    asset_number = serializers.CharField(source="asset.asset_number")
    category = serializers.CharField(source="asset.category")
    name = serializers.CharField(source="asset.tracked_object.name")
    seen_zone_name = serializers.SerializerMethodField()
    pm_due_on = serializers.DateField(source="asset.pm_due_on", allow_null=True)

    class Meta:
        model = AuditItem
        fields = ["asset", "asset_number", "category", "name", "result", "seen_zone", "seen_zone_name", "seen_at",
                  "pm_due", "pm_overdue", "pm_due_on"]
        read_only_fields = fields

    def get_seen_zone_name(self, item: AuditItem) -> str:
        return item.seen_zone.name if item.seen_zone else ""


class AuditDetailSerializer(AuditSerializer):
    items = serializers.SerializerMethodField()

    class Meta(AuditSerializer.Meta):
        fields = [*AuditSerializer.Meta.fields, "items"]
        read_only_fields = fields

    def get_items(self, audit: Audit) -> list[dict[str, Any]]:
        items = self.context.get("items", [])
        return list(AuditItemSerializer(items, many=True).data)


class ProgressAssetSerializer(serializers.Serializer[dict[str, Any]]):
    asset_id = serializers.IntegerField()
    asset_number = serializers.CharField()
    category = serializers.CharField()
    name = serializers.CharField()
    result = serializers.CharField()
    seen_at = serializers.DateTimeField(allow_null=True)
    seen_zone = serializers.CharField()


class SweepStatusSerializer(serializers.Serializer[dict[str, Any]]):
    reader = serializers.CharField(required=False)
    running = serializers.BooleanField()
    connected = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)


class AuditProgressSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()
    expected = serializers.IntegerField()
    found = serializers.IntegerField()
    unexpected = serializers.IntegerField()
    remaining = serializers.IntegerField()
    fraction = serializers.FloatField()
    reads = serializers.IntegerField()
    unknown_tags = serializers.IntegerField()
    dropped = serializers.IntegerField()
    last_read_at = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    found_assets = ProgressAssetSerializer(many=True)
    unexpected_assets = ProgressAssetSerializer(many=True)
    sweep = SweepStatusSerializer(allow_null=True)


class ReadInputSerializer(serializers.Serializer[dict[str, Any]]):
    tag_id = serializers.RegexField(r"^[0-9A-Fa-f]{2,64}$", help_text="EPC or tag id, hex")
    seen_at = serializers.DateTimeField()


class ReadsUploadSerializer(serializers.Serializer[dict[str, Any]]):
    file = serializers.FileField(required=False, help_text="CSV (epc/tag_id, seen_at) or LLRP tag-report JSON")
    reads = ReadInputSerializer(many=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("file")) == bool(attrs.get("reads")):
            raise serializers.ValidationError("send either a reads file or a list of reads")
        return attrs


class ReadsRecordedSerializer(serializers.Serializer[dict[str, Any]]):
    reads = serializers.IntegerField()
    found = serializers.IntegerField()
    unexpected = serializers.IntegerField()
    unknown_tags = serializers.IntegerField()
    dropped = serializers.IntegerField()
    dropped_reasons = serializers.ListField(child=serializers.CharField(), help_text="the first rows dropped, why")


class HistoryVerificationSerializer(serializers.Serializer[dict[str, Any]]):
    at = serializers.DateTimeField()
    how = serializers.CharField()
    how_label = serializers.CharField()
    audit_id = serializers.IntegerField(allow_null=True)
    zone = serializers.CharField()
    user = serializers.CharField()


class HistoryAuditSerializer(serializers.Serializer[dict[str, Any]]):
    audit_id = serializers.IntegerField()
    kind = serializers.CharField()
    started_at = serializers.DateTimeField()
    result = serializers.CharField()
    result_label = serializers.CharField()
    seen_zone = serializers.CharField()
    seen_at = serializers.DateTimeField(allow_null=True)
    pm_due = serializers.BooleanField()
    pm_overdue = serializers.BooleanField()


class AssetAuditHistorySerializer(serializers.Serializer[dict[str, Any]]):
    asset_id = serializers.IntegerField()
    last_verified_at = serializers.DateTimeField(allow_null=True)
    last_verified_how = serializers.CharField(allow_null=True)
    verifications = HistoryVerificationSerializer(many=True)
    audits = HistoryAuditSerializer(many=True)


class UtilizationQuerySerializer(serializers.Serializer[dict[str, Any]]):
    start = serializers.DateField(required=False, help_text="first day (UTC); default 6 days before the end")
    end = serializers.DateField(required=False,
                                help_text="last day, included (UTC); default today (measured up to now)")
    missing_after_h = serializers.FloatField(min_value=1, max_value=24 * 90, default=24.0)
    category = serializers.ChoiceField(choices=Asset.Category.choices, required=False, default="")
    department = serializers.IntegerField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start: date | None = attrs.get("start")
        end: date | None = attrs.get("end")
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError({"end": f"{end} is before the start {start}"})
        return attrs


class UtilizationRowSerializer(serializers.Serializer[dict[str, Any]]):
    group = serializers.CharField(help_text="a category, a unit, or 'category · unit'")
    assets = serializers.IntegerField()
    hours = serializers.DictField(child=serializers.FloatField())
    fractions = serializers.DictField(child=serializers.FloatField())


class UtilizationSerializer(serializers.Serializer[dict[str, Any]]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    missing_after_h = serializers.FloatField()
    states = serializers.ListField(child=serializers.CharField())
    by_category = UtilizationRowSerializer(many=True)
    by_unit = UtilizationRowSerializer(many=True)
    by_category_unit = UtilizationRowSerializer(many=True)
