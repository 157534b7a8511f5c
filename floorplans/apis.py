"""REST endpoints for sites, buildings, floors, zones and doors. They translate; services decide."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from floorplans.calibration import CalibrationError
from floorplans.floorfile import FloorFileError
from floorplans.models import Building, Door, Floor, Site, Zone
from floorplans.selectors import floor_export, zone_nearest, zones_containing, zones_within
from floorplans.serializers import (
    BuildingSerializer,
    CalibrateSerializer,
    DoorSerializer,
    FloorSerializer,
    PlanImageSerializer,
    PointQuerySerializer,
    SiteSerializer,
    ZoneHitSerializer,
    ZoneSerializer,
)
from floorplans.services import floor_calibrate, floor_file_check, floor_import, floor_set_plan_image

IMPORT_PERMISSIONS = [f"{app}.{verb}_{model}" for app, model in (
    ("floorplans", "floor"), ("floorplans", "zone"), ("floorplans", "door"), ("readers", "reader"),
    ("readers", "antenna"),
) for verb in ("add", "change", "delete")]


def _filtered(queryset: QuerySet[Any], request: Request, *names: str) -> QuerySet[Any]:
    """Apply ?name=value filters for the given field names."""
    wanted = {name: request.query_params[name] for name in names if name in request.query_params}
    return queryset.filter(**wanted)


class SiteViewSet(viewsets.ModelViewSet[Site]):
    queryset = Site.objects.all()
    serializer_class = SiteSerializer


class BuildingViewSet(viewsets.ModelViewSet[Building]):
    serializer_class = BuildingSerializer

    @extend_schema(parameters=[OpenApiParameter("site", int)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Building]:
        return _filtered(Building.objects.select_related("site"), self.request, "site")


class FloorViewSet(viewsets.ModelViewSet[Floor]):
    serializer_class = FloorSerializer

    def get_queryset(self) -> QuerySet[Floor]:
        return _filtered(Floor.objects.select_related("building__site"), self.request, "building", "level")

    @extend_schema(request=CalibrateSerializer, responses=FloorSerializer)
    @action(detail=True, methods=["post"])
    def calibrate(self, request: Request, pk: str) -> Response:
        """Fit the plan image's pixel<->metre map from >= 2 control points; the residual comes back."""
        floor = self.get_object()
        body = CalibrateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            floor_calibrate(floor=floor, control_points=body.validated_data["control_points"])
        except CalibrationError as exc:
            return Response({"control_points": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(FloorSerializer(floor).data)

    @extend_schema(request={"multipart/form-data": PlanImageSerializer}, responses=FloorSerializer)
    @action(detail=True, methods=["put"], url_path="plan", parser_classes=[MultiPartParser])
    def plan(self, request: Request, pk: str) -> Response:
        """Upload the floor's plan image (PNG or JPEG); calibrate it afterwards."""
        floor = self.get_object()
        body = PlanImageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        floor_set_plan_image(floor=floor, image=body.validated_data["plan_image"].read())
        return Response(FloorSerializer(floor).data)

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[OpenApiParameter("wgs84", bool)])
    @action(detail=True, methods=["get"])
    def geojson(self, request: Request, pk: str) -> Response:
        """The floor as a floor GeoJSON document (docs/floor-geojson.md)."""
        wgs84 = request.query_params.get("wgs84", "").lower() in {"1", "true", "yes"}
        try:
            return Response(floor_export(floor=self.get_object(), wgs84=wgs84))
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT,
                   parameters=[OpenApiParameter("dry_run", bool)])
    @action(detail=False, methods=["post"], url_path="import")
    def import_geojson(self, request: Request) -> Response:
        """Import a floor GeoJSON document; all or nothing. 400 lists every problem by feature index."""
        if not request.user.has_perms(IMPORT_PERMISSIONS):
            raise PermissionDenied("importing a floor needs the administrator role")
        dry_run = request.query_params.get("dry_run", "").lower() in {"1", "true", "yes"}
        try:
            floor_file = floor_file_check(request.data)
            report = floor_import(floor_file=floor_file, dry_run=dry_run)
        except FloorFileError as exc:
            errors = [{"index": e.index, "code": e.code, "reason": e.reason} for e in exc.errors]
            return Response({"detail": "floor file rejected; nothing was written", "errors": errors}, status=400)
        body = {"floor": report.floor.pk, "dry_run": dry_run, "created": report.created,
                "updated": report.updated, "deleted": report.deleted}
        return Response(body, status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED)

    @extend_schema(parameters=[PointQuerySerializer], responses=ZoneHitSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="zones-at")
    def zones_at(self, request: Request, pk: str) -> Response:
        """Zones containing the point (most specific first), or within distance_m of it (nearest first)."""
        query = PointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        point: dict[str, float] = query.validated_data
        floor = self.get_object()
        if "distance_m" in point:
            zones = zones_within(floor=floor, x_m=point["x_m"], y_m=point["y_m"], distance_m=point["distance_m"])
        else:
            zones = zones_containing(floor=floor, x_m=point["x_m"], y_m=point["y_m"])
        return Response(ZoneHitSerializer(zones, many=True).data)

    @extend_schema(parameters=[PointQuerySerializer, OpenApiParameter("kind", str, many=True)],
                   responses=ZoneHitSerializer)
    @action(detail=True, methods=["get"], url_path="zones-nearest")
    def zones_nearest(self, request: Request, pk: str) -> Response:
        """The zone nearest to the point, optionally of the given kinds (?kind=storage&kind=clean_utility)."""
        query = PointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        point: dict[str, float] = query.validated_data
        zone = zone_nearest(floor=self.get_object(), x_m=point["x_m"], y_m=point["y_m"],
                            kinds=request.query_params.getlist("kind") or None)
        if zone is None:
            return Response({"detail": "no zone of that kind on this floor"}, status=status.HTTP_404_NOT_FOUND)
        return Response(ZoneHitSerializer(zone).data)


class ZoneViewSet(viewsets.ModelViewSet[Zone]):
    serializer_class = ZoneSerializer

    @extend_schema(parameters=[OpenApiParameter("floor", int), OpenApiParameter("kind", str),
                               OpenApiParameter("ward", int), OpenApiParameter("parent", int)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Zone]:
        return _filtered(Zone.objects.select_related("parent", "ward"), self.request, "floor", "kind", "ward", "parent")


class DoorViewSet(viewsets.ModelViewSet[Door]):
    serializer_class = DoorSerializer

    @extend_schema(parameters=[OpenApiParameter("floor", int), OpenApiParameter("is_exit", bool)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Door]:
        doors = _filtered(Door.objects.select_related("from_zone", "to_zone"), self.request, "floor")
        if "is_exit" in self.request.query_params:
            doors = doors.filter(is_exit=self.request.query_params["is_exit"].lower() in {"1", "true", "yes"})
        return doors

