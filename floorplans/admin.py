"""Admin for the spatial model. Geometry is edited as WKT/GeoJSON text (floor metres): a slippy-map
widget would load a web base map that has no meaning in floor-local coordinates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from django import forms
from django.contrib import admin
from django.contrib.gis.db import models as gis_models
from django.db.models import Field
from django.forms import Textarea
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from floorplans.calibration import fit_affine
from floorplans.models import Building, Door, Floor, Site, Zone
from floorplans.services import floor_calibrate

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


class FloorForm(forms.ModelForm[Floor]):
    class Meta:
        model = Floor
        fields = [
            "building", "code", "level", "name", "width_m", "height_m", "plan_image", "control_points",
            "geo_origin_lat", "geo_origin_lon", "geo_rotation_deg",
        ]

    def clean_control_points(self) -> list[dict[str, float]]:
        """Control points as [{"px","py","x_m","y_m"}, ...] that define a transform (or none)."""
        points = self.cleaned_data["control_points"] or []
        if not points:
            return []
        try:
            rows = [{key: float(p[key]) for key in ("px", "py", "x_m", "y_m")} for p in points]
            fit_affine(np.array([[p["px"], p["py"]] for p in rows]), np.array([[p["x_m"], p["y_m"]] for p in rows]))
        except (KeyError, TypeError, ValueError) as exc:
            raise forms.ValidationError(f'need [{{"px": .., "py": .., "x_m": .., "y_m": ..}}, ...]: {exc}') from exc
        return rows


@admin.register(Floor)
class FloorAdmin(admin.ModelAdmin[Floor]):
    form = FloorForm
    list_display = ["name", "code", "level", "building", "width_m", "height_m", "calibrated"]
    list_filter = ["building"]
    readonly_fields = ["plan_preview", "plan_affine", "plan_residual_m"]

    def save_model(self, request: HttpRequest, obj: Floor, form: forms.ModelForm[Floor], change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.control_points:
            floor_calibrate(floor=obj, control_points=obj.control_points)

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
