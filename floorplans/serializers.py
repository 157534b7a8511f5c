"""API representations of the spatial model; geometry as GeoJSON in floor metres."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Building, Door, Floor, Site, Zone


@extend_schema_field(OpenApiTypes.OBJECT)
class GeometryField(serializers.Field):  # type: ignore[type-arg]
    """A GeoJSON geometry object in floor-local metres, of one geometry type."""

    def __init__(self, geom_type: str, **kwargs: Any) -> None:
        self.geom_type = geom_type
        super().__init__(**kwargs)

    def to_representation(self, value: GEOSGeometry) -> dict[str, Any]:
        return json.loads(value.json)  # type: ignore[no-any-return]

    def to_internal_value(self, data: Any) -> GEOSGeometry:
        if not isinstance(data, dict) or data.get("type") != self.geom_type:
            raise serializers.ValidationError(f"expected a GeoJSON {self.geom_type}")
        try:
            geom = GEOSGeometry(json.dumps(data))
        except (GEOSException, ValueError, TypeError) as exc:
            raise serializers.ValidationError(f"invalid {self.geom_type}: {exc}") from exc
        if geom.empty or not geom.valid:
            raise serializers.ValidationError(f"invalid {self.geom_type}: {geom.valid_reason}")
        geom.srid = FLOOR_SRID
        return geom


class SiteSerializer(serializers.ModelSerializer[Site]):
    class Meta:
        model = Site
        fields = ["id", "code", "name", "address"]


class BuildingSerializer(serializers.ModelSerializer[Building]):
    class Meta:
        model = Building
        fields = ["id", "site", "code", "name"]


class FloorSerializer(serializers.ModelSerializer[Floor]):
    plan_url = serializers.SerializerMethodField()

    class Meta:
        model = Floor
        fields = [
            "id", "building", "code", "level", "name", "width_m", "height_m", "plan_url",
            "control_points", "plan_affine", "plan_residual_m", "geo_origin_lat", "geo_origin_lon", "geo_rotation_deg",
        ]
        read_only_fields = ["plan_affine", "plan_residual_m", "control_points"]

    def get_plan_url(self, floor: Floor) -> str | None:
        return f"/floors/{floor.pk}/plan.png" if floor.plan_image else None


class _OnTheFloor:
    """Validation shared by zones and doors: geometry inside the floor, references on the same floor."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = getattr(self, "instance", None)
        floor: Floor | None = attrs.get("floor") or (instance.floor if instance else None)
        for name in ("polygon", "line"):
            geom = attrs.get(name)
            if floor is not None and geom is not None:
                x0, y0, x1, y1 = geom.extent
                if x0 < -0.01 or y0 < -0.01 or x1 > floor.width_m + 0.01 or y1 > floor.height_m + 0.01:
                    raise serializers.ValidationError({name: "lies outside the floor extent"})
        for name in ("parent", "ward", "from_zone", "to_zone"):
            zone = attrs.get(name)
            if zone is not None and floor is not None and zone.floor_id != floor.pk:
                raise serializers.ValidationError({name: "must be a zone of the same floor"})
        return attrs


class ZoneSerializer(_OnTheFloor, serializers.ModelSerializer[Zone]):
    polygon = GeometryField("Polygon")

    class Meta:
        model = Zone
        fields = ["id", "floor", "code", "name", "kind", "polygon", "parent", "ward"]


class DoorSerializer(_OnTheFloor, serializers.ModelSerializer[Door]):
    line = GeometryField("LineString")

    class Meta:
        model = Door
        fields = ["id", "floor", "code", "name", "line", "from_zone", "to_zone", "is_exit", "lock_controller"]


class PointQuerySerializer(serializers.Serializer[Any]):
    x_m = serializers.FloatField()
    y_m = serializers.FloatField()
    distance_m = serializers.FloatField(required=False, min_value=0.0, max_value=1000.0)


class ZoneHitSerializer(serializers.ModelSerializer[Zone]):
    distance_m = serializers.SerializerMethodField()

    class Meta:
        model = Zone
        fields = ["id", "code", "name", "kind", "distance_m"]

    def get_distance_m(self, zone: Zone) -> float | None:
        distance = getattr(zone, "distance", None)
        return round(distance.m, 3) if distance is not None else None


class ControlPointSerializer(serializers.Serializer[Any]):
    px = serializers.FloatField()
    py = serializers.FloatField()
    x_m = serializers.FloatField()
    y_m = serializers.FloatField()


class CalibrateSerializer(serializers.Serializer[Any]):
    control_points = ControlPointSerializer(many=True, min_length=2)  # type: ignore[call-arg]


class PlanImageSerializer(serializers.Serializer[Any]):
    plan_image = serializers.ImageField()
