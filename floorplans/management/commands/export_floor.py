"""manage.py export_floor FLOOR: write a floor as floor GeoJSON (or WGS84 GeoJSON for GIS tools)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from floorplans.models import Floor
from floorplans.selectors import floor_export


class Command(BaseCommand):
    help = "Export a floor (by id, or SITE/BUILDING/FLOOR codes) as GeoJSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("floor", help="floor id, or codes like RGH/MAIN/L4")
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
        parser.add_argument("--wgs84", action="store_true", help="lon/lat through the floor's geo-reference")

    def handle(self, *args: Any, **options: Any) -> None:
        floor = floor_by_reference(options["floor"])
        try:
            document = floor_export(floor=floor, wgs84=options["wgs84"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(document, indent=1, ensure_ascii=False)
        if options["output"]:
            options["output"].write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"wrote {len(document['features'])} features to {options['output']}")
        else:
            self.stdout.write(text)


def floor_by_reference(reference: str) -> Floor:
    """A floor by its id or by 'SITE/BUILDING/FLOOR' codes; CommandError names the known floors."""
    floors = Floor.objects.select_related("building__site")
    parts = reference.split("/")
    found = (
        floors.filter(pk=int(reference)).first() if reference.isdigit()
        else floors.filter(building__site__code=parts[0], building__code=parts[1], code=parts[2]).first()
        if len(parts) == 3 else None
    )
    if found is None:
        known = ", ".join(f"{f.pk} = {f.building.site.code}/{f.building.code}/{f.code}" for f in floors)
        raise CommandError(f"no floor {reference!r}; known floors: {known or 'none'}")
    return found
