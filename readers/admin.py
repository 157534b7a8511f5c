from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from floorplans.admin import GEOMETRY_AS_TEXT
from readers.models import Antenna, Reader, ReaderHealth


class AntennaInline(admin.TabularInline[Antenna, Reader]):
    model = Antenna
    extra = 0
    raw_id_fields = ["zone", "door"]
    formfield_overrides = GEOMETRY_AS_TEXT


class ReaderHealthInline(admin.StackedInline[ReaderHealth, Reader]):
    model = ReaderHealth
    can_delete = False
    fields = readonly_fields = (
        "state", "state_since", "last_read_at", "reads_per_s", "reads_total", "drops", "last_error", "updated_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Reader | None = None) -> bool:
        return False


@admin.register(Reader)
class ReaderAdmin(admin.ModelAdmin[Reader]):
    list_display = ["code", "name", "kind", "protocol", "floor", "address", "topic", "enabled", "health__state"]
    list_filter = ["floor", "kind", "protocol", "enabled"]
    search_fields = ["code", "name", "address", "topic"]
    inlines = [AntennaInline, ReaderHealthInline]
    formfield_overrides = GEOMETRY_AS_TEXT
