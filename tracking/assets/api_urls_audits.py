"""Asset REST API (audits and utilization), under /api/assets/."""

from __future__ import annotations

from django.urls import URLPattern, path

from tracking.assets.apis_audits import (
    AssetAuditHistoryApi,
    AuditCancelApi,
    AuditDetailApi,
    AuditFinishApi,
    AuditListApi,
    AuditProgressApi,
    AuditReadsApi,
    UtilizationApi,
)

urlpatterns: list[URLPattern] = [
    path("audits/", AuditListApi.as_view(), name="api_asset_audits"),
    path("audits/<int:audit_id>/", AuditDetailApi.as_view(), name="api_asset_audit"),
    path("audits/<int:audit_id>/progress/", AuditProgressApi.as_view(), name="api_asset_audit_progress"),
    path("audits/<int:audit_id>/reads/", AuditReadsApi.as_view(), name="api_asset_audit_reads"),
    path("audits/<int:audit_id>/finish/", AuditFinishApi.as_view(), name="api_asset_audit_finish"),
    path("audits/<int:audit_id>/cancel/", AuditCancelApi.as_view(), name="api_asset_audit_cancel"),
    path("audits/assets/<int:asset_id>/", AssetAuditHistoryApi.as_view(), name="api_asset_audit_history"),
    path("utilization/", UtilizationApi.as_view(), name="api_asset_utilization"),
]
