"""Administrators look after door controllers, mothers, infants, escorts and Code Pink incidents here.

The audit records (door commands, Code Pink timelines, match checks, the location access log) are read
only. An infant's protection state and a Code Pink's state change through their services (the two-person
discharge, resolve with a resolution), so those fields are read only too.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from hospital_iot.admin_base import ReadOnlyAdmin
from security.models import (
    CodePink,
    CodePinkEvent,
    DoorCommand,
    DoorController,
    EscortPass,
    Infant,
    LocationAccess,
    MatchCheck,
    Mother,
    TagState,
)


@admin.register(DoorController)
class DoorControllerAdmin(admin.ModelAdmin[DoorController]):
    list_display = ["code", "name", "kind", "floor", "held_open_s", "online", "locked", "door_open", "forced", "held",
                    "state_at"]
    list_filter = ["kind", "floor", "online", "locked"]
    search_fields = ["code", "name", "topic"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "floor", "topic"]}),
        ("Times", {"fields": ["egress_delay_s", "egress_push_s", "held_open_s"],
                   "description": "Set the same times in the controller itself; the emulator takes them from here."}),
        ("Last reported state", {"fields": ["online", "locked", "door_open", "forced", "held_open", "held", "egress",
                                            "egress_release_at", "state_at"]}),
    ]
    readonly_fields = ["online", "locked", "door_open", "forced", "held_open", "held", "egress", "egress_release_at",
                       "state_at"]


@admin.register(DoorCommand)
class DoorCommandAdmin(ReadOnlyAdmin[DoorCommand]):
    list_display = ["sent_at", "controller", "command", "reason", "requested_by", "code_pink", "acked_at", "error"]
    list_filter = ["command", "controller"]
    search_fields = ["controller__code", "reason"]
    date_hierarchy = "sent_at"


@admin.register(TagState)
class TagStateAdmin(admin.ModelAdmin[TagState]):
    list_display = ["tag", "strap", "battery_pct", "battery_mv", "strap_closed_at", "updated_at"]
    list_filter = ["strap"]
    search_fields = ["tag__tag_id"]


@admin.register(Mother)
class MotherAdmin(admin.ModelAdmin[Mother]):
    list_display = ["__str__", "tracked_object", "patient"]
    search_fields = ["tracked_object__name", "tracked_object__tag__tag_id", "patient__mrn", "patient__family_name"]
    raw_id_fields = ["tracked_object", "patient"]


class EscortPassInline(admin.TabularInline[EscortPass, Infant]):
    model = EscortPass
    extra = 0
    can_delete = False
    fields = readonly_fields = ("destination", "reason", "authorized_by", "started_at", "expires_at", "ended_at",
                                "ended_by", "end_note")

    def has_add_permission(self, request: HttpRequest, obj: Infant | None = None) -> bool:
        return False


@admin.register(Infant)
class InfantAdmin(admin.ModelAdmin[Infant]):
    list_display = ["__str__", "state", "ward", "mother", "enrolled_at", "discharged_at"]
    list_filter = ["state", "ward"]
    search_fields = ["tracked_object__name", "tracked_object__tag__tag_id"]
    raw_id_fields = ["tracked_object", "mother"]
    readonly_fields = ["state", "enrolled_at", "enrolled_by", "discharge_reason", "discharge_requested_by",
                       "discharge_requested_at", "discharged_by", "discharged_at"]
    inlines = [EscortPassInline]


@admin.register(EscortPass)
class EscortPassAdmin(admin.ModelAdmin[EscortPass]):
    list_display = ["infant", "destination", "authorized_by", "started_at", "expires_at", "ended_at", "ended_by"]
    list_filter = ["destination"]
    search_fields = ["infant__tracked_object__name", "destination"]
    readonly_fields = ["infant", "authorized_by", "started_at", "ended_at", "ended_by"]
    date_hierarchy = "started_at"


class CodePinkEventInline(admin.TabularInline[CodePinkEvent, CodePink]):
    model = CodePinkEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "action", "user", "note", "data")

    def has_add_permission(self, request: HttpRequest, obj: CodePink | None = None) -> bool:
        return False


@admin.register(CodePink)
class CodePinkAdmin(admin.ModelAdmin[CodePink]):
    list_display = ["started_at", "drill", "trigger", "building", "floor", "infant", "state", "resolved_at"]
    list_filter = ["state", "drill", "trigger"]
    readonly_fields = ["building", "floor", "infant", "trigger", "drill", "state", "alert", "started_at",
                       "started_by", "resolved_at", "resolved_by"]
    date_hierarchy = "started_at"
    inlines = [CodePinkEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started through code_pink_start (the console), which locks the doors


@admin.register(CodePinkEvent)
class CodePinkEventAdmin(ReadOnlyAdmin[CodePinkEvent]):
    list_display = ["at", "code_pink", "action", "user", "note"]
    list_filter = ["action"]
    date_hierarchy = "at"


@admin.register(MatchCheck)
class MatchCheckAdmin(ReadOnlyAdmin[MatchCheck]):
    list_display = ["at", "infant", "mother", "result", "how", "zone", "distance_m", "user", "alert"]
    list_filter = ["result", "how"]
    search_fields = ["infant__tracked_object__name", "mother__tracked_object__name"]
    date_hierarchy = "at"


@admin.register(LocationAccess)
class LocationAccessAdmin(ReadOnlyAdmin[LocationAccess]):
    list_display = ["at", "username", "infant", "tag_id", "via", "detail", "remote_addr"]
    list_filter = ["via"]
    search_fields = ["username", "tag_id", "infant__tracked_object__name"]
    date_hierarchy = "at"
