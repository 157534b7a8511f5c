from __future__ import annotations

from django.contrib import admin

from infusion.models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin[Patient]):
    list_display = ["mrn", "family_name", "given_name", "ward", "bed", "admitted_at", "discharged_at"]
    list_filter = ["ward"]
    search_fields = ["mrn", "family_name", "given_name"]
    raw_id_fields = ["ward", "bed", "tracked_object"]
