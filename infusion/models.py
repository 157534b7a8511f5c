"""Patients as the ADT feed (or a nurse) places them: ward and bed; their infusion bags and custody timeline."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from floorplans.models import Floor, Zone
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


class InfusionBag(models.Model):
    """One IV bag for one patient, from pharmacy registration to its end (completed, returned, wasted...).

    `status` moves only along TRANSITIONS (infusion.bags enforces it). Location moves (dispensed → on_ward →
    at_bedside and back to on_ward) come from the location rules; the others from people. Progress is
    `infused_ml_before` (closed segments) plus the open segment from `segment_started_at` at `rate_ml_h`.
    """

    class Status(models.TextChoices):
        REGISTERED = "registered"
        DISPENSED = "dispensed", "dispensed (in transport)"
        ON_WARD = "on_ward", "on the ward"
        AT_BEDSIDE = "at_bedside", "at the bedside"
        INFUSING = "infusing"
        PAUSED = "paused"
        COMPLETED = "completed"
        DISCONTINUED = "discontinued"
        RETURNED = "returned", "returned to pharmacy"
        WASTED = "wasted"

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.REGISTERED: (Status.DISPENSED, Status.RETURNED, Status.WASTED),
        Status.DISPENSED: (Status.ON_WARD, Status.RETURNED, Status.WASTED),
        Status.ON_WARD: (Status.AT_BEDSIDE, Status.INFUSING, Status.RETURNED, Status.WASTED),
        Status.AT_BEDSIDE: (Status.ON_WARD, Status.INFUSING, Status.RETURNED, Status.WASTED),
        Status.INFUSING: (Status.PAUSED, Status.COMPLETED, Status.DISCONTINUED),
        Status.PAUSED: (Status.INFUSING, Status.COMPLETED, Status.DISCONTINUED),
        Status.COMPLETED: (),
        Status.DISCONTINUED: (Status.RETURNED, Status.WASTED),
        Status.RETURNED: (),
        Status.WASTED: (),
    }
    # still in the ward's hands: the location rules and the board look at these
    ACTIVE: ClassVar[tuple[str, ...]] = (
        Status.DISPENSED, Status.ON_WARD, Status.AT_BEDSIDE, Status.INFUSING, Status.PAUSED,
    )
    RUNNING: ClassVar[tuple[str, ...]] = (Status.INFUSING, Status.PAUSED)  # hung on the patient
    ENDED: ClassVar[tuple[str, ...]] = (Status.COMPLETED, Status.DISCONTINUED, Status.RETURNED, Status.WASTED)

    tracked_object = models.OneToOneField(
        TrackedObject, on_delete=models.PROTECT, related_name="infusion_bag", limit_choices_to={"kind": "bag"},
        help_text="the bag as the map sees it; its tag is the bag's RFID/BLE label",
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="bags")
    ward = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="ward_bags",
        limit_choices_to={"kind": "ward"}, help_text="the patient's ward when the bag was dispensed",
    )
    drug = models.CharField(max_length=200)
    concentration = models.CharField(max_length=100, blank=True, help_text='e.g. "4 mg/mL"')
    volume_ml = models.FloatField(validators=[MinValueValidator(0.1)])
    ordered_rate_ml_h = models.FloatField(validators=[MinValueValidator(0.1)])
    rate_ml_h = models.FloatField(null=True, blank=True, help_text="current rate (set when started)")
    lot = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REGISTERED, db_index=True)
    infused_ml_before = models.FloatField(default=0.0, help_text="volume infused in closed segments")
    segment_started_at = models.DateTimeField(null=True, blank=True, help_text="set only while infusing")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    arrived_bedside_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=0, help_text="bumped by every change")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "infusion bag"
        indexes = [models.Index(fields=["ward", "status"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(volume_ml__gt=0), name="bag_volume_positive"),
            models.CheckConstraint(
                condition=models.Q(infused_ml_before__gte=0), name="bag_infused_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"bag {self.pk} {self.drug} for {self.patient_id}"

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class BagEvent(models.Model):
    """One step of a bag's custody timeline: who did what, when and where."""

    class Action(models.TextChoices):
        REGISTERED = "registered"
        DISPENSED = "dispensed"
        ARRIVED_WARD = "arrived_ward", "arrived on the ward"
        LEFT_WARD = "left_ward", "left the ward"
        AT_BEDSIDE = "at_bedside", "arrived at the bedside"
        LEFT_BEDSIDE = "left_bedside", "left the bedside"
        STARTED = "started"
        PAUSED = "paused"
        RESUMED = "resumed"
        RATE_CHANGED = "rate_changed", "rate changed"
        COMPLETED = "completed"
        DISCONTINUED = "discontinued"
        RETURNED = "returned"
        WASTED = "wasted"
        ALARM = "alarm"
        ALARM_CLEARED = "alarm_cleared", "alarm cleared"

    bag = models.ForeignKey(InfusionBag, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=16, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    floor = models.ForeignKey(Floor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    x_m = models.FloatField(null=True, blank=True)
    y_m = models.FloatField(null=True, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    rate_ml_h = models.FloatField(null=True, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["bag", "at"])]

    def __str__(self) -> str:
        return f"bag {self.bag_id} {self.action} at {self.at:%Y-%m-%d %H:%M:%S}"
