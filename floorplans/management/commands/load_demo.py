"""manage.py load_demo: the demo hospital (floors, readers, plans, users, equipment, patients, infusion bags).

Safe to run again: floors are re-imported by code, plans redrawn only when a floor changed, users,
tags, assets and patients updated in place; a demo bag is registered once (a tag that already carries a
bag is left as it is, so bags are never duplicated and what happened to them in the demo stays), until it
is DEMO_BAG_RENEW_AFTER old: then it is ended (completed or returned, its timeline kept) and its tag put on
a fresh bag, so a demo started days later still shows infusions in progress.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_LOGINS, DEMO_MACHINE
from accounts.services import roles_sync, token_for, user_create_with_role
from floorplans.demo.inventory import DemoBag, demo_assets, demo_bags, demo_patients, demo_wearers
from floorplans.demo.layout import demo_floors
from floorplans.models import Floor, Zone
from floorplans.plans import plan_render_for_floor
from floorplans.services import floor_file_check, floor_import
from infusion.bags import (
    Place,
    bag_complete,
    bag_dispense,
    bag_location_changed,
    bag_register,
    bag_return,
    bag_start,
)
from infusion.models import InfusionBag, Patient
from infusion.services import patient_admit
from security.demo import security_demo_load
from tracking.assets.demo import assets_demo_load, handheld_demo_load
from tracking.services import asset_register, tracked_object_tag

DEMO_BAG_RENEW_AFTER = timedelta(hours=6)

class Command(BaseCommand):
    help = ("Load (or refresh) the demo hospital: Riverside General, three floors, users, equipment, patients, "
            "infusion bags.")

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
        self.stdout.write(f"infant protection: {security_demo_load()}")
        self.stdout.write(f"equipment PAR levels: {len(assets_demo_load())}")
        handheld = handheld_demo_load()
        if handheld is not None:
            self.stdout.write(f"audit sweeps: handheld reader {handheld.code} at {handheld.address} (4 West)")
        for login in DEMO_LOGINS:
            user_create_with_role(username=login["username"], role=login["role"], password=login["password"],
                                  first_name=login["first_name"], last_name=login["last_name"])
        machine = user_create_with_role(username=DEMO_MACHINE["username"], role=DEMO_MACHINE["role"], password=None)
        self.stdout.write(f"API token of '{machine.username}': {token_for(user=machine)}")
        specs = demo_bags(documents, patients, now=timezone.now())
        added = self._bags(specs, zones)
        self.stdout.write(f"infusion bags: {len(specs)} demo bags, {added} registered now")

    def _bags(self, specs: list[DemoBag], zones: dict[str, Zone]) -> int:
        """Register, dispense and (for most) start the demo bags that are not on file yet, back-dated so the
        board shows progress. Returns how many were registered."""
        nurse = User.objects.filter(username=DEMO_LOGINS[0]["username"]).first()
        added = 0
        with transaction.atomic():
            for spec in specs:
                existing = InfusionBag.objects.filter(tracked_object__tag__tag_id=spec.tag_id).first()
                if existing is not None:
                    if existing.created_at > timezone.now() - DEMO_BAG_RENEW_AFTER:
                        continue  # registered by a recent run: what happened to it in the demo stays
                    self._retire(existing)  # a demo started a day later would show only empty bags
                bed = zones[spec.bed]
                if not Patient.objects.filter(mrn=spec.mrn, bed=bed, discharged_at__isnull=True).exists():
                    continue  # the patient moved (ADT) since: no bag for a bed she is not in
                at_bed = spec.started_at - timedelta(minutes=5) if spec.started_at else timezone.now() - timedelta(
                    minutes=10)
                bag = bag_register(tag_id=spec.tag_id, patient_mrn=spec.mrn, drug=spec.drug,
                                   concentration=spec.concentration, volume_ml=spec.volume_ml,
                                   ordered_rate_ml_h=spec.ordered_rate_ml_h, lot=spec.lot, expires_at=spec.expires_at,
                                   user=None, tech=spec.tech, at=at_bed - timedelta(minutes=40))
                bag_dispense(bag_id=bag.pk, user=None, at=at_bed - timedelta(minutes=30))
                # carried to the bed (what the location rules do once the pipeline sees the tag there)
                bag_location_changed(bag_id=bag.pk, place=Place.OWN_BED, previous=None, zone_id=bed.pk,
                                     floor_id=bed.floor_id, at=at_bed)
                if spec.stage == "infusing" and spec.started_at is not None:
                    bag_start(bag_id=bag.pk, user=nurse, bed=bed, at=spec.started_at)
                added += 1
        return added

    @staticmethod
    def _retire(bag: InfusionBag) -> None:
        """End an old demo bag as the ward would (its timeline and alerts stay); its tag goes on a new bag."""
        note = "demo: bag replaced by a new one"
        if bag.status in (InfusionBag.Status.INFUSING, InfusionBag.Status.PAUSED):
            bag_complete(bag_id=bag.pk, user=None, note=note)
        elif bag.status not in InfusionBag.ENDED:
            bag_return(bag_id=bag.pk, user=None, note=note)

    def _floor(self, document: dict[str, Any], *, redraw: bool) -> Floor:
        floor_file = floor_file_check(document)
        floor = floor_import(floor_file=floor_file).floor
        drawn = plan_render_for_floor(floor=floor, force=redraw)
        self.stdout.write(
            f"floor {floor.code} '{floor.name}': {floor.zones.count()} zones, {floor.doors.count()} doors, "
            f"{floor.readers.count()} readers; plan {'drawn' if drawn else 'unchanged'}"
        )
        return floor
