"""Infusion REST endpoints (mounted under api/infusion/). They translate; infusion.bags decides, infusion.selectors
reads. A refused action is a 409 with the reason in "detail"; a bag on a ward the user may not see is a 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_permission
from infusion import bags as services
from infusion.exceptions import BagError, BagInvalid
from infusion.fhir import bag_medication_administration
from infusion.models import InfusionBag
from infusion.selectors import (
    bag_by_scan,
    bag_get,
    bag_summary,
    bag_timeline,
    bags_list,
    open_alerts_by_bag,
    patients_list,
    ward_board,
    wards_visible,
)
from infusion.serializers import (
    BagActionSerializer,
    BagEventSerializer,
    BagQuerySerializer,
    BagRegisterSerializer,
    BagSerializer,
    BoardSerializer,
    PatientQuerySerializer,
    PatientSerializer,
)

SeeBags = has_permission("infusion.view_infusionbag")
ChangeBags = has_permission("infusion.change_infusionbag")
AddBags = has_permission("infusion.add_infusionbag")
SeePatients = has_permission("infusion.view_patient")


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "the bag's state does not allow this"
    default_code = "conflict"


def _user(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("log in first")
    return user


def _query(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _bag(request: Request, bag_id: int) -> InfusionBag:
    try:
        return bag_get(user=request.user, bag_id=bag_id)
    except InfusionBag.DoesNotExist:
        raise NotFound(f"no bag {bag_id}") from None


class BagListApi(GenericAPIView[Any]):
    """Bags of the wards you may see (filter by ward, status, patient MRN, active); POST registers a new bag
    (pharmacy: infusion.add_infusionbag)."""

    permission_classes = [SeeBags]
    serializer_class = BagSerializer

    def get_permissions(self) -> list[Any]:
        return [AddBags()] if self.request.method == "POST" else [SeeBags()]

    @extend_schema(operation_id="infusion_bags_list", parameters=[BagQuerySerializer],
                   responses=BagSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(BagQuerySerializer, request)
        rows = bags_list(user=request.user, ward_id=query.get("ward"), status=query.get("status"),
                         patient_mrn=query.get("patient", ""), active=query.get("active"))
        page = self.paginate_queryset(rows) or []
        now = timezone.now()
        alerts = open_alerts_by_bag([b.pk for b in page])
        return self.get_paginated_response(
            [BagSerializer(bag_summary(b, now=now, alerts=alerts.get(b.pk, []))).data for b in page])

    @extend_schema(operation_id="infusion_bags_register", request=BagRegisterSerializer,
                   responses={201: BagSerializer})
    def post(self, request: Request) -> Response:
        data = BagRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            bag = services.bag_register(user=_user(request), **data.validated_data)
        except BagInvalid as e:
            raise ValidationError({"detail": str(e)}) from None
        except BagError as e:
            raise Conflict(str(e)) from None
        return Response(BagSerializer(_summary(bag)).data, status=status.HTTP_201_CREATED)


def _summary(bag: InfusionBag) -> dict[str, Any]:
    bag = InfusionBag.objects.select_related("patient", "patient__bed", "patient__ward", "ward",
                                             "tracked_object__tag").get(pk=bag.pk)
    return bag_summary(bag, now=timezone.now(), alerts=open_alerts_by_bag([bag.pk]).get(bag.pk, []))


class BagDetailApi(APIView):
    """One bag with its progress (infused, remaining, fraction, minutes left) and open alarms."""

    permission_classes = [SeeBags]

    @extend_schema(operation_id="infusion_bags_retrieve", responses=BagSerializer)
    def get(self, request: Request, bag_id: int) -> Response:
        return Response(BagSerializer(_summary(_bag(request, bag_id))).data)


Action = Callable[[int, User, dict[str, Any]], InfusionBag]

ACTIONS: dict[str, Action] = {
    "dispense": lambda pk, user, d: services.bag_dispense(bag_id=pk, user=user),
    "start": lambda pk, user, d: services.bag_start(bag_id=pk, user=user, bed=d["bed_zone_id"],
                                                    rate_ml_h=d["rate_ml_h"]),
    "pause": lambda pk, user, d: services.bag_pause(bag_id=pk, user=user, note=d["note"]),
    "resume": lambda pk, user, d: services.bag_resume(bag_id=pk, user=user, bed=d["bed_zone_id"], note=d["note"]),
    "rate": lambda pk, user, d: services.bag_change_rate(bag_id=pk, user=user, rate_ml_h=_rate(d), note=d["note"]),
    "complete": lambda pk, user, d: services.bag_complete(bag_id=pk, user=user, note=d["note"]),
    "discontinue": lambda pk, user, d: services.bag_discontinue(bag_id=pk, user=user, note=d["note"]),
    "return": lambda pk, user, d: services.bag_return(bag_id=pk, user=user, note=d["note"]),
    "waste": lambda pk, user, d: services.bag_waste(bag_id=pk, user=user, note=d["note"]),
}


def _rate(data: dict[str, Any]) -> float:
    if data["rate_ml_h"] is None:
        raise ValidationError({"rate_ml_h": "the new rate is required"})
    return float(data["rate_ml_h"])


class BagActionApi(APIView):
    """Act on a bag: dispense, start, pause, resume, rate, complete, discontinue, return, waste. Body: note,
    rate_ml_h (start, rate), bed_zone_id (start, resume). 409 with the reason when refused."""

    permission_classes = [ChangeBags]

    @extend_schema(operation_id="infusion_bags_action", request=BagActionSerializer,
                   parameters=[OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                enum=list(ACTIONS))],
                   responses={200: BagSerializer, 409: OpenApiTypes.OBJECT})
    def post(self, request: Request, bag_id: int, action: str) -> Response:
        act = ACTIONS.get(action)
        if act is None:
            raise NotFound(f"no action {action!r}: one of {', '.join(ACTIONS)}")
        bag = _bag(request, bag_id)
        data = BagActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            bag = act(bag.pk, _user(request), dict(data.validated_data))
        except BagError as e:
            raise Conflict(str(e)) from None
        return Response(BagSerializer(_summary(bag)).data)


class BagTimelineApi(APIView):
    """The bag's custody timeline: pharmacy → transport → ward → bed → infusing → done, with places and people."""

    permission_classes = [SeeBags, has_permission("infusion.view_bagevent")]

    @extend_schema(operation_id="infusion_bags_timeline", responses=BagEventSerializer(many=True))
    def get(self, request: Request, bag_id: int) -> Response:
        return Response(BagEventSerializer(bag_timeline(bag=_bag(request, bag_id)), many=True).data)


