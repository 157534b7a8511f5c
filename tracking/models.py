"""Tags and the things that carry them: tracked objects, and assets (equipment) among them."""

from __future__ import annotations

from django.contrib.gis.db import models

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Door, Floor, Zone


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
    status_changed_at = models.DateTimeField(null=True, blank=True, help_text="when status last changed")
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


class Method(models.IntegerChoices):
    """How a position was obtained (the values of `tracking.localization.Method`, plus zone-level RFID)."""

    MULTILATERATION = 0, "multilateration"
    PROXIMITY = 1, "nearest receivers"
    TRACKED = 2, "Kalman track"
    SMOOTHED = 4, "smoothed track"  # 3 is the engine's NONE, never stored
    ZONE = 5, "RFID zone"


class CurrentLocation(models.Model):
    """Where a tag is now: one row per tag, upserted once per pipeline window.

    Every tag's row is rewritten about once a second, so the table carries as few indexes as its queries
    need: the primary key and (floor, zone). Position and seen_at are not indexed (a hospital has at most
    tens of thousands of rows; a scan is milliseconds) so most updates are heap-only (HOT) in pages kept
    half empty (fillfactor 50, migration 0005): bench-storage measured the upsert 1.5x faster so.

    The table is UNLOGGED (migration 0007): its rewrites write no WAL, which bench-storage measured as a
    third of a window's write (32,800 -> 49,000 fixes/s). It is derived state: what it holds is also in the
    history (every fix that moved or changed zone, and every still tag every 30 s). The price: after a
    PostgreSQL crash (not a clean restart) the table is empty, and it is not copied to streaming replicas.
    run_rtls refills it from the history at start (tracking.store.current.current_locations_restore), and
    the next read of each tag rewrites its row; a replica serving the API needs the history-based restore
    or `ALTER TABLE tracking_currentlocation SET LOGGED` (bench-storage then measures the logged cost).
    """

    tag = models.OneToOneField(Tag, primary_key=True, on_delete=models.CASCADE, related_name="location")
    floor = models.ForeignKey(Floor, on_delete=models.CASCADE, related_name="current_locations", db_index=False)
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="current_locations",
                             db_index=False)
    position = models.PointField(srid=FLOOR_SRID, spatial_index=False)
    accuracy_m = models.FloatField()
    method = models.SmallIntegerField(choices=Method.choices)
    stationary = models.BooleanField(default=False)
    seen_at = models.DateTimeField(help_text="time of the estimate")
    updated_at = models.DateTimeField(help_text="when the pipeline wrote it")

    class Meta:
        indexes = [models.Index(fields=["floor", "zone"])]

    def __str__(self) -> str:
        return f"{self.tag_id} @ floor {self.floor_id} zone {self.zone_id}"


