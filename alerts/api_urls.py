"""Alert REST endpoints under /api/."""

from __future__ import annotations

from django.urls import path

from alerts.apis import AlertAcknowledgeApi, AlertCancelApi, AlertDetailApi, AlertListApi, AlertResolveApi

urlpatterns = [
    path("alerts/", AlertListApi.as_view(), name="alert_list_api"),
    path("alerts/<int:alert_id>/", AlertDetailApi.as_view(), name="alert_detail_api"),
    path("alerts/<int:alert_id>/acknowledge/", AlertAcknowledgeApi.as_view(), name="alert_acknowledge_api"),
    path("alerts/<int:alert_id>/resolve/", AlertResolveApi.as_view(), name="alert_resolve_api"),
    path("alerts/<int:alert_id>/cancel/", AlertCancelApi.as_view(), name="alert_cancel_api"),
]
