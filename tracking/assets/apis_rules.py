"""The rules API under /api/assets/: status rules, forbidden zones, PAR levels. Reads need the model's view
permission (PAR levels: nurses too, scoped to the floors they may watch); writes the add / change / delete
permission (biomedical engineering) and go through tracking.assets.services_rules. A refused write is a 400
naming the field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import has_permission
from tracking.assets import services_rules as services
from tracking.assets.selectors_rules import (
    forbidden_zones_list,
    par_levels_overview,
    par_levels_visible,
    status_rules_list,
)
from tracking.assets.serializers_rules import (
    ForbiddenZoneSerializer,
    ParLevelInSerializer,
    ParLevelSerializer,
    StatusRuleSerializer,
)
from tracking.models import ForbiddenZone, ParLevel, StatusRule

METHOD_PERMISSION = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
                     "PATCH": "change", "DELETE": "delete"}


def _permissions(request: Request, model: str) -> list[Any]:
    return [has_permission(f"tracking.{METHOD_PERMISSION.get(request.method or 'GET', 'change')}_{model}")()]


def _saved(save: Any) -> Any:
    try:
        return save()
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}) \
            from None


def _merged(serializer_class: Any, request: Request, instance: Any | None) -> dict[str, Any]:
    """The validated body; for PATCH, over the instance's current values."""
    partial = request.method == "PATCH"
    data = serializer_class(instance, data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    if partial and instance is not None:
        current = serializer_class(instance).data
        base = {name: getattr(instance, name) for name in current if name not in {"id", "zone_name"}}
        fields = base | fields
    return fields


class StatusRuleListApi(GenericAPIView[Any]):
    """Status-from-place rules; POST adds one."""

    serializer_class = StatusRuleSerializer

    def get_permissions(self) -> list[Any]:
        return _permissions(self.request, "statusrule")

    @extend_schema(operation_id="assets_status_rules_list", responses=StatusRuleSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(StatusRuleSerializer(status_rules_list(), many=True).data)

    @extend_schema(operation_id="assets_status_rules_create", request=StatusRuleSerializer,
                   responses={201: StatusRuleSerializer})
    def post(self, request: Request) -> Response:
        fields = _merged(StatusRuleSerializer, request, None)
        rule = _saved(lambda: services.statusrule_save(user=request.user, **fields))
        return Response(StatusRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class StatusRuleDetailApi(GenericAPIView[Any]):
    serializer_class = StatusRuleSerializer

    def get_permissions(self) -> list[Any]:
        return _permissions(self.request, "statusrule")

    def _rule(self, rule_id: int) -> StatusRule:
        rule = status_rules_list().filter(pk=rule_id).first()
        if rule is None:
            raise NotFound(f"no status rule {rule_id}")
        return rule

    @extend_schema(operation_id="assets_status_rules_get", responses=StatusRuleSerializer)
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(StatusRuleSerializer(self._rule(rule_id)).data)

    @extend_schema(operation_id="assets_status_rules_update", request=StatusRuleSerializer,
                   responses=StatusRuleSerializer)
    def put(self, request: Request, rule_id: int) -> Response:
        fields = _merged(StatusRuleSerializer, request, self._rule(rule_id))
        rule = _saved(lambda: services.statusrule_save(rule_id=rule_id, user=request.user, **fields))
        return Response(StatusRuleSerializer(rule).data)

    @extend_schema(operation_id="assets_status_rules_patch", request=StatusRuleSerializer,
                   responses=StatusRuleSerializer)
    def patch(self, request: Request, rule_id: int) -> Response:
        return self.put(request, rule_id)

    @extend_schema(operation_id="assets_status_rules_delete", responses={204: None})
    def delete(self, request: Request, rule_id: int) -> Response:
        self._rule(rule_id)
        services.statusrule_delete(rule_id=rule_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ForbiddenZoneListApi(GenericAPIView[Any]):
    """Zones (or zone kinds) assets of a category (or all) must not enter; POST adds one."""

    serializer_class = ForbiddenZoneSerializer

    def get_permissions(self) -> list[Any]:
        return _permissions(self.request, "forbiddenzone")

    @extend_schema(operation_id="assets_forbidden_zones_list", responses=ForbiddenZoneSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ForbiddenZoneSerializer(forbidden_zones_list(), many=True).data)

    @extend_schema(operation_id="assets_forbidden_zones_create", request=ForbiddenZoneSerializer,
                   responses={201: ForbiddenZoneSerializer})
    def post(self, request: Request) -> Response:
        fields = _merged(ForbiddenZoneSerializer, request, None)
        spec = _saved(lambda: services.forbiddenzone_save(user=request.user, **fields))
        return Response(ForbiddenZoneSerializer(spec).data, status=status.HTTP_201_CREATED)


class ForbiddenZoneDetailApi(GenericAPIView[Any]):
    serializer_class = ForbiddenZoneSerializer

    def get_permissions(self) -> list[Any]:
        return _permissions(self.request, "forbiddenzone")

    def _spec(self, forbidden_id: int) -> ForbiddenZone:
        spec = forbidden_zones_list().filter(pk=forbidden_id).first()
        if spec is None:
            raise NotFound(f"no forbidden zone {forbidden_id}")
        return spec

    @extend_schema(operation_id="assets_forbidden_zones_get", responses=ForbiddenZoneSerializer)
    def get(self, request: Request, forbidden_id: int) -> Response:
        return Response(ForbiddenZoneSerializer(self._spec(forbidden_id)).data)

    @extend_schema(operation_id="assets_forbidden_zones_update", request=ForbiddenZoneSerializer,
                   responses=ForbiddenZoneSerializer)
    def put(self, request: Request, forbidden_id: int) -> Response:
        fields = _merged(ForbiddenZoneSerializer, request, self._spec(forbidden_id))
        spec = _saved(lambda: services.forbiddenzone_save(forbidden_id=forbidden_id, user=request.user, **fields))
        return Response(ForbiddenZoneSerializer(spec).data)

    @extend_schema(operation_id="assets_forbidden_zones_delete", responses={204: None})
    def delete(self, request: Request, forbidden_id: int) -> Response:
        self._spec(forbidden_id)
        services.forbiddenzone_delete(forbidden_id=forbidden_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _par_out(user: Any, par_id: int) -> dict[str, Any]:
    rows = par_levels_overview(par_levels_visible(user=user).filter(pk=par_id))
    if not rows:
        raise NotFound(f"no PAR level {par_id}")
    return rows[0]


class ParLevelListApi(GenericAPIView[Any]):
    """PAR levels on the floors you may watch, each with its available count now and its state; POST adds one
    (it is counted at once)."""

    serializer_class = ParLevelSerializer

    def get_permissions(self) -> list[Any]:
        return _permissions(self.request, "parlevel")

    @extend_schema(operation_id="assets_par_levels_list", responses=ParLevelSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ParLevelSerializer(par_levels_overview(par_levels_visible(user=request.user)), many=True).data)

    @extend_schema(operation_id="assets_par_levels_create", request=ParLevelInSerializer,
                   responses={201: ParLevelSerializer})
    def post(self, request: Request) -> Response:
        data = ParLevelInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        par = _saved(lambda: services.parlevel_save(user=request.user, **data.validated_data))
        return Response(ParLevelSerializer(_par_out(request.user, par.pk)).data, status=status.HTTP_201_CREATED)


class ParLevelDetailApi(GenericAPIView[Any]):
    serializer_class = ParLevelSerializer

    def get_permissions(self) -> list[Any]:
        return _permissions(self.request, "parlevel")

    def _par(self, par_id: int) -> ParLevel:
        par = par_levels_visible(user=self.request.user).filter(pk=par_id).first()
        if par is None:
            raise NotFound(f"no PAR level {par_id}")
        return par

    @extend_schema(operation_id="assets_par_levels_get", responses=ParLevelSerializer)
    def get(self, request: Request, par_id: int) -> Response:
        return Response(ParLevelSerializer(_par_out(request.user, par_id)).data)

    @extend_schema(operation_id="assets_par_levels_update", request=ParLevelInSerializer,
                   responses=ParLevelSerializer)
    def put(self, request: Request, par_id: int) -> Response:
        par = self._par(par_id)
        data = ParLevelInSerializer(data=request.data, partial=request.method == "PATCH")
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = {"zone": par.zone, "category": par.category, "target_count": par.target_count,
                  "critical_count": par.critical_count, "ward": par.ward} | dict(data.validated_data)
        _saved(lambda: services.parlevel_save(par_id=par_id, user=request.user, **fields))
        return Response(ParLevelSerializer(_par_out(request.user, par_id)).data)

    @extend_schema(operation_id="assets_par_levels_patch", request=ParLevelInSerializer,
                   responses=ParLevelSerializer)
    def patch(self, request: Request, par_id: int) -> Response:
        return self.put(request, par_id)

    @extend_schema(operation_id="assets_par_levels_delete", responses={204: None})
    def delete(self, request: Request, par_id: int) -> Response:
        self._par(par_id)
        services.parlevel_delete(par_id=par_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
