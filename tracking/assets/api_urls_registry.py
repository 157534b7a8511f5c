"""Asset REST API (registry), under /api/assets/."""

from __future__ import annotations

from django.urls import URLPattern, path

from tracking.assets import apis_registry as apis

urlpatterns: list[URLPattern] = [
    path("", apis.AssetListApi.as_view(), name="assets_api"),
    path("<int:asset_id>/", apis.AssetDetailApi.as_view(), name="asset_api"),
    path("<int:asset_id>/status/", apis.AssetStatusApi.as_view(), name="asset_status_api"),
    path("<int:asset_id>/status-history/", apis.AssetStatusHistoryApi.as_view(), name="asset_status_history_api"),
    path("<int:asset_id>/verifications/", apis.AssetVerificationListApi.as_view(), name="asset_verifications_api"),
    path("nearest-available/", apis.AssetNearestAvailableApi.as_view(), name="assets_nearest_available_api"),
    path("import/", apis.AssetImportApi.as_view(), name="assets_import_api"),
]
