"""Writes for patients: admit into a bed (the ADT feed and the ward UI both come through here)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from floorplans.models import Zone
from infusion.exceptions import BedOccupied
from infusion.models import Patient


@transaction.atomic
def patient_admit(
    *,
    mrn: str,
    family_name: str,
    given_name: str,
    bed: Zone,
    birth_date: date | None = None,
    sex: str = Patient.Sex.UNKNOWN,
    admitted_at: datetime | None = None,
) -> Patient:
    """Admit (or move) the patient with this MRN into `bed`; the bed must be free."""
    if bed.kind != Zone.Kind.BED:
        raise ValueError(f"{bed.code} is a {bed.kind}, not a bed")
    Zone.objects.select_for_update().get(pk=bed.pk)  # serialize admissions into the same bed
    occupant = Patient.objects.filter(bed=bed, discharged_at__isnull=True).exclude(mrn=mrn).first()
    if occupant is not None:
        raise BedOccupied(
            f"bed {bed.name} is occupied by {occupant.family_name}, {occupant.given_name} ({occupant.mrn})"
        )
    patient, _ = Patient.objects.update_or_create(
        mrn=mrn,
        defaults={
            "family_name": family_name,
            "given_name": given_name,
            "birth_date": birth_date,
            "sex": sex,
            "bed": bed,
            "ward": bed.ward,
            "discharged_at": None,
        },
    )
    if patient.admitted_at is None:
        patient.admitted_at = admitted_at or timezone.now()
        patient.save(update_fields=["admitted_at"])
    return patient
