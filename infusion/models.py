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
    visit_number = models.CharField(max_length=32, blank=True, help_text="PV1-19 of the current stay")
    adt_message_at = models.DateTimeField(
        null=True, blank=True, help_text="MSH-7 of the last ADT message applied: older ones arrive out of order"
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


class AdtMessage(models.Model):
    """Every HL7 ADT message received, with what became of it: the feed's audit log."""

    class Outcome(models.TextChoices):
        APPLIED = "applied"
        IGNORED = "ignored", "ignored (out of order or duplicate)"
        REJECTED = "rejected"

    control_id = models.CharField("MSH-10 message control id", max_length=64, blank=True, db_index=True)
    event = models.CharField("trigger event", max_length=8, blank=True, help_text="A01, A02, A03, A08...")
    message_at = models.DateTimeField(null=True, blank=True, help_text="MSH-7")
    received_at = models.DateTimeField(db_index=True)
    sender = models.CharField(max_length=200, blank=True, help_text="peer address of the MLLP connection")
    mrn = models.CharField(max_length=32, blank=True, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    ack_code = models.CharField(max_length=2, help_text="AA, AE or AR as sent back")
    error = models.TextField(blank=True)
    raw = models.TextField()

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "ADT message"

    def __str__(self) -> str:
        return f"{self.event or '?'} {self.control_id} ({self.outcome})"
