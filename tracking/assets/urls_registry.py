"""Asset pages (registry), under /assets/."""

from __future__ import annotations

from django.urls import URLPattern, path

from tracking.assets import views_registry as views

urlpatterns: list[URLPattern] = [
    path("", views.asset_list, name="asset_list"),
    path("<int:asset_id>/", views.asset_detail, name="asset_detail"),
    path("<int:asset_id>/status/", views.asset_status_change, name="asset_status_change"),
    path("<int:asset_id>/trail.png", views.asset_trail_png, name="asset_trail_png"),
    path("import/", views.asset_import, name="asset_import"),
    path("import/sample.csv", views.asset_import_sample, name="asset_import_sample"),
    path("export.csv", views.asset_export_csv, name="asset_export_csv"),
    path("nearest/", views.asset_nearest, name="asset_nearest"),
]