class BagFhirApi(APIView):
    """The bag's administration as a FHIR R4 MedicationAdministration resource."""

    permission_classes = [SeeBags]

    @extend_schema(operation_id="infusion_bags_fhir", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, bag_id: int) -> Response:
        body = bag_medication_administration(_bag(request, bag_id))
        return Response(body, content_type="application/fhir+json")


class BagScanApi(APIView):
    """The bag now carrying a scanned tag id (404 if none, or not on a ward you may see)."""

    permission_classes = [SeeBags]

    @extend_schema(operation_id="infusion_scan", responses=BagSerializer)
    def get(self, request: Request, tag_id: str) -> Response:
        try:
            bag = bag_by_scan(user=request.user, tag_id=tag_id)
        except InfusionBag.DoesNotExist:
            raise NotFound(f"no bag carries tag {tag_id}") from None
        return Response(BagSerializer(_summary(bag)).data)


class WardBoardApi(APIView):
    """The ward infusion board: its beds (patient, bags with progress and open alarms), for the board page."""

    permission_classes = [SeeBags]

    @extend_schema(operation_id="infusion_ward_board", responses=BoardSerializer)
    def get(self, request: Request, ward_id: int) -> Response:
        ward = get_object_or_404(wards_visible(user=request.user), pk=ward_id)
        return Response(BoardSerializer(ward_board(ward=ward)).data)


class PatientListApi(GenericAPIView[Any]):
    """Patients of the wards you may see (admitted only unless admitted=0)."""

    permission_classes = [SeePatients]
    serializer_class = PatientSerializer

    @extend_schema(operation_id="infusion_patients_list", parameters=[PatientQuerySerializer],
                   responses=PatientSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(PatientQuerySerializer, request)
        rows = patients_list(user=request.user, ward_id=query.get("ward"), admitted=query["admitted"])
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(PatientSerializer(page, many=True).data)
