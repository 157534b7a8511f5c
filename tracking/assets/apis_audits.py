"""Audit and utilization REST endpoints under /api/assets/ (docs/assets.md). They translate: the services in
tracking.assets.audits decide, the selectors read. A refused scope or file is a 400 with the reason, a
sweep that is no longer running a 409."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_permission
from readers.reads import TagRead, Tech
from tracking.assets.audit_exceptions import AuditError, AuditNotRunning
from tracking.assets.audit_selectors import asset_audit_history, audit_get, audit_items, audit_progress, audits_list
from tracking.assets.audits import (
    audit_cancel,
    audit_finish,
    audit_run_hands_free,
    audit_start_handheld,
    handheld_reads_record,
)
from tracking.assets.handheld import sweep_status
from tracking.assets.reads_files import reads_file_parse
from tracking.assets.serializers_audits import (
    AssetAuditHistorySerializer,
    AuditDetailSerializer,
    AuditProgressSerializer,
    AuditSerializer,
    AuditStartSerializer,
    ReadsRecordedSerializer,
    ReadsUploadSerializer,
    UtilizationQuerySerializer,
    UtilizationSerializer,
)
from tracking.assets.utilization_data import utilization_compute, utilization_period
from tracking.models import Asset, Audit

logger = logging.getLogger(__name__)

SeeAudits = has_permission("tracking.view_audit")
StartAudits = has_permission("tracking.add_audit")
RunAudits = has_permission("tracking.change_audit")
SeeVerifications = has_permission("tracking.view_assetverification")
SeeUtilization = has_permission("tracking.view_assetstatuschange")
UPLOAD_READER = "upload"


class AuditErrorSerializer(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField()


def _audit(audit_id: int) -> Audit:
    try:
        return audit_get(audit_id)
    except Audit.DoesNotExist:
        raise Http404(f"no audit {audit_id}") from None


def _user(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _refused(exc: AuditError) -> Response:
    code = status.HTTP_409_CONFLICT if isinstance(exc, AuditNotRunning) else status.HTTP_400_BAD_REQUEST
    return Response({"detail": str(exc)}, status=code)


class AuditListApi(GenericAPIView[Audit]):
    """Audits, newest first (GET); start one (POST): a hands-free audit runs at once and answers with its
    report, a handheld sweep opens a session that takes reads until it is finished."""

    serializer_class = AuditSerializer

    def get_permissions(self) -> list[Any]:
        return [StartAudits()] if self.request.method == "POST" else [SeeAudits()]

    @extend_schema(operation_id="asset_audits_list", responses=AuditSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(audits_list(limit=1000))
        return self.get_paginated_response(AuditSerializer(page, many=True).data)

    @extend_schema(operation_id="asset_audits_start", request=AuditStartSerializer,
                   responses={201: AuditSerializer, 400: AuditErrorSerializer})
    def post(self, request: Request) -> Response:
        data = AuditStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        scope = {"department_id": v.get("department"), "zone_ids": v["zones"], "seen_within_h": v["seen_within_h"],
                 "missing_after_days": v["missing_after_days"], "user": _user(request)}
        try:
            if v["kind"] == Audit.Kind.HANDS_FREE:
                audit = audit_run_hands_free(**scope)
            else:
                audit = audit_start_handheld(**scope, reader_code=v["reader"])
        except AuditError as exc:
            return _refused(exc)
        return Response(AuditSerializer(_audit(audit.pk)).data, status=status.HTTP_201_CREATED)


class AuditDetailApi(APIView):
    """One audit with its items (worst result first)."""

    permission_classes = [SeeAudits]

    @extend_schema(operation_id="asset_audits_retrieve",
                   responses={200: AuditDetailSerializer, 404: AuditErrorSerializer})
    def get(self, request: Request, audit_id: int) -> Response:
        audit = _audit(audit_id)
        return Response(AuditDetailSerializer(audit, context={"items": audit_items(audit.pk)}).data)


class AuditProgressApi(APIView):
    """A sweep's live progress: seen / expected, the newest found and unexpected assets, the reader's state."""

    permission_classes = [SeeAudits]

    @extend_schema(operation_id="asset_audits_progress", responses={200: AuditProgressSerializer,
                                                                     404: AuditErrorSerializer})
    def get(self, request: Request, audit_id: int) -> Response:
        audit = _audit(audit_id)
        body = audit_progress(audit)
        body["sweep"] = sweep_status(audit.pk) if audit.reader else None
        return Response(AuditProgressSerializer(body).data)


class AuditReadsApi(APIView):
    """Reads for a running sweep: a file (multipart "file": CSV or LLRP tag-report JSON) or JSON
    {"reads": [{"tag_id", "seen_at"}]}. Bad rows are dropped and listed; the others are recorded."""

    permission_classes = [RunAudits]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(operation_id="asset_audits_reads", request=ReadsUploadSerializer,
                   responses={200: ReadsRecordedSerializer, 400: AuditErrorSerializer, 409: AuditErrorSerializer})
    def post(self, request: Request, audit_id: int) -> Response:
        audit = _audit(audit_id)
        data = ReadsUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reader_id = audit.reader or UPLOAD_READER
        errors: list[str] = []
        dropped = 0
        try:
            if upload := data.validated_data.get("file"):
                parsed = reads_file_parse(upload.read(), filename=upload.name or "", reader_id=reader_id,
                                          now=timezone.now())
                reads, dropped, errors = parsed.reads, parsed.dropped, parsed.errors
                if dropped:
                    logger.warning("audit %s: %d reads of %s dropped (%s)", audit.pk, dropped, upload.name,
                                   "; ".join(errors[:3]))
            else:
                reads = [TagRead(r["tag_id"].upper(), reader_id, Tech.RFID, r["seen_at"])
                         for r in data.validated_data["reads"]]
            recorded = handheld_reads_record(audit_id=audit.pk, reads=reads, dropped=dropped)
        except AuditError as exc:
            return _refused(exc)
        return Response(ReadsRecordedSerializer({
            "reads": recorded.reads, "found": recorded.found, "unexpected": recorded.unexpected,
            "unknown_tags": recorded.unknown_tags, "dropped": dropped, "dropped_reasons": errors}).data)


def _end(request: Request, audit_id: int, end: Callable[..., Audit]) -> Response:
    _audit(audit_id)
    try:
        audit = end(audit_id=audit_id, user=_user(request))
    except AuditError as exc:
        return _refused(exc)
    return Response(AuditSerializer(_audit(audit.pk)).data)


class AuditFinishApi(APIView):
    """End a sweep: what it did not read is classified from the RTLS; the report is ready."""

    permission_classes = [RunAudits]

    @extend_schema(operation_id="asset_audits_finish", request=None,
                   responses={200: AuditSerializer, 404: AuditErrorSerializer, 409: AuditErrorSerializer})
    def post(self, request: Request, audit_id: int) -> Response:
        return _end(request, audit_id, audit_finish)


class AuditCancelApi(APIView):
    """Stop a sweep without a report."""

    permission_classes = [RunAudits]

    @extend_schema(operation_id="asset_audits_cancel", request=None,
                   responses={200: AuditSerializer, 404: AuditErrorSerializer, 409: AuditErrorSerializer})
    def post(self, request: Request, audit_id: int) -> Response:
        return _end(request, audit_id, audit_cancel)


class AssetAuditHistoryApi(APIView):
    """An asset's audit history: when it was last verified and how, and the audits that listed it."""

    permission_classes = [SeeVerifications]

    @extend_schema(operation_id="asset_audit_history", responses={200: AssetAuditHistorySerializer,
                                                                  404: AuditErrorSerializer})
    def get(self, request: Request, asset_id: int) -> Response:
        if not Asset.objects.filter(pk=asset_id).exists():
            raise Http404(f"no asset {asset_id}")
        return Response(AssetAuditHistorySerializer(asset_audit_history(asset_id)).data)


class UtilizationApi(APIView):
    """Utilization per category, per unit and per both over whole UTC days (default: the last 7 up to now)."""

    permission_classes = [SeeUtilization]

    @extend_schema(operation_id="asset_utilization", parameters=[UtilizationQuerySerializer],
                   responses={200: UtilizationSerializer, 400: AuditErrorSerializer})
    def get(self, request: Request) -> Response:
        query = UtilizationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        start, end = utilization_period(start=q.get("start"), end=q.get("end"), today=timezone.now().date())
        try:
            result = utilization_compute(start=start, end=end, missing_after_h=q["missing_after_h"],
                                         category=q["category"], department_id=q.get("department"))
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(UtilizationSerializer({
            "start": result.start, "end": result.end, "missing_after_h": result.missing_after_h,
            "states": list(result.states), "by_category": result.by_category.rows(),
            "by_unit": result.by_unit.rows(), "by_category_unit": result.by_category_unit.rows()}).data)
