"""Admin for the spatial model. Geometry is edited as WKT/GeoJSON text (floor metres): a slippy-map
widget would load a web base map that has no meaning in floor-local coordinates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.contrib.gis.db import models as gis_models
from django.db.models import Field
from django.forms import Textarea
from django.utils.html import format_html
from django.utils.safestring import SafeString

from floorplans.models import Building, Door, Floor, Site, Zone

GEOMETRY_AS_TEXT: Mapping[type[Field[Any, Any]], Mapping[str, Any]] = {
    gis_models.PolygonField: {"widget": Textarea(attrs={"rows": 3, "cols": 80})},
    gis_models.LineStringField: {"widget": Textarea(attrs={"rows": 2, "cols": 80})},
    gis_models.PointField: {"widget": Textarea(attrs={"rows": 1, "cols": 60})},
}


class BuildingInline(admin.TabularInline[Building, Site]):
    model = Building
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin[Site]):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [BuildingInline]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin[Building]):
    list_display = ["code", "name", "site"]
    list_filter = ["site"]


@admin.register(Floor)
class FloorAdmin(admin.ModelAdmin[Floor]):
    list_display = ["name", "code", "level", "building", "width_m", "height_m", "calibrated"]
    list_filter = ["building"]
    readonly_fields = ["plan_preview", "plan_affine", "plan_residual_m"]

    @admin.display(boolean=True)
    def calibrated(self, floor: Floor) -> bool:
        return floor.plan_affine is not None

    @admin.display(description="plan")
    def plan_preview(self, floor: Floor) -> SafeString | str:
        if not floor.plan_image:
            return "no plan image"
        return format_html('<img src="/floors/{}/plan.png" style="max-width: 900px">', floor.pk)


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin[Zone]):
    list_display = ["code", "name", "kind", "floor", "parent", "ward"]
    list_filter = ["floor", "kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent", "ward"]
    formfield_overrides = GEOMETRY_AS_TEXT


@admin.register(Door)
class DoorAdmin(admin.ModelAdmin[Door]):
    list_display = ["code", "name", "floor", "from_zone", "to_zone", "is_exit", "lock_controller"]
    list_filter = ["floor", "is_exit"]
    search_fields = ["code", "name", "lock_controller"]
    raw_id_fields = ["from_zone", "to_zone"]
    formfield_overrides = GEOMETRY_AS_TEXT
