"""Security pages: the console, incidents and their reports, the protected infants, the access log."""

from __future__ import annotations

from django.urls import path

from security import views

urlpatterns = [
    path("security/", views.console, name="security_console"),
    path("security/incidents/", views.incident_list, name="security_incidents"),
    path("security/incidents/<int:code_pink_id>/", views.incident_detail, name="security_incident"),
    path("security/incidents/<int:code_pink_id>/report.pdf", views.incident_pdf, name="security_incident_pdf"),
    path("security/incidents/<int:code_pink_id>/timeline.csv", views.incident_csv, name="security_incident_csv"),
    path("security/infants/", views.infants, name="security_infants"),
    path("security/infants/enrol/", views.infant_enrol, name="security_infant_enrol"),
    path("security/infants/mothers/", views.mother_register, name="security_mother_register"),
    path("security/infants/match/", views.match_check, name="security_match_check"),
    path("security/infants/<int:infant_id>/escort/", views.escort_start, name="security_escort_start"),
    path("security/infants/<int:infant_id>/escort/end/", views.escort_end, name="security_escort_end"),
    path("security/infants/<int:infant_id>/discharge/<str:action>/", views.infant_discharge,
         name="security_discharge"),
    path("security/access-log/", views.access_log_page, name="security_access_log"),
]
