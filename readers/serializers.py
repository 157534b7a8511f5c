"""API representations of readers, gateways and anchors with their antennas."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import serializers

from floorplans.serializers import GeometryField
from readers.models import Antenna, Reader, ReaderHealth


class AntennaSerializer(serializers.ModelSerializer[Antenna]):
    position = GeometryField("Point")

    class Meta:
        model = Antenna
        fields = ["port", "position", "height_m", "facing_deg", "zone", "door", "side"]


class ReaderHealthSerializer(serializers.ModelSerializer[ReaderHealth]):
    class Meta:
        model = ReaderHealth
        fields = ["state", "state_since", "last_read_at", "reads_per_s", "reads_total", "drops", "last_error",
                  "updated_at"]
        read_only_fields = fields


class ReaderSerializer(serializers.ModelSerializer[Reader]):
    position = GeometryField("Point")
    antennas = AntennaSerializer(many=True, required=False)
    health = ReaderHealthSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Reader
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "protocol",
            "hardware_id",
            "address",
            "topic",
            "floor",
            "position",
            "height_m",
            "enabled",
            "calibration",
            "options",
            "antennas",
            "health",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        floor = attrs.get("floor") or (self.instance.floor if self.instance else None)
        for antenna in attrs.get("antennas", []):
            for name in ("zone", "door"):
                ref = antenna.get(name)
                if ref is not None and floor is not None and ref.floor_id != floor.pk:
                    raise serializers.ValidationError(
                        {"antennas": f"antenna {antenna['port']}: {name} is on another floor"}
                    )
        ports = [antenna["port"] for antenna in attrs.get("antennas", [])]
        if len(ports) != len(set(ports)):
            raise serializers.ValidationError({"antennas": f"antenna ports repeat: {sorted(ports)}"})
        return attrs

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Reader:
        antennas = validated_data.pop("antennas", [])
        reader = super().create(validated_data)
        Antenna.objects.bulk_create([Antenna(reader=reader, **antenna) for antenna in antennas])
        return reader

    @transaction.atomic
    def update(self, instance: Reader, validated_data: dict[str, Any]) -> Reader:
        antennas = validated_data.pop("antennas", None)
        reader = super().update(instance, validated_data)
        if antennas is not None:
            reader.antennas.all().delete()
            Antenna.objects.bulk_create([Antenna(reader=reader, **antenna) for antenna in antennas])
        return reader
