"""Readers, gateways and anchors as installed on a floor, with their antennas and calibration."""

from __future__ import annotations

from django.contrib.gis.db import models

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Door, Floor, Zone


class Reader(models.Model):
    class Kind(models.TextChoices):
        LLRP_READER = "llrp_reader", "UHF RFID reader (LLRP)"
        BLE_GATEWAY = "ble_gateway", "BLE gateway"
        UWB_ANCHOR = "uwb_anchor", "UWB anchor"

    code = models.CharField(max_length=64, unique=True, help_text="the reader_id of its TagReads")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    protocol = models.CharField(max_length=64, help_text="adapter name, e.g. rfid_llrp, ble_espresense")
    hardware_id = models.CharField(
        max_length=64, blank=True, help_text="what the device calls itself: gateway MAC, UWB anchor id, reader serial"
    )
    address = models.CharField(max_length=200, blank=True, help_text="host:port for TCP readers")
    topic = models.CharField(max_length=200, blank=True, help_text="MQTT topic for gateways")
    floor = models.ForeignKey(Floor, on_delete=models.CASCADE, related_name="readers")
    position = models.PointField(srid=FLOOR_SRID)
    height_m = models.FloatField(default=2.5)
    enabled = models.BooleanField(default=True)
    # path-loss / ranging calibration: rssi_at_1m_dbm, path_loss_exponent, rssi_offset_db, range_bias_m
    calibration = models.JSONField(default=dict, blank=True)
    # adapter settings beyond address/topic, e.g. {"tx_power_dbm": 27, "report_every_n_tags": 50} for LLRP
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["floor", "kind"])]
        permissions = [("ingest_reads", "Can post tag reads over HTTP (a gateway)")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Antenna(models.Model):
    class Side(models.TextChoices):
        INSIDE = "inside", "inside (the door's from-zone side)"
        OUTSIDE = "outside", "outside (the door's to-zone side)"

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="antennas")
    port = models.PositiveSmallIntegerField()
    position = models.PointField(srid=FLOOR_SRID)
    height_m = models.FloatField(default=2.4)
    facing_deg = models.FloatField(null=True, blank=True, help_text="counter-clockwise from +x")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="antennas")
    door = models.ForeignKey(Door, null=True, blank=True, on_delete=models.SET_NULL, related_name="antennas")
    side = models.CharField(max_length=8, choices=Side.choices, blank=True)

    class Meta:
        ordering = ["reader", "port"]
        constraints = [models.UniqueConstraint(fields=["reader", "port"], name="antenna_port_unique_per_reader")]

    def __str__(self) -> str:
        return f"{self.reader.code}#{self.port}"


class ReaderHealth(models.Model):
    """How a reader is doing, as `run_readers` last saw it (one row per reader, updated every few seconds)."""

    class State(models.TextChoices):
        UNKNOWN = "unknown"
        ONLINE = "online"
        OFFLINE = "offline"

    reader = models.OneToOneField(Reader, on_delete=models.CASCADE, related_name="health")
    state = models.CharField(max_length=8, choices=State.choices, default=State.UNKNOWN)
    state_since = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    reads_per_s = models.FloatField(default=0.0)
    reads_total = models.BigIntegerField(default=0)
    drops = models.JSONField(default=dict, blank=True, help_text="dropped payloads by reason")
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "reader health"

    def __str__(self) -> str:
        return f"{self.reader.code}: {self.state}"
