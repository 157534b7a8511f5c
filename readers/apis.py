"""REST endpoints for readers, gateways and anchors."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_permission
from readers.adapters.ble_mqtt import BLE_PROTOCOLS, parse_http
from readers.drops import DropCounter
from readers.models import Reader
from readers.serializers import ReaderSerializer
from readers.sinks import RedisStreamSink

HTTP_PROTOCOLS = frozenset(BLE_PROTOCOLS)


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


class IngestApi(APIView):
    """POST /api/ingest/<protocol>/: a BLE gateway that speaks HTTP instead of MQTT posts its payload
    here (the body exactly as it would publish it); the reads join the same stream as everyone else's."""

    permission_classes = [has_permission("readers.ingest_reads")]
    # request.data is never touched, so no parser runs: the body goes to the vendor's own parser as is
    @extend_schema(request={"application/octet-stream": OpenApiTypes.BINARY}, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, protocol: str) -> Response:
        if protocol not in HTTP_PROTOCOLS:
            return Response({"detail": f"unknown protocol {protocol!r}; known: {sorted(HTTP_PROTOCOLS)}"}, status=404)
        gateways = dict(
            Reader.objects.filter(protocol=protocol, enabled=True)
            .exclude(hardware_id="").values_list("hardware_id", "code")
        )
        drops = DropCounter()
        reads = parse_http(protocol, request.body, gateways=gateways, drops=drops, now=timezone.now())
        if reads:
            RedisStreamSink(redis.Redis.from_url(settings.REDIS_URL))(reads)
        return Response({"accepted": len(reads), "dropped": drops.counts()}, status=202 if reads else 200)
