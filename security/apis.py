"""Security REST endpoints under /api/security/ (docs/security.md). They translate: security.console reads,
security.services / security.codepink / the door services decide. A refused action (SecurityRefused) is a
409 with the service's sentence in "detail"; a bad body or query a 400 naming the field.

Answers that show where protected infants are (the infant list and detail) are written to the access log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_permission
from security import codepink, services
from security.access import location_views_record
from security.console import (
    access_log,
    door_rows,
    escort_open,
    infant_rows,
    infants_list,
    match_checks_list,
)
from security.doors.services import DoorCommandRefused, door_command
from security.exceptions import SecurityRefused
from security.models import CodePink, DoorController, Infant, LocationAccess, MatchCheck
from security.report import incident_timeline
from security.selectors import enrolment_prompts
from security.serializers import (
    AccessLogQuerySerializer,
    CodePinkQuerySerializer,
    CodePinkResolveSerializer,
    CodePinkSerializer,
    CodePinkStartSerializer,
    DischargeActionSerializer,
    DoorCommandInputSerializer,
    DoorCommandSerializer,
    DoorQuerySerializer,
    DoorRowSerializer,
    EnrolmentPromptSerializer,
    EscortPassSerializer,
    EscortStartSerializer,
    InfantEnrolSerializer,
    InfantQuerySerializer,
    InfantRowSerializer,
    LocationAccessSerializer,
    MatchCheckQuerySerializer,
    MatchCheckRecordSerializer,
    MatchCheckSerializer,
    NoteSerializer,
    TimelineEntrySerializer,
)
from tracking.access import can_watch_floor, floor_ids_visible


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "refused"
    default_code = "refused"


class SecurityErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


REFUSED = {409: OpenApiResponse(SecurityErrorSerializer, description="refused, with the reason")}


class Pagination(LimitOffsetPagination):
    default_limit = 200
    max_limit = 2000


@contextmanager
def refusals() -> Iterator[None]:
    """A service's SecurityRefused becomes a 409 with its sentence; a door command the controller does not
    take (DoorCommandRefused, one of the SecurityRefused family, so it is caught first) a 400 on "command"."""
    try:
        yield
    except DoorCommandRefused as error:  # a command this kind of controller does not take
        raise serializers.ValidationError({"command": str(error)}) from None
    except SecurityRefused as error:
        raise Conflict(str(error)) from None


def _user(request: Request) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied("log in first")
    return request.user


def _query(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _body(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


# ---- doors ---------------------------------------------------------------------------------------------


class DoorListApi(APIView):
    """Door controllers with their state and the doors they lock (of one floor, or of the floors you watch)."""

    permission_classes = [has_permission("security.view_doorcontroller")]

    @extend_schema(operation_id="security_doors_list", parameters=[DoorQuerySerializer],
                   responses=DoorRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        floor = _query(DoorQuerySerializer, request).get("floor")
        if floor is not None and not can_watch_floor(user=request.user, floor_id=floor.pk):
            raise PermissionDenied(f"you may not watch floor {floor.pk}")
        rows = door_rows(floor_id=floor.pk if floor else None)
        visible = floor_ids_visible(user=request.user)
        if visible is not None:
            rows = [row for row in rows if row["floor_id"] is None or row["floor_id"] in visible]
        return Response(rows)


class DoorCommandApi(APIView):
    """Lock, unlock, hold / release elevators or reset a controller: sent over MQTT at once and recorded;
    `acked_at` fills in when the controller confirms."""

    permission_classes = [has_permission("security.view_doorcontroller"),
                          has_permission("security.change_doorcontroller")]

    @extend_schema(operation_id="security_doors_command", request=DoorCommandInputSerializer,
                   responses={202: DoorCommandSerializer, 404: OpenApiResponse(description="no such controller"),
                              **REFUSED})
    def post(self, request: Request, code: str) -> Response:
        controller = get_object_or_404(DoorController, code=code)
        if controller.floor_id is not None and not can_watch_floor(user=request.user, floor_id=controller.floor_id):
            raise NotFound(f"no door controller {code}")
        body = _body(DoorCommandInputSerializer, request)
        user = _user(request)
        with refusals():
            command = door_command(controller=controller, command=body["command"],
                                   reason=body["reason"] or f"{body['command']} by {user.get_username()}", user=user)
        return Response(DoorCommandSerializer(command).data, status=status.HTTP_202_ACCEPTED)


# ---- infants -------------------------------------------------------------------------------------------


def _logged_rows(request: Request, infants: list[Infant]) -> list[dict[str, Any]]:
    """The infants' rows; those showing a place are written to the access log."""
    rows = infant_rows(infants, user=request.user)
    location_views_record(user=request.user, infant_ids=[row["id"] for row in rows if row["place"]],
                          via=LocationAccess.Via.API, detail=request.get_full_path(),
                          remote_addr=request.META.get("REMOTE_ADDR"))
    return rows


