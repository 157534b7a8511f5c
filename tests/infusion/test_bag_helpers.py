"""Builders for the bag tests (no tests here): the small test ward with two admitted patients, bags in a
given status, and a tag placed in a zone. A fixed clock T0; every service call passes `at`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor, Zone
from infusion import bags
from infusion.bags import Place
from infusion.models import InfusionBag, Patient
from infusion.services import patient_admit
from tracking.models import CurrentLocation, Method, Tag

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
S = InfusionBag.Status


@dataclass
class Ward:
    floor: Floor
    ward: Zone
    corridor: Zone
    bed_a: Zone  # Alice's bed, 101A
    bed_b: Zone  # Bob's bed, 102A
    bed_free: Zone  # 102B, empty
    stairs: Zone  # off the ward
    alice: Patient
    bob: Patient


def ward_setup(floor: Floor) -> Ward:
    def z(code: str) -> Zone:
        return Zone.objects.get(floor=floor, code=code)

    alice = patient_admit(mrn="MRN-A", family_name="Able", given_name="Alice", bed=z("3N-101-A"), admitted_at=T0)
    bob = patient_admit(mrn="MRN-B", family_name="Baker", given_name="Bob", bed=z("3N-102-A"), admitted_at=T0)
    return Ward(floor, z("3N"), z("3N-C"), z("3N-101-A"), z("3N-102-A"), z("3N-102-B"), z("ST-1"), alice, bob)


def bag_make(
    w: Ward, *, status: str = S.REGISTERED, tag_id: str = "E200BAG0001", patient: Patient | None = None,
    user: User | None = None, volume_ml: float = 500.0, rate_ml_h: float = 100.0, at: datetime = T0,
    expires_at: datetime | None = None,
) -> InfusionBag:
    """A bag for Alice (or `patient`) moved through the real services to `status`, at `at`."""
    patient = patient or w.alice
    bag = bags.bag_register(tag_id=tag_id, patient_mrn=patient.mrn, drug="Heparin", concentration="50 units/mL",
                            volume_ml=volume_ml, ordered_rate_ml_h=rate_ml_h, lot="LOT-7",
                            expires_at=expires_at or at + timedelta(days=2), user=user, at=at)
    paths: dict[str, list[str]] = {
        S.REGISTERED: [], S.DISPENSED: ["dispense"], S.ON_WARD: ["dispense", "ward"],
        S.AT_BEDSIDE: ["dispense", "ward", "bed"], S.INFUSING: ["dispense", "ward", "bed", "start"],
        S.PAUSED: ["dispense", "ward", "bed", "start", "pause"],
        S.COMPLETED: ["dispense", "ward", "bed", "start", "complete"],
        S.DISCONTINUED: ["dispense", "ward", "bed", "start", "discontinue"],
        S.RETURNED: ["dispense", "return"], S.WASTED: ["dispense", "waste"],
    }
    path = paths[status]
    assert patient.bed_id is not None
    own_bed = Zone.objects.get(pk=patient.bed_id)
    for step in path:
        if step == "dispense":
            bags.bag_dispense(bag_id=bag.pk, user=user, at=at)
        elif step == "ward":
            bags.bag_location_changed(bag_id=bag.pk, place=Place.WARD, previous=None, zone_id=w.corridor.pk, at=at)
        elif step == "bed":
            bags.bag_location_changed(bag_id=bag.pk, place=Place.OWN_BED, previous=Place.WARD, zone_id=own_bed.pk,
                                      at=at)
        elif step == "start":
            bags.bag_start(bag_id=bag.pk, user=user, bed=own_bed, at=at)
        elif step == "pause":
            bags.bag_pause(bag_id=bag.pk, user=user, at=at)
        elif step == "complete":
            bags.bag_complete(bag_id=bag.pk, user=user, at=at)
        elif step == "discontinue":
            bags.bag_discontinue(bag_id=bag.pk, user=user, note="order stopped", at=at)
        elif step == "return":
            bags.bag_return(bag_id=bag.pk, user=user, at=at)
        elif step == "waste":
            bags.bag_waste(bag_id=bag.pk, user=user, note="dropped", at=at)
    bag.refresh_from_db()
    assert bag.status == status
    return bag


def locate(tag_id: str, zone: Zone, *, at: datetime = T0) -> CurrentLocation:
    """The tag's current location: the centre of `zone`, seen at `at`."""
    centre = zone.polygon.centroid
    location, _ = CurrentLocation.objects.update_or_create(tag=Tag.objects.get(tag_id=tag_id), defaults={
        "floor_id": zone.floor_id, "zone": zone, "position": Point(centre.x, centre.y, srid=FLOOR_SRID),
        "accuracy_m": 0.5, "method": Method.MULTILATERATION, "seen_at": at, "updated_at": at,
    })
    return location