class LocationHistory(models.Model):
    """Past positions, written on significant movement, zone change or every N s while still.

    The table is range-partitioned by `seen_at` (one partition per day, created ahead and dropped after
    the retention period by `tracking.store.partitions.history_partitions_maintain`); migration 0002 creates it
    with raw SQL, so Django does not manage it. Bulk-written with binary COPY.
    """

    id = models.BigAutoField(primary_key=True)
    tag = models.ForeignKey(Tag, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    floor = models.ForeignKey(Floor, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    zone = models.ForeignKey(Zone, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    position = models.PointField(srid=FLOOR_SRID)
    accuracy_m = models.FloatField()
    method = models.SmallIntegerField(choices=Method.choices)
    seen_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "tracking_locationhistory"
        verbose_name_plural = "location history"

    def __str__(self) -> str:
        return f"{self.tag_id} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ZonePresence(models.Model):
    """One stay of a tag in a zone: open while `exited_at` is null."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="presences")
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="presences")
    entered_at = models.DateTimeField()
    exited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at"]
        indexes = [models.Index(fields=["tag", "-entered_at"]), models.Index(fields=["zone", "exited_at"])]
        constraints = [
            models.UniqueConstraint(fields=["tag", "zone"], condition=models.Q(exited_at__isnull=True),
                                    name="presence_one_open_stay_per_tag_zone"),
            models.CheckConstraint(
                condition=models.Q(exited_at__isnull=True) | models.Q(exited_at__gte=models.F("entered_at")),
                name="presence_exit_after_entry",
            ),
        ]

    @property
    def dwell_s(self) -> float | None:
        return None if self.exited_at is None else (self.exited_at - self.entered_at).total_seconds()

    def __str__(self) -> str:
        return f"{self.tag_id} in {self.zone_id} from {self.entered_at:%H:%M:%S}"


class PortalCrossing(models.Model):
    """A tag passing through a door, from its `from_zone` side to its `to_zone` side (`in`) or back (`out`)."""

    class Direction(models.TextChoices):
        IN = "in", "from_zone to to_zone"
        OUT = "out", "to_zone to from_zone"

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="crossings")
    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="crossings")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    crossed_at = models.DateTimeField()

    class Meta:
        ordering = ["-crossed_at"]
        indexes = [models.Index(fields=["door", "-crossed_at"]), models.Index(fields=["tag", "-crossed_at"])]
        constraints = [models.UniqueConstraint(fields=["tag", "door", "crossed_at"], name="crossing_unique")]

    def __str__(self) -> str:
        return f"{self.tag_id} {self.direction} door {self.door_id} at {self.crossed_at:%H:%M:%S}"


class FloorAccess(models.Model):
    """Limits which floors the members of a group may watch (tracking.access): one floor, or every floor
    of one building. A user in no group with rows sees every floor; otherwise the floors of all their
    groups' rows together. Roles grant permissions; these rows scope them to places."""

    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="floor_access")
    floor = models.ForeignKey(Floor, null=True, blank=True, on_delete=models.CASCADE, related_name="access_rules")
    building = models.ForeignKey(
        "floorplans.Building", null=True, blank=True, on_delete=models.CASCADE, related_name="access_rules"
    )

    class Meta:
        verbose_name = "floor access rule"
        verbose_name_plural = "floor access rules"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(floor__isnull=False, building__isnull=True)
                | models.Q(floor__isnull=True, building__isnull=False),
                name="flooraccess_floor_xor_building",
            ),
            models.UniqueConstraint(fields=["group", "floor"], name="flooraccess_unique_group_floor"),
            models.UniqueConstraint(fields=["group", "building"], name="flooraccess_unique_group_building"),
        ]

    def __str__(self) -> str:
        place = f"floor {self.floor_id}" if self.floor_id else f"building {self.building_id}"
        return f"{self.group_id} may watch {place}"


class AssetStatusChange(models.Model):
    """Every change of an asset's status, and what made it (the periods utilization is computed from)."""

    class Source(models.TextChoices):
        MANUAL = "manual", "set by a user"
        RULE = "rule", "zone status rule"
        IMPORT = "import", "CSV import"
        AUDIT = "audit"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="status_changes")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=16, choices=Asset.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Asset.Status.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    rule = models.ForeignKey("StatusRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["asset", "at"])]

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.from_status or '-'} -> {self.to_status} at {self.at:%Y-%m-%d %H:%M}"


