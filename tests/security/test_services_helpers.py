"""Shared set-up for the infant-protection service tests: the small test ward with a mother in bed 101A,
band tags that report their strap, enrolled infants, a second security officer, and the escort timer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import User

from accounts import roles
from accounts.services import user_create_with_role
from floorplans.models import Floor, Zone
from infusion.models import Patient
from infusion.services import patient_admit
from security.models import Infant, Mother, TagState
from security.services import infant_enrol, mother_register
from tracking.models import Tag

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Ward:
    floor: Floor
    ward: Zone
    room101: Zone
    room102: Zone
    corridor: Zone
    ann: Patient  # in bed 101A
    bea: Patient  # in bed 102A


def ward_setup(floor: Floor) -> Ward:
    zones = {zone.code: zone for zone in Zone.objects.filter(floor=floor)}
    ann = patient_admit(mrn="MAT-A", family_name="Jones", given_name="Ann", bed=zones["3N-101-A"], sex="F")
    bea = patient_admit(mrn="MAT-B", family_name="Brown", given_name="Bea", bed=zones["3N-102-A"], sex="F")
    return Ward(floor=floor, ward=zones["3N"], room101=zones["3N-101"], room102=zones["3N-102"],
                corridor=zones["3N-C"], ann=ann, bea=bea)


def band(tag_id: str, strap: str = TagState.Strap.CLOSED, *, at: datetime = T0) -> Tag:
    """A UWB band tag that has reported its strap (as the rules record it from the tag's status)."""
    tag, _ = Tag.objects.get_or_create(tag_id=tag_id, defaults={"tech": Tag.Tech.UWB})
    TagState.objects.update_or_create(tag=tag, defaults={
        "strap": strap, "updated_at": at, "strap_closed_at": at if strap == TagState.Strap.CLOSED else None})
    return tag


def mother_make(w: Ward, tag_id: str = "A001", *, patient: Patient | None = None) -> Mother:
    patient = patient or w.ann
    return mother_register(tag_id=tag_id, name=f"{patient.given_name} {patient.family_name}", ward_id=w.ward.pk,
                           patient_id=patient.pk, user=None)


def infant_make(w: Ward, tag_id: str = "B001", *, name: str = "Baby Jones", mother: Mother | None = None,
                user: User | None = None) -> Infant:
    band(tag_id)
    return infant_enrol(tag_id=tag_id, name=name, ward_id=w.ward.pk, mother_id=mother.pk if mother else None,
                        born_at=T0, user=user, at=T0)


def officer(username: str) -> User:
    """Another security officer (the fixture gives one; a race needs two)."""
    return user_create_with_role(username=username, role=roles.SECURITY, password=f"pw-{username}")
