"""Asset REST API (rules), under /api/assets/: status rules, forbidden zones, PAR levels."""

from __future__ import annotations

from django.urls import URLPattern, path

from tracking.assets.apis_rules import (
    ForbiddenZoneDetailApi,
    ForbiddenZoneListApi,
    ParLevelDetailApi,
    ParLevelListApi,
    StatusRuleDetailApi,
    StatusRuleListApi,
)

urlpatterns: list[URLPattern] = [
    path("status-rules/", StatusRuleListApi.as_view(), name="assets_status_rules"),
    path("status-rules/<int:rule_id>/", StatusRuleDetailApi.as_view(), name="assets_status_rule"),
    path("forbidden-zones/", ForbiddenZoneListApi.as_view(), name="assets_forbidden_zones"),
    path("forbidden-zones/<int:forbidden_id>/", ForbiddenZoneDetailApi.as_view(), name="assets_forbidden_zone"),
    path("par-levels/", ParLevelListApi.as_view(), name="assets_par_levels"),
    path("par-levels/<int:par_id>/", ParLevelDetailApi.as_view(), name="assets_par_level"),
]
