"""The asset registry's REST API under /api/assets/ (docs/assets.md). Views translate; the registry
package and tracking.assets.finding decide.

Reading needs tracking.view_asset (biomedical engineers, nurses, security); registering and changing
needs add_asset / change_asset (biomedical engineers). Places are shown only on floors the user may
watch (tracking.access): elsewhere `place` is null, and nearest-available from such a floor is a 403.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_permission
from tracking.access import WATCH_PERMISSION, can_watch_floor
from tracking.assets.finding import asset_places, assets_nearest_available
from tracking.assets.registry import ImportFileError, assets_import_csv
from tracking.assets.registry.selectors import AssetFilter, asset_verifications, assets_filtered
from tracking.assets.registry.services import AssetWriteError, asset_create, asset_update
from tracking.assets.serializers_registry import (
    AssetQuerySerializer,
    AssetRecordSerializer,
    AssetWriteSerializer,
    ImportInputSerializer,
    ImportReportSerializer,
    NearestAvailableItemSerializer,
    NearestAvailableQuerySerializer,
    StatusChangeSerializer,
    StatusInputSerializer,
    StatusResultSerializer,
    VerificationSerializer,
)
from tracking.models import Asset, AssetStatusChange

SeeAssets = has_permission("tracking.view_asset")
AddAssets = has_permission("tracking.add_asset")
ChangeAssets = has_permission("tracking.change_asset")
SeeStatusHistory = has_permission("tracking.view_assetstatuschange")
SeeVerifications = has_permission("tracking.view_assetverification")
Watch = has_permission(WATCH_PERMISSION)


class AssetPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000


def _query(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _context(request: Request, assets: list[Asset]) -> dict[str, Any]:
    return {"today": timezone.localdate(), "places": asset_places(user=request.user, asset_ids=[a.pk for a in assets])}


def _asset(asset_id: int) -> Asset:
    return get_object_or_404(Asset.objects.select_related("tracked_object__tag", "department", "home_zone"),
                             pk=asset_id)


def _answer(request: Request, asset: Asset, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(AssetRecordSerializer(asset, context=_context(request, [asset])).data, status=code)


class AssetListApi(GenericAPIView[Any]):
    """The registry: list and filter (GET), register a new asset (POST)."""

    pagination_class = AssetPagination

    def get_permissions(self) -> list[BasePermission]:
        return [SeeAssets()] if self.request.method in SAFE_METHODS else [AddAssets()]

    @extend_schema(operation_id="assets_list", parameters=[AssetQuerySerializer],
                   responses=AssetRecordSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(AssetQuerySerializer, request)
        department = query.get("department")
        spec = AssetFilter(q=query.get("q", ""), category=query.get("category", ""), status=query.get("status", ""),
                           department=department.pk if department else None, pm=query.get("pm", ""))
        page = self.paginate_queryset(assets_filtered(spec=spec, today=timezone.localdate())) or []
        return self.get_paginated_response(AssetRecordSerializer(page, many=True, context=_context(request, page)).data)

    @extend_schema(operation_id="assets_create", request=AssetWriteSerializer, responses={201: AssetRecordSerializer})
    def post(self, request: Request) -> Response:
        data = AssetWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            asset = asset_create(asset_number=data.validated_data["asset_number"], values=data.row_values(),
                                 user=request.user)
        except AssetWriteError as exc:
            raise ValidationError(exc.errors) from exc
        return _answer(request, asset, code=status.HTTP_201_CREATED)


class AssetDetailApi(APIView):
    """One asset with where it is now (GET); change some of its fields (PATCH)."""

    def get_permissions(self) -> list[BasePermission]:
        return [SeeAssets()] if self.request.method in SAFE_METHODS else [ChangeAssets()]

    @extend_schema(operation_id="assets_retrieve", responses=AssetRecordSerializer)
    def get(self, request: Request, asset_id: int) -> Response:
        return _answer(request, _asset(asset_id))

    @extend_schema(operation_id="assets_partial_update", request=AssetWriteSerializer, responses=AssetRecordSerializer)
    def patch(self, request: Request, asset_id: int) -> Response:
        asset = _asset(asset_id)
        data = AssetWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        number = data.validated_data.get("asset_number", asset.asset_number)
        if number != asset.asset_number:
            raise ValidationError({"asset_number": ["cannot change: it is the asset's key"]})
        try:
            asset = asset_update(asset=asset, values=data.row_values(), user=request.user)
        except AssetWriteError as exc:
            raise ValidationError(exc.errors) from exc
        return _answer(request, asset)


class AssetStatusApi(APIView):
    """Set an asset's status by hand (recorded as a manual change by you)."""

    permission_classes = [ChangeAssets]

    @extend_schema(operation_id="assets_status_set", request=StatusInputSerializer, responses=StatusResultSerializer)
    def post(self, request: Request, asset_id: int) -> Response:
        from tracking.assets.status import asset_status_set  # lazy: the status module wires the PAR rules

        asset = _asset(asset_id)
        data = StatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = asset_status_set(asset_id=asset.pk, status=data.validated_data["status"],
                                  source=AssetStatusChange.Source.MANUAL, user=request.user)
        return Response({"status": data.validated_data["status"], "changed": change is not None,
                         "change": StatusChangeSerializer(change).data if change is not None else None})


