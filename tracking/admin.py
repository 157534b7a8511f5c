from __future__ import annotations

from django.contrib import admin

from tracking.models import Asset, FloorAccess, Tag, TrackedObject


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["tag_id", "tech", "model", "battery_pct", "active"]
    list_filter = ["tech", "active"]
    search_fields = ["tag_id"]


@admin.register(TrackedObject)
class TrackedObjectAdmin(admin.ModelAdmin[TrackedObject]):
    list_display = ["name", "kind", "tag"]
    list_filter = ["kind"]
    search_fields = ["name", "tag__tag_id"]
    raw_id_fields = ["tag"]


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin[Asset]):
    list_display = ["asset_number", "category", "make", "model", "department", "home_zone", "status", "pm_due_on"]
    list_filter = ["category", "status", "department"]
    search_fields = ["asset_number", "serial_number", "make", "model", "tracked_object__tag__tag_id"]
    raw_id_fields = ["tracked_object", "department", "home_zone"]


@admin.register(FloorAccess)
class FloorAccessAdmin(admin.ModelAdmin[FloorAccess]):
    """Which floors or buildings a group may watch; a group with no rows is not a scope group."""

    list_display = ["group", "building", "floor"]
    list_filter = ["group"]
