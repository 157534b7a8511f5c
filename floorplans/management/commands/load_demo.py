"""manage.py load_demo: the demo hospital (floors, readers, plans, users, equipment, patients).

Safe to run again: floors are re-imported by code, plans redrawn only when a floor changed, users,
tags, assets and patients updated in place.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_LOGINS, DEMO_MACHINE
from accounts.services import roles_sync, token_for, user_create_with_role
from floorplans.demo.inventory import demo_assets, demo_patients, demo_wearers
from floorplans.demo.layout import demo_floors
from floorplans.models import Floor, Zone
from floorplans.plans import plan_render_for_floor
from floorplans.services import floor_file_check, floor_import
from infusion.services import patient_admit
from tracking.services import asset_register, tracked_object_tag


class Command(BaseCommand):
    help = "Load (or refresh) the demo hospital: Riverside General, three floors, users, equipment, patients."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--redraw", action="store_true", help="redraw every plan image")

    def handle(self, *args: Any, **options: Any) -> None:
        documents = demo_floors()
        roles_sync()
        floors = [self._floor(document, redraw=options["redraw"]) for document in documents]
        zones = {zone.code: zone for zone in Zone.objects.filter(floor__in=floors)}
        today = timezone.localdate()
        with transaction.atomic():
            assets = demo_assets(documents, today=today)
            for asset in assets:
                fields = {k: getattr(asset, k) for k in asset.__slots__ if k not in {"department", "home_zone"}}
                asset_register(**fields, department=zones[asset.department], home_zone=zones[asset.home_zone])
            wearers = demo_wearers(documents)
            for wearer in wearers:
                tracked_object_tag(kind=wearer.kind, name=wearer.name, tag_id=wearer.tag_id, tech=wearer.tech,
                                   home_zone=zones[wearer.home_zone])
            patients = demo_patients(documents, today=today)
            for patient in patients:
                patient_admit(mrn=patient.mrn, family_name=patient.family_name, given_name=patient.given_name,
                              sex=patient.sex, birth_date=patient.birth_date, bed=zones[patient.bed])
        self.stdout.write(
            f"equipment: {len(assets)} assets with tags; {len(wearers)} staff badges and infant tags; "
            f"patients: {len(patients)} in beds"
        )
        for login in DEMO_LOGINS:
            user_create_with_role(username=login["username"], role=login["role"], password=login["password"],
                                  first_name=login["first_name"], last_name=login["last_name"])
        machine = user_create_with_role(username=DEMO_MACHINE["username"], role=DEMO_MACHINE["role"], password=None)
        self.stdout.write(f"API token of '{machine.username}': {token_for(user=machine)}")

    def _floor(self, document: dict[str, Any], *, redraw: bool) -> Floor:
        floor_file = floor_file_check(document)
        floor = floor_import(floor_file=floor_file).floor
        drawn = plan_render_for_floor(floor=floor, force=redraw)
        self.stdout.write(
            f"floor {floor.code} '{floor.name}': {floor.zones.count()} zones, {floor.doors.count()} doors, "
            f"{floor.readers.count()} readers; plan {'drawn' if drawn else 'unchanged'}"
        )
        return floor
