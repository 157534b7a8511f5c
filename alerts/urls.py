"""Alert pages (the alert list)."""

from __future__ import annotations

from django.urls import path

from alerts import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
]
