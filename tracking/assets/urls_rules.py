"""Asset pages (rules): status rules and forbidden zones, PAR levels."""

from __future__ import annotations

from django.urls import URLPattern, path

from tracking.assets import views_rules as views

urlpatterns: list[URLPattern] = [
    path("rules/", views.rules_list, name="assets_rules"),
    path("rules/new/", views.rule_edit, name="assets_rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="assets_rule_edit"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="assets_rule_delete"),
    path("forbidden/new/", views.forbidden_edit, name="assets_forbidden_new"),
    path("forbidden/<int:forbidden_id>/", views.forbidden_edit, name="assets_forbidden_edit"),
    path("forbidden/<int:forbidden_id>/delete/", views.forbidden_delete, name="assets_forbidden_delete"),
    path("par/", views.par_list, name="assets_par"),
    path("par/new/", views.par_edit, name="assets_par_new"),
    path("par/<int:par_id>/", views.par_edit, name="assets_par_edit"),
    path("par/<int:par_id>/delete/", views.par_delete, name="assets_par_delete"),
]
