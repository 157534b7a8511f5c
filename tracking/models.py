"""Tags and the things that carry them: tracked objects, and assets (equipment) among them."""

from __future__ import annotations

from django.db import models

from floorplans.models import Zone


class Tag(models.Model):
    class Tech(models.TextChoices):
        RFID = "rfid", "UHF RFID"
        BLE = "ble", "BLE"
        UWB = "uwb", "UWB"

    tag_id = models.CharField(max_length=128, unique=True, help_text="EPC hex, BLE MAC/iBeacon id or UWB id")
    tech = models.CharField(max_length=8, choices=Tech.choices)
    model = models.CharField(max_length=100, blank=True)
    battery_pct = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["tag_id"]

    def __str__(self) -> str:
        return f"{self.tag_id} ({self.tech})"


class TrackedObject(models.Model):
    """Anything shown on the map: equipment, a staff badge, a patient band, an infant, an IV bag."""

    class Kind(models.TextChoices):
        ASSET = "asset"
        STAFF = "staff"
        PATIENT = "patient"
        INFANT = "infant"
        MOTHER = "mother"
        BAG = "bag", "infusion bag"
        OTHER = "other"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    tag = models.OneToOneField(Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracked_object")
    home_zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="home_objects",
        help_text="where it belongs: a staff member's ward station, an infant's mother's room, a pump's store",
    )

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} [{self.kind}]"


class Asset(models.Model):
    class Category(models.TextChoices):
        INFUSION_PUMP = "infusion_pump", "infusion pump"
        SYRINGE_PUMP = "syringe_pump", "syringe pump"
        MONITOR = "monitor", "patient monitor"
        VENTILATOR = "ventilator"
        WHEELCHAIR = "wheelchair"
        BED = "bed"
        DEFIBRILLATOR = "defibrillator"
        ECG = "ecg", "ECG machine"
        BLADDER_SCANNER = "bladder_scanner", "bladder scanner"
        FEEDING_PUMP = "feeding_pump", "feeding pump"
        OTHER = "other"

    class Status(models.TextChoices):
        AVAILABLE = "available"
        IN_USE = "in_use", "in use"
        NEEDS_CLEANING = "needs_cleaning", "needs cleaning"
        OUT_FOR_REPAIR = "out_for_repair", "out for repair"
        RETIRED = "retired"

    tracked_object = models.OneToOneField(TrackedObject, on_delete=models.CASCADE, related_name="asset")
    asset_number = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    make = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    serial_number = models.CharField(max_length=100, blank=True)
    department = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_assets",
        limit_choices_to={"kind": "ward"}, help_text="owning ward or department",
    )
    home_zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="home_assets")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    pm_due_on = models.DateField(null=True, blank=True, help_text="next preventive maintenance")
    pm_interval_days = models.PositiveIntegerField(null=True, blank=True)
    purchased_on = models.DateField(null=True, blank=True)
    purchase_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["asset_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["make", "model", "serial_number"],
                condition=~models.Q(serial_number=""),
                name="asset_serial_unique_per_model",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_number} {self.get_category_display()}"
