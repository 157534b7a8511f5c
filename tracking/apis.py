"""REST endpoints for tags, tracked objects and where they are. They translate; selectors decide.

Every location-bearing answer holds only floors the user may watch (tracking.access); asking for a
floor or zone outside them is a 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_permission
from tracking.access import WATCH_PERMISSION, can_watch_floor
from tracking.models import Tag, TrackedObject
from tracking.selectors.history import tag_trail, zone_occupancy
from tracking.selectors.locations import location_from_row, locations_list, words_match
from tracking.selectors.search import assets_nearest, object_search, search_item
from tracking.serializers import (
    LocationQuerySerializer,
    LocationSerializer,
    NearestItemSerializer,
    NearestQuerySerializer,
    OccupancyQuerySerializer,
    OccupancySerializer,
    SearchItemSerializer,
    SearchQuerySerializer,
    TagQuerySerializer,
    TagSerializer,
    TrackedObjectQuerySerializer,
    TrackedObjectSerializer,
    TrailQuerySerializer,
    TrailSerializer,
)
from tracking.signals import VIA_TRAIL, request_seen

Watch = has_permission(WATCH_PERMISSION)
SeeObjects = has_permission("tracking.view_trackedobject")


class LocationPagination(LimitOffsetPagination):
    default_limit = 500
    max_limit = 5000


def _query(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """The validated query parameters, or a 400 naming each bad one."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _require_floor(request: Request, floor_id: int) -> None:
    if not can_watch_floor(user=request.user, floor_id=floor_id):
        raise PermissionDenied(f"you may not watch floor {floor_id}")


class LocationListApi(GenericAPIView[Any]):
    """Where every tag is now (last known position), on the floors you may watch."""

    permission_classes = [Watch]
    pagination_class = LocationPagination

    @extend_schema(operation_id="locations_list", parameters=[LocationQuerySerializer],
                   responses=LocationSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(LocationQuerySerializer, request)
        floor, zone = query.get("floor"), query.get("zone")
        for asked in (floor.pk if floor else None, zone.floor_id if zone else None):
            if asked is not None:
                _require_floor(request, asked)
        rows = locations_list(user=request.user, floor_id=floor.pk if floor else None, zone=zone,
                              kind=query.get("kind", ""), category=query.get("category", ""), q=query.get("q", ""))
        page = self.paginate_queryset(rows) or []
        request_seen(self, request, (row["tag_code"] for row in page))
        return self.get_paginated_response([location_from_row(row) for row in page])


class SearchApi(GenericAPIView[Any]):
    """Find tracked objects by words ("infusion pump", an asset number, a tag id), most recently seen first."""

    permission_classes = [Watch, SeeObjects]
    pagination_class = LocationPagination

    @extend_schema(operation_id="search_list", parameters=[SearchQuerySerializer],
                   responses=SearchItemSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(SearchQuerySerializer, request)
        floor = query.get("floor")
        if floor is not None:
            _require_floor(request, floor.pk)
        rows = object_search(user=request.user, q=query["q"], floor_id=floor.pk if floor else None)
        page = self.paginate_queryset(rows) or []
        request_seen(self, request, (row["tag_code"] for row in page if row["floor_id"] is not None))
        return self.get_paginated_response([search_item(row) for row in page])


class NearestApi(APIView):
    """The equipment of a category nearest to a zone: same floor first, then the closest levels."""

    permission_classes = [Watch, SeeObjects]

    @extend_schema(operation_id="nearest_list", parameters=[NearestQuerySerializer],
                   responses=NearestItemSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(NearestQuerySerializer, request)
        _require_floor(request, query["zone"].floor_id)
        items = assets_nearest(user=request.user, category=query["category"], zone=query["zone"],
                               available=query["available"], limit=query["limit"])
        request_seen(self, request, (item["tag"] for item in items))
        return Response(items)


class TagTrailApi(APIView):
    """Where one tag has been: its recorded positions over a time range (default: the last hour)."""

    permission_classes = [Watch, has_permission("tracking.view_locationhistory")]

    @extend_schema(operation_id="tags_trail", parameters=[TrailQuerySerializer], responses=TrailSerializer)
    def get(self, request: Request, tag_id: str) -> Response:
        tag = get_object_or_404(Tag, tag_id=tag_id)
        query = _query(TrailQuerySerializer, request)
        trail = tag_trail(user=request.user, tag=tag, since=query["since"], until=query["until"], limit=query["limit"])
        request_seen(self, request, [tag.tag_id], via=VIA_TRAIL)
        return Response(trail)


class OccupancyApi(APIView):
    """Who is in each zone of a floor now (open zone stays), counted by kind; occupied zones only."""

    permission_classes = [Watch, has_permission("tracking.view_zonepresence")]

    @extend_schema(operation_id="occupancy_list", parameters=[OccupancyQuerySerializer],
                   responses=OccupancySerializer(many=True))
    def get(self, request: Request) -> Response:
        floor = _query(OccupancyQuerySerializer, request)["floor"]
        _require_floor(request, floor.pk)
        return Response(zone_occupancy(floor=floor))


class TagViewSet(viewsets.ReadOnlyModelViewSet[Tag]):
    """Tags, looked up by their tag id. Registered and changed in the admin or by services."""

    serializer_class = TagSerializer
    lookup_field = "tag_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(parameters=[TagQuerySerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        request_seen(self, request, [response.data["tag_id"]])
        return response

    def get_queryset(self) -> QuerySet[Tag]:
        tags = Tag.objects.select_related("tracked_object")
        if self.action != "list":
            return tags
        query = _query(TagQuerySerializer, self.request)
        if "tech" in query:
            tags = tags.filter(tech=query["tech"])
        if query.get("active") is not None:
            tags = tags.filter(active=query["active"])
        if "q" in query:
            tags = tags.filter(tag_id__icontains=query["q"])
        return tags


class TrackedObjectViewSet(viewsets.ReadOnlyModelViewSet[TrackedObject]):
    """Tracked objects (equipment, badges, bands, bags) with their tag and, for equipment, the asset record."""

    serializer_class = TrackedObjectSerializer

    @extend_schema(parameters=[TrackedObjectQuerySerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[TrackedObject]:
        objects = TrackedObject.objects.select_related("tag", "asset")
        if self.action != "list":
            return objects
        query = _query(TrackedObjectQuerySerializer, self.request)
        filters = {"kind": query.get("kind"), "asset__category": query.get("category"),
                   "asset__status": query.get("status"), "tag__tag_id": query.get("tag")}
        objects = objects.filter(**{name: value for name, value in filters.items() if value})
        if "q" in query:
            objects = objects.filter(words_match(query["q"]))
        return objects
