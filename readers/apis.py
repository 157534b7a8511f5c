"""REST endpoints for readers, gateways and anchors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from readers.models import Reader
from readers.serializers import ReaderSerializer


class ReaderViewSet(viewsets.ModelViewSet[Reader]):
    serializer_class = ReaderSerializer

    @extend_schema(parameters=[OpenApiParameter("floor", int), OpenApiParameter("kind", str),
                               OpenApiParameter("enabled", bool),
                               OpenApiParameter("state", str, enum=["unknown", "online", "offline"])])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Reader]:
        params = self.request.query_params
        readers = Reader.objects.select_related("health").prefetch_related("antennas")
        readers = readers.filter(**{name: params[name] for name in ("floor", "kind") if name in params})
        if "state" in params:
            readers = readers.filter(health__state=params["state"])
        if "enabled" in params:
            readers = readers.filter(enabled=params["enabled"].lower() in {"1", "true", "yes"})
        return readers
