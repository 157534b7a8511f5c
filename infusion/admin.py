from __future__ import annotations

from django.contrib import admin

from infusion.models import AdtMessage, BagEvent, InfusionBag, Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin[Patient]):
    list_display = ["mrn", "family_name", "given_name", "ward", "bed", "admitted_at", "discharged_at"]
    list_filter = ["ward"]
    search_fields = ["mrn", "family_name", "given_name"]
    raw_id_fields = ["ward", "bed", "tracked_object"]


class BagEventInline(admin.TabularInline[BagEvent, InfusionBag]):
    """The custody timeline, read only: it is written by infusion.bags, never by hand."""

    model = BagEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "action", "from_status", "to_status", "user", "zone", "rate_ml_h", "note")

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(InfusionBag)
class InfusionBagAdmin(admin.ModelAdmin[InfusionBag]):
    """Bags are changed through the nurses' actions (their status follows the transition table), so the
    admin shows them read only apart from labelling fields."""

    list_display = ["pk", "drug", "patient", "ward", "status", "rate_ml_h", "expires_at", "updated_at"]
    list_filter = ["status", "ward"]
    search_fields = ["drug", "lot", "patient__mrn", "patient__family_name", "tracked_object__tag__tag_id"]
    raw_id_fields = ["tracked_object", "patient", "ward", "started_by"]
    readonly_fields = ["status", "infused_ml_before", "segment_started_at", "started_at", "ended_at",
                       "arrived_bedside_at", "started_by", "rate_ml_h", "version", "created_at", "updated_at"]
    inlines = [BagEventInline]


@admin.register(AdtMessage)
class AdtMessageAdmin(admin.ModelAdmin[AdtMessage]):
    """The ADT feed's log, read only: written by infusion.services.adt_apply for every message received."""

    list_display = ["received_at", "event", "control_id", "mrn", "outcome", "ack_code", "sender"]
    list_filter = ["outcome", "event", "ack_code"]
    search_fields = ["control_id", "mrn", "raw"]
    date_hierarchy = "received_at"
    readonly_fields = ["control_id", "event", "message_at", "received_at", "sender", "mrn", "outcome", "ack_code",
                       "error", "raw"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