class AssetStatusHistoryApi(GenericAPIView[Any]):
    """An asset's status changes, latest first: when, from what to what, and what made them."""

    permission_classes = [SeeAssets, SeeStatusHistory]
    pagination_class = AssetPagination

    @extend_schema(operation_id="assets_status_history", responses=StatusChangeSerializer(many=True))
    def get(self, request: Request, asset_id: int) -> Response:
        changes = _asset(asset_id).status_changes.select_related("zone", "user").order_by("-at", "-pk")
        page = self.paginate_queryset(changes) or []
        return self.get_paginated_response(StatusChangeSerializer(page, many=True).data)


class AssetVerificationListApi(APIView):
    """When and how an asset was last verified in place (audits, sweeps, by hand), latest first."""

    permission_classes = [SeeAssets, SeeVerifications]

    @extend_schema(operation_id="assets_verifications", responses=VerificationSerializer(many=True))
    def get(self, request: Request, asset_id: int) -> Response:
        return Response(VerificationSerializer(asset_verifications(asset=_asset(asset_id)), many=True).data)


class AssetNearestAvailableApi(APIView):
    """The available assets of a category nearest to a room: same floor first, then the closest levels."""

    permission_classes = [Watch, SeeAssets]

    @extend_schema(operation_id="assets_nearest_available", parameters=[NearestAvailableQuerySerializer],
                   responses=NearestAvailableItemSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(NearestAvailableQuerySerializer, request)
        zone = query["zone"]
        if not can_watch_floor(user=request.user, floor_id=zone.floor_id):
            raise PermissionDenied(f"you may not watch floor {zone.floor_id}")
        return Response(assets_nearest_available(user=request.user, category=query["category"], zone=zone,
                                                 limit=query["limit"]))


class AssetImportApi(APIView):
    """Import a registry CSV (multipart `file`): all rows or none. 200 with the report when the file is
    good (imported, or checked on a dry run); 400 with the same report listing the row errors otherwise."""

    permission_classes = [AddAssets, ChangeAssets]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="assets_import", request={"multipart/form-data": ImportInputSerializer},
                   responses={200: ImportReportSerializer, 400: ImportReportSerializer})
    def post(self, request: Request) -> Response:
        data = ImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            report = assets_import_csv(data=data.validated_data["file"].read(),
                                       dry_run=data.validated_data["dry_run"], user=request.user)
        except ImportFileError as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        body = ImportReportSerializer(report).data
        return Response(body, status=status.HTTP_200_OK if report.ok else status.HTTP_400_BAD_REQUEST)

