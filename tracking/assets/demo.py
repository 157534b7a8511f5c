"""Demo PAR levels for the demo hospital (load_demo calls assets_demo_load after the floors and equipment).

Each ward's equipment store should hold some of its fleet (floorplans/demo/inventory.py gives every ward
8 infusion pumps, 3 syringe pumps, 4 monitors, 4 wheelchairs...). Levels on zones missing from the database
are skipped, so the loader also works on a partial demo. Running it again updates the levels in place.
"""

from __future__ import annotations

from typing import Final

from django.contrib.gis.geos import Point

from floorplans.demo.devices import LLRP_HOST
from floorplans.demo.layout import FIRST_LLRP_PORT
from floorplans.models import Zone
from readers.models import Reader
from tracking.assets.mobile_readers import MOBILE_OPTION
from tracking.assets.services_rules import parlevel_save
from tracking.models import ParLevel

# biomedical engineering's handheld UHF reader for audit sweeps on 4 West (run_emulators carries it round the
# floor's stores, utilities and rooms); on the port just below the installed readers'
DEMO_HANDHELD = ("HH-4W", "Handheld RFID reader (biomedical engineering)", "4W", f"{LLRP_HOST}:{FIRST_LLRP_PORT - 1}")

# zone code, ward code, category, target, critical
DEMO_PAR_LEVELS: Final[tuple[tuple[str, str, str, int, int], ...]] = (
    ("4W-EQUIP", "4W", "infusion_pump", 6, 3),
    ("4W-EQUIP", "4W", "syringe_pump", 2, 1),
    ("4W-EQUIP", "4W", "wheelchair", 3, 1),
    ("2E-EQUIP", "2E", "infusion_pump", 4, 2),
    ("2E-EQUIP", "2E", "monitor", 2, 1),
)


def assets_demo_load() -> list[ParLevel]:
    """Create or update the demo PAR levels; returns those on file now."""
    codes = {code for zone, ward, *_ in DEMO_PAR_LEVELS for code in (zone, ward)}
    zones = {z.code: z for z in Zone.objects.filter(code__in=codes)}
    levels = []
    for zone_code, ward_code, category, target, critical in DEMO_PAR_LEVELS:
        zone = zones.get(zone_code)
        if zone is None:
            continue
        existing = ParLevel.objects.filter(zone=zone, category=category).values_list("pk", flat=True).first()
        levels.append(parlevel_save(par_id=existing, zone=zone, category=category, target_count=target,
                                    critical_count=critical, ward=zones.get(ward_code)))
    return levels


def handheld_demo_load() -> Reader | None:
    """The demo's handheld reader, marked mobile (never a receiver of the location pipeline); None without 4W."""
    code, name, ward_code, address = DEMO_HANDHELD
    ward = Zone.objects.filter(code=ward_code, kind=Zone.Kind.WARD).select_related("floor").first()
    if ward is None:
        return None
    spot = ward.polygon.point_on_surface
    reader, _ = Reader.objects.update_or_create(code=code, defaults={
        "name": name, "kind": Reader.Kind.LLRP_READER, "protocol": "rfid_llrp", "address": address,
        "floor": ward.floor, "position": Point(spot.x, spot.y, srid=spot.srid), "options": {MOBILE_OPTION: True},
        "enabled": True,
    })
    return reader
