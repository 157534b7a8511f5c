"""Sites, buildings, floors, zones and doors: the spatial model of a hospital (floor-local metres)."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.core.validators import MinValueValidator

from floorplans.calibration import Affine, GeoReference
from floorplans.geometry import FLOOR_SRID


class Site(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="buildings")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="building_code_unique_per_site")]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.name}"


class Floor(models.Model):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="floors")
    code = models.SlugField(max_length=32)
    level = models.IntegerField(help_text="0 = ground floor, negative below ground")
    name = models.CharField(max_length=200)
    width_m = models.FloatField(validators=[MinValueValidator(1.0)])
    height_m = models.FloatField(validators=[MinValueValidator(1.0)])
    plan_image = models.ImageField(upload_to="plans/", blank=True)
    # pixel <-> metre calibration of the plan image: control points [{"px","py","x_m","y_m"}] and the
    # fitted affine (a, b, c, d, e, f), see floorplans.calibration
    control_points = models.JSONField(default=list, blank=True)
    plan_affine = models.JSONField(null=True, blank=True)
    plan_residual_m = models.FloatField(null=True, blank=True)
    # optional WGS84 geo-reference of the floor origin
    geo_origin_lat = models.FloatField(null=True, blank=True)
    geo_origin_lon = models.FloatField(null=True, blank=True)
    geo_rotation_deg = models.FloatField(default=0.0)

    class Meta:
        ordering = ["building__site__code", "building__code", "level"]
        constraints = [
            models.UniqueConstraint(fields=["building", "code"], name="floor_code_unique_per_building"),
            models.UniqueConstraint(fields=["building", "level"], name="floor_level_unique_per_building"),
        ]

    def __str__(self) -> str:
        return f"{self.building.name} · {self.name}"

    @property
    def affine(self) -> Affine | None:
        return Affine.from_list(self.plan_affine) if self.plan_affine else None

    @property
    def geo_reference(self) -> GeoReference | None:
        if self.geo_origin_lat is None or self.geo_origin_lon is None:
            return None
        return GeoReference(self.geo_origin_lat, self.geo_origin_lon, self.geo_rotation_deg)


class Zone(models.Model):
    class Kind(models.TextChoices):
        WARD = "ward"
        ROOM = "room", "patient room"
        BAY = "bay"
        BED = "bed"
        CORRIDOR = "corridor"
        NURSE_STATION = "nurse_station", "nurse station"
        STORAGE = "storage", "equipment storage"
        CLEAN_UTILITY = "clean_utility", "clean utility"
        DIRTY_UTILITY = "dirty_utility", "dirty utility"
        EXIT = "exit"
        STAIRS = "stairs"
        ELEVATOR_LOBBY = "elevator_lobby", "elevator lobby"
        ELEVATOR = "elevator"
        NURSERY = "nursery"
        MEDICATION_ROOM = "medication_room", "medication room"
        TREATMENT_ROOM = "treatment_room", "treatment room"
        OFFICE = "office"
        STAFF_ROOM = "staff_room", "staff room"
        TOILET = "toilet"
        WAITING = "waiting"
        LOBBY = "lobby"
        ENTRANCE = "entrance"
        LOADING_DOCK = "loading_dock", "loading dock"
        PHARMACY = "pharmacy"
        WORKSHOP = "workshop"
        OTHER = "other"

    floor = models.ForeignKey(Floor, on_delete=models.CASCADE, related_name="zones")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    polygon = models.PolygonField(srid=FLOOR_SRID, spatial_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    ward = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ward_members",
        limit_choices_to={"kind": "ward"},
    )

    class Meta:
        ordering = ["floor", "code"]
        constraints = [models.UniqueConstraint(fields=["floor", "code"], name="zone_code_unique_per_floor")]
        indexes = [models.Index(fields=["floor", "kind"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Door(models.Model):
    floor = models.ForeignKey(Floor, on_delete=models.CASCADE, related_name="doors")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    line = models.LineStringField(srid=FLOOR_SRID)
    from_zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="doors_out")
    to_zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="doors_in")
    is_exit = models.BooleanField(default=False, help_text="leads out of the protected area")
    lock_controller = models.CharField(max_length=100, blank=True, help_text="controller that can lock it")

    class Meta:
        ordering = ["floor", "code"]
        constraints = [models.UniqueConstraint(fields=["floor", "code"], name="door_code_unique_per_floor")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_lockable(self) -> bool:
        return bool(self.lock_controller)