class StatusRule(models.Model):
    """Status from place: an asset that stays `after_s` in a zone of `zone_kind` (or in `zone`) takes
    `status`, if its category matches (blank: any) and its status is one of `from_statuses` (empty: any
    status but out for repair and retired, which only a person changes)."""

    name = models.CharField(max_length=100)
    zone_kind = models.CharField(max_length=32, choices=Zone.Kind.choices, blank=True)
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.CASCADE, related_name="status_rules")
    category = models.CharField(max_length=32, choices=Asset.Category.choices, blank=True)
    from_statuses = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Asset.Status.choices)
    after_s = models.PositiveIntegerField(default=0, help_text="how long the asset must stay before it applies")
    enabled = models.BooleanField(default=True)
    priority = models.SmallIntegerField(default=0, help_text="higher wins where several rules match")

    class Meta:
        ordering = ["-priority", "name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(zone_kind="") | models.Q(zone__isnull=False),
                                   name="statusrule_zone_or_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class ParLevel(models.Model):
    """How many available assets of a category a zone should hold (target) and must not fall below (critical)."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="par_levels")
    category = models.CharField(max_length=32, choices=Asset.Category.choices)
    target_count = models.PositiveIntegerField()
    critical_count = models.PositiveIntegerField()
    ward = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             limit_choices_to={"kind": "ward"}, help_text="owning ward, told when below critical")

    class Meta:
        ordering = ["zone", "category"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "category"], name="parlevel_unique_zone_category"),
            models.CheckConstraint(condition=models.Q(critical_count__lte=models.F("target_count")),
                                   name="parlevel_critical_le_target"),
        ]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.category}: {self.critical_count}/{self.target_count}"


class ForbiddenZone(models.Model):
    """Where assets must not go (anti-theft): a zone, or every zone of a kind (exit, loading dock...),
    for one category or all (blank)."""

    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    zone_kind = models.CharField(max_length=32, choices=Zone.Kind.choices, blank=True)
    category = models.CharField(max_length=32, choices=Asset.Category.choices, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(zone_kind="") | models.Q(zone__isnull=False),
                                   name="forbiddenzone_zone_or_kind"),
        ]

    def __str__(self) -> str:
        return f"forbidden: {self.zone_id or self.zone_kind} for {self.category or 'all'}"


class Audit(models.Model):
    """An asset audit of a department or a set of zones: hands-free (from what the RTLS saw) or a handheld
    sweep (reads of a mobile RFID reader or an uploaded reads file while the session runs)."""

    class Kind(models.TextChoices):
        HANDS_FREE = "hands_free", "hands-free"
        HANDHELD = "handheld", "handheld sweep"

    class State(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"
        CANCELLED = "cancelled"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    department = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   limit_choices_to={"kind": "ward"})
    zones = models.ManyToManyField(Zone, blank=True, related_name="+")
    seen_within_h = models.PositiveIntegerField(default=24, help_text="found = seen in place within this")
    missing_after_days = models.PositiveIntegerField(default=3, help_text="missing = seen nowhere for this")
    reader = models.CharField(max_length=100, blank=True, help_text="handheld: the mobile reader's code")
    started_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} audit {self.started_at:%Y-%m-%d %H:%M}"


class AuditItem(models.Model):
    class Result(models.TextChoices):
        FOUND = "found"
        MISPLACED = "misplaced", "misplaced (seen elsewhere)"
        MISSING = "missing"
        NOT_SEEN = "not_seen", "not seen here lately"
        UNEXPECTED = "unexpected", "found here, belongs elsewhere"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="items")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="audit_items")
    result = models.CharField(max_length=16, choices=Result.choices)
    seen_zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    seen_at = models.DateTimeField(null=True, blank=True)
    pm_due = models.BooleanField(default=False)
    pm_overdue = models.BooleanField(default=False)

    class Meta:
        ordering = ["audit", "result", "asset"]
        constraints = [models.UniqueConstraint(fields=["audit", "asset"], name="audititem_unique_asset")]


class AssetVerification(models.Model):
    """When an asset was last verified in place, and how (the asset's audit history)."""

    class How(models.TextChoices):
        HANDS_FREE = "hands_free", "hands-free audit"
        HANDHELD = "handheld", "handheld sweep"
        MANUAL = "manual", "checked by a person"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="verifications")
    at = models.DateTimeField()
    how = models.CharField(max_length=16, choices=How.choices)
    audit = models.ForeignKey(Audit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["asset", "-at"])]
