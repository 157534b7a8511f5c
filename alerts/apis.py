"""Alert REST endpoints (mounted under api/). They translate; selectors read, services decide.

An alert outside the user's audiences or floor scope does not exist for them (404), so ids are not an
oracle. A refused lifecycle move is a 409 naming both states.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import User
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_permission
from alerts.exceptions import InvalidAlertTransition
from alerts.models import Alert
from alerts.selectors import CHANGE_PERMISSION, VIEW_PERMISSION, alert_for_user, alerts_for_user
from alerts.serializers import AlertDetailSerializer, AlertNoteSerializer, AlertQuerySerializer, AlertSerializer
from alerts.services import alert_acknowledge, alert_cancel, alert_resolve

SeeAlerts = has_permission(VIEW_PERMISSION)
AnswerAlerts = has_permission(CHANGE_PERMISSION)


class AlertPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000


class AlertErrorSerializer(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField()


def _visible(request: Request, alert_id: int) -> Alert:
    alert = alert_for_user(request.user, alert_id=alert_id)
    if alert is None:
        raise Http404(f"no alert {alert_id} for you")
    return alert


class AlertListApi(GenericAPIView[Alert]):
    """The alerts addressed to you (your audiences, on floors you may watch), newest first."""

    permission_classes = [SeeAlerts]
    pagination_class = AlertPagination
    serializer_class = AlertSerializer

    @extend_schema(operation_id="alerts_list", parameters=[AlertQuerySerializer],
                   responses=AlertSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = AlertQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        alerts = alerts_for_user(
            request.user, state=filters.get("state"), open=filters.get("open"), kind=filters.get("kind"),
            severity_min=filters.get("severity_min"), floor_id=filters.get("floor"), ward_id=filters.get("ward"),
            audience=filters.get("audience"), subject_type=filters.get("subject_type"),
            subject_id=filters.get("subject_id"),
        )
        page = self.paginate_queryset(alerts)
        return self.get_paginated_response(AlertSerializer(page, many=True).data)


class AlertDetailApi(APIView):
    """One alert with its timeline."""

    permission_classes = [SeeAlerts]

    @extend_schema(operation_id="alerts_retrieve",
                   responses={200: AlertDetailSerializer, 404: OpenApiResponse(description="no such alert for you")})
    def get(self, request: Request, alert_id: int) -> Response:
        return Response(AlertDetailSerializer(_visible(request, alert_id)).data)


class _AlertActionApi(APIView):
    permission_classes = [SeeAlerts, AnswerAlerts]
    service: ClassVar[Any]

    def post(self, request: Request, alert_id: int) -> Response:
        _visible(request, alert_id)
        body = AlertNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assert isinstance(request.user, User)  # the permission classes let only logged-in users here
        try:
            type(self).service(alert_id=alert_id, user=request.user, note=body.validated_data["note"])
        except InvalidAlertTransition as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(AlertDetailSerializer(alert_for_user(request.user, alert_id=alert_id)).data)


_ACTION_RESPONSES = {
    200: AlertDetailSerializer,
    404: OpenApiResponse(description="no such alert for you"),
    409: OpenApiResponse(AlertErrorSerializer, description="the alert's state does not allow this"),
}


class AlertAcknowledgeApi(_AlertActionApi):
    """Acknowledge: you are on it (stops escalation and reminders)."""

    service = alert_acknowledge

    @extend_schema(operation_id="alerts_acknowledge", request=AlertNoteSerializer, responses=_ACTION_RESPONSES)
    def post(self, request: Request, alert_id: int) -> Response:
        return super().post(request, alert_id)


class AlertResolveApi(_AlertActionApi):
    """Resolve: the condition was dealt with."""

    service = alert_resolve

    @extend_schema(operation_id="alerts_resolve", request=AlertNoteSerializer, responses=_ACTION_RESPONSES)
    def post(self, request: Request, alert_id: int) -> Response:
        return super().post(request, alert_id)


class AlertCancelApi(_AlertActionApi):
    """Cancel: raised in error (a false alarm, a test tag)."""

    service = alert_cancel

    @extend_schema(operation_id="alerts_cancel", request=AlertNoteSerializer, responses=_ACTION_RESPONSES)
    def post(self, request: Request, alert_id: int) -> Response:
        return super().post(request, alert_id)
