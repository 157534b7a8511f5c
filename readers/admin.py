from __future__ import annotations

from django.contrib import admin

from floorplans.admin import GEOMETRY_AS_TEXT
from readers.models import Antenna, Reader


class AntennaInline(admin.TabularInline[Antenna, Reader]):
    model = Antenna
    extra = 0
    raw_id_fields = ["zone", "door"]
    formfield_overrides = GEOMETRY_AS_TEXT


@admin.register(Reader)
class ReaderAdmin(admin.ModelAdmin[Reader]):
    list_display = ["code", "name", "kind", "protocol", "floor", "address", "topic", "enabled"]
    list_filter = ["floor", "kind", "protocol", "enabled"]
    search_fields = ["code", "name", "address", "topic"]
    inlines = [AntennaInline]
    formfield_overrides = GEOMETRY_AS_TEXT