def _infant(request: Request, infant_id: int) -> Infant:
    infant = infants_list(user=request.user, states=tuple(Infant.State.values)).filter(pk=infant_id).first()
    if infant is None:
        raise NotFound(f"no infant {infant_id} on your floors")
    return infant


class InfantListApi(GenericAPIView[Any]):
    """Protected infants (or, with discharged=1, the discharged ones) of the wards on floors you watch."""

    permission_classes = [has_permission("security.view_infant")]
    pagination_class = Pagination

    @extend_schema(operation_id="security_infants_list", parameters=[InfantQuerySerializer],
                   responses=InfantRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(InfantQuerySerializer, request)
        states = (Infant.State.DISCHARGED,) if query["discharged"] else Infant.ARMED_STATES
        ward = query.get("ward")
        infants = infants_list(user=request.user, states=states, ward_id=ward.pk if ward else None)
        page = self.paginate_queryset(infants) or []
        return self.get_paginated_response(_logged_rows(request, list(page)))


class InfantDetailApi(APIView):
    permission_classes = [has_permission("security.view_infant")]

    @extend_schema(operation_id="security_infants_retrieve", responses=InfantRowSerializer)
    def get(self, request: Request, infant_id: int) -> Response:
        return Response(_logged_rows(request, [_infant(request, infant_id)])[0])


class InfantEnrolApi(APIView):
    """Enrol an infant whose band was just strapped on (its strap must report closed)."""

    permission_classes = [has_permission("security.add_infant")]

    @extend_schema(operation_id="security_infants_enrol", request=InfantEnrolSerializer,
                   responses={201: InfantRowSerializer, **REFUSED})
    def post(self, request: Request) -> Response:
        body = _body(InfantEnrolSerializer, request)
        mother = body["mother"]
        with refusals():
            infant = services.infant_enrol(tag_id=body["tag_id"], name=body["name"], ward_id=body["ward"].pk,
                                           mother_id=mother.pk if mother else None, born_at=body["born_at"],
                                           user=_user(request))
        return Response(_logged_rows(request, [_infant(request, infant.pk)])[0], status=status.HTTP_201_CREATED)


class EnrolmentPromptListApi(APIView):
    """Bands whose strap closed but which no infant or mother wears yet: enrol them."""

    permission_classes = [has_permission("security.view_tagstate")]

    @extend_schema(operation_id="security_enrolment_prompts", responses=EnrolmentPromptSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([{"tag": state.tag.tag_id, "strap": state.strap, "strap_closed_at": state.strap_closed_at,
                          "battery_pct": state.battery_pct, "updated_at": state.updated_at}
                         for state in enrolment_prompts()])


class InfantEscortApi(APIView):
    """Start an escort / transfer: the infant's exit and outside-ward alarms pause until it ends or expires."""

    permission_classes = [has_permission("security.add_escortpass")]

    @extend_schema(operation_id="security_infants_escort_start", request=EscortStartSerializer,
                   responses={201: EscortPassSerializer, **REFUSED})
    def post(self, request: Request, infant_id: int) -> Response:
        infant = _infant(request, infant_id)
        body = _body(EscortStartSerializer, request)
        with refusals():
            escort = services.escort_start(infant_id=infant.pk, user=_user(request), destination=body["destination"],
                                           reason=body["reason"], minutes=body["minutes"])
        return Response(EscortPassSerializer(escort).data, status=status.HTTP_201_CREATED)


class InfantEscortEndApi(APIView):
    """End the infant's escort in progress (back on the ward): every alarm is armed again."""

    permission_classes = [has_permission("security.change_escortpass")]

    @extend_schema(operation_id="security_infants_escort_end", request=NoteSerializer,
                   responses={200: EscortPassSerializer, **REFUSED})
    def post(self, request: Request, infant_id: int) -> Response:
        infant = _infant(request, infant_id)
        body = _body(NoteSerializer, request)
        escort = escort_open(infant_id=infant.pk)
        if escort is None:
            raise Conflict(f"{infant} has no escort in progress")
        with refusals():
            escort = services.escort_end(escort_id=escort.pk, user=_user(request), note=body["note"])
        return Response(EscortPassSerializer(escort).data)


DISCHARGE: dict[str, Callable[[int, User, str], Any]] = {
    "request": lambda pk, user, reason: services.infant_discharge_request(infant_id=pk, user=user, reason=reason),
    "confirm": lambda pk, user, reason: services.infant_discharge_confirm(infant_id=pk, user=user),
    "cancel": lambda pk, user, reason: services.infant_discharge_cancel(infant_id=pk, user=user),
}


class InfantDischargeApi(APIView):
    """Sign an infant out of protection: one authorized user requests (with a reason), a second confirms;
    either may cancel the request."""

    permission_classes = [has_permission("security.discharge_infant")]

    @extend_schema(operation_id="security_infants_discharge", request=DischargeActionSerializer,
                   responses={200: InfantRowSerializer, 404: OpenApiResponse(description="no such infant or action"),
                              **REFUSED})
    def post(self, request: Request, infant_id: int, action: str) -> Response:
        if action not in DISCHARGE:
            raise NotFound(f"no discharge action {action!r}; one of {', '.join(DISCHARGE)}")
        infant = _infant(request, infant_id)
        body = _body(DischargeActionSerializer, request)
        if action == "request" and not body["reason"].strip():
            raise serializers.ValidationError({"reason": "say why the infant leaves protection"})
        with refusals():
            DISCHARGE[action](infant.pk, _user(request), body["reason"])
        return Response(_logged_rows(request, [_infant(request, infant.pk)])[0])


# ---- Code Pink -----------------------------------------------------------------------------------------


class CodePinkListApi(GenericAPIView[Any]):
    permission_classes = [has_permission("security.view_codepink")]
    pagination_class = Pagination

    @extend_schema(operation_id="security_code_pinks_list", parameters=[CodePinkQuerySerializer],
                   responses=CodePinkSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(CodePinkQuerySerializer, request)
        rows = CodePink.objects.select_related("floor", "building", "infant__tracked_object", "started_by",
                                               "resolved_by").order_by("-started_at", "-pk")
        if query.get("state"):
            rows = rows.filter(state=query["state"])
        if query.get("drill") is not None:
            rows = rows.filter(drill=query["drill"])
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(CodePinkSerializer(page, many=True).data)


class CodePinkStartApi(APIView):
    """Call a Code Pink: every exit of the floor (or building) locks and its elevators are held. With drill
    true the whole flow runs, marked as a drill. An active Code Pink of the same scope gets a note instead."""

    permission_classes = [has_permission("security.start_codepink")]

    @extend_schema(operation_id="security_code_pinks_start", request=CodePinkStartSerializer,
                   responses={201: CodePinkSerializer, **REFUSED})
    def post(self, request: Request) -> Response:
        body = _body(CodePinkStartSerializer, request)
        floor, infant = body["floor"], body["infant"]
        building = floor.building if floor is not None else body["building"]
        with refusals():
            incident = codepink.code_pink_start(
                trigger=CodePink.Trigger.MANUAL, building_id=building.pk, floor_id=floor.pk if floor else None,
                infant_id=infant.pk if infant else None, drill=body["drill"], user=_user(request), note=body["note"])
        return Response(CodePinkSerializer(incident).data, status=status.HTTP_201_CREATED)


class CodePinkDetailApi(APIView):
    permission_classes = [has_permission("security.view_codepink")]

    @extend_schema(operation_id="security_code_pinks_retrieve", responses=CodePinkSerializer)
    def get(self, request: Request, code_pink_id: int) -> Response:
        return Response(CodePinkSerializer(get_object_or_404(CodePink, pk=code_pink_id)).data)


class CodePinkResolveApi(APIView):
    """End a Code Pink with what happened: what it locked unlocks, what it held is released."""

    permission_classes = [has_permission("security.view_codepink"), has_permission("security.change_codepink")]

    @extend_schema(operation_id="security_code_pinks_resolve", request=CodePinkResolveSerializer,
                   responses={200: CodePinkSerializer, **REFUSED})
    def post(self, request: Request, code_pink_id: int) -> Response:
        get_object_or_404(CodePink, pk=code_pink_id)
        body = _body(CodePinkResolveSerializer, request)
        with refusals():
            incident = codepink.code_pink_resolve(code_pink_id=code_pink_id, user=_user(request),
                                                  resolution=body["resolution"])
        return Response(CodePinkSerializer(incident).data)


class CodePinkTimelineApi(APIView):
    """The incident's timeline: its own lines, its alert's events, its door commands and their confirmations
    and the infant's alarms meanwhile, oldest first."""

    permission_classes = [has_permission("security.view_codepink")]

    @extend_schema(operation_id="security_code_pinks_timeline", responses=TimelineEntrySerializer(many=True))
    def get(self, request: Request, code_pink_id: int) -> Response:
        incident = get_object_or_404(CodePink, pk=code_pink_id)
        return Response(TimelineEntrySerializer(incident_timeline(incident), many=True).data)


# ---- match checks and the access log ----------------------------------------------------------------------


class MatchCheckListApi(GenericAPIView[Any]):
    """Mother-infant match checks, newest first; POST records one a nurse made by hand (a wrong pairing raises
    the mismatch alarm)."""

    pagination_class = Pagination

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [has_permission("security.add_matchcheck")()]
        return [has_permission("security.view_matchcheck")()]

    @extend_schema(operation_id="security_match_checks_list", parameters=[MatchCheckQuerySerializer],
                   responses=MatchCheckSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(MatchCheckQuerySerializer, request)
        rows = match_checks_list(infant_id=query.get("infant"), mother_id=query.get("mother"),
                                 result=query.get("result"))
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(MatchCheckSerializer(page, many=True).data)

    @extend_schema(operation_id="security_match_checks_record", request=MatchCheckRecordSerializer,
                   responses={201: MatchCheckSerializer, **REFUSED})
    def post(self, request: Request) -> Response:
        body = _body(MatchCheckRecordSerializer, request)
        with refusals():
            check = services.match_record(mother_id=body["mother"].pk, infant_id=body["infant"].pk,
                                          how=MatchCheck.How.MANUAL, at=timezone.now(), user=_user(request))
        return Response(MatchCheckSerializer(check).data, status=status.HTTP_201_CREATED)


class AccessLogApi(GenericAPIView[Any]):
    """Who was shown which protected infant's location, when and through what, newest first."""

    permission_classes = [has_permission("security.view_locationaccess")]
    pagination_class = Pagination

    @extend_schema(operation_id="security_access_log", parameters=[AccessLogQuerySerializer],
                   responses=LocationAccessSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = _query(AccessLogQuerySerializer, request)
        rows = access_log(username=query.get("user", ""), infant_id=query.get("infant"), via=query.get("via", ""),
                          since=query.get("since"), until=query.get("until"))
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(LocationAccessSerializer(page, many=True).data)
