"""Asset pages (audits and utilization), under /assets/."""

from __future__ import annotations

from django.urls import URLPattern, path

from tracking.assets import views_audits as views

urlpatterns: list[URLPattern] = [
    path("audits/", views.audit_list, name="asset_audits"),
    path("audits/<int:audit_id>/", views.audit_page, name="asset_audit_page"),
    path("audits/<int:audit_id>/report.csv", views.audit_csv, name="asset_audit_csv"),
    path("audits/<int:audit_id>/report.pdf", views.audit_pdf, name="asset_audit_pdf"),
    path("audits/assets/<int:asset_id>/", views.asset_history, name="asset_audit_history"),
    path("utilization/", views.utilization_page, name="asset_utilization"),
    path("utilization/chart-<str:by>.png", views.utilization_chart, name="asset_utilization_chart"),
    path("utilization/report.csv", views.utilization_csv, name="asset_utilization_csv"),
    path("utilization/report.pdf", views.utilization_pdf, name="asset_utilization_pdf"),
]
