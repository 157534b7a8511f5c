"""Patients as the ADT feed (or a nurse) places them: ward and bed."""

from __future__ import annotations

from django.db import models

from floorplans.models import Zone
from tracking.models import TrackedObject


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", "female"
        MALE = "M", "male"
        OTHER = "O", "other"
        UNKNOWN = "U", "unknown"

    mrn = models.CharField("medical record number", max_length=32, unique=True)
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    ward = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="ward_patients",
        limit_choices_to={"kind": "ward"},
    )
    bed = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="bed_patients",
        limit_choices_to={"kind": "bed"},
    )
    admitted_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    tracked_object = models.OneToOneField(
        TrackedObject, null=True, blank=True, on_delete=models.SET_NULL, related_name="patient"
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["bed"], condition=models.Q(discharged_at__isnull=True, bed__isnull=False),
                name="one_admitted_patient_per_bed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"
