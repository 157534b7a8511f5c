"""API shapes of security/: query parameters and request bodies (validated: 400 naming each bad field) and
responses. Row-like answers (doors, infants, timeline entries) are built as dicts by security.console and
security.report; their serializers here describe them for the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from floorplans.models import Building, Floor, Zone
from security.models import CodePink, DoorCommand, DoorController, Infant, LocationAccess, MatchCheck, Mother, TagState
from security.services import ESCORT_MINUTES

_ENUMS: dict[str, type[serializers.ChoiceField]] = {}


def enum_field(component: str, choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A choice field whose enum is its own schema component (named here: the same field name in another app,
    "state" or "kind", would otherwise collide with a different set of choices). One class per component."""
    if component not in _ENUMS:
        values = [choice[0] if isinstance(choice, tuple) else choice for choice in choices]

        @extend_schema_field({"type": "string", "enum": values}, component_name=component)
        class EnumField(serializers.ChoiceField):
            pass

        _ENUMS[component] = EnumField
    return _ENUMS[component](choices=choices, **kwargs)


STRAP = TagState.Strap.choices

# ---- doors -----------------------------------------------------------------------------------------------


class DoorQuerySerializer(serializers.Serializer[Any]):
    floor = serializers.PrimaryKeyRelatedField(queryset=Floor.objects.all(), required=False)


class DoorRowSerializer(serializers.Serializer[Any]):
    """One door controller and its state (the rows of the floor websocket's "doors" message)."""

    controller = serializers.CharField(help_text="DoorController.code")
    name = serializers.CharField()
    kind = enum_field("DoorControllerKind", DoorController.Kind.choices)
    floor_id = serializers.IntegerField(allow_null=True)
    doors = serializers.ListField(child=serializers.CharField(), help_text="codes of the doors it locks")
    locked = serializers.BooleanField()
    open = serializers.BooleanField()
    forced = serializers.BooleanField(help_text="opened while locked, without egress release")
    held_open = serializers.BooleanField()
    held = serializers.BooleanField(help_text="elevators held at this floor")
    egress = enum_field("DoorEgress", DoorController.Egress.choices,
                        help_text="delayed egress: pending counts down to release_at")
    release_at = serializers.DateTimeField(allow_null=True)
    online = serializers.BooleanField()
    state_at = serializers.DateTimeField(allow_null=True, help_text="when the controller last reported")


class DoorCommandInputSerializer(serializers.Serializer[Any]):
    command = enum_field("DoorCommandName", DoorCommand.Command.choices)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DoorCommandSerializer(serializers.ModelSerializer[DoorCommand]):
    command = enum_field("DoorCommandName", DoorCommand.Command.choices, read_only=True)
    controller = serializers.CharField(source="controller.code", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = DoorCommand
        fields = ["command_id", "controller", "command", "reason", "requested_by", "code_pink", "sent_at", "acked_at",
                  "error"]
        read_only_fields = fields


# ---- infants ---------------------------------------------------------------------------------------------


class InfantQuerySerializer(serializers.Serializer[Any]):
    ward = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.filter(kind=Zone.Kind.WARD), required=False)
    discharged = serializers.BooleanField(required=False, default=False,
                                          help_text="1: the discharged infants instead of the protected ones")


class InfantMotherSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InfantWardSerializer(InfantMotherSerializer):
    floor = serializers.IntegerField()


class InfantPlaceSerializer(serializers.Serializer[Any]):
    floor = serializers.IntegerField()
    floor_name = serializers.CharField()
    zone = serializers.IntegerField(allow_null=True)
    zone_name = serializers.CharField()
    x_m = serializers.FloatField()
    y_m = serializers.FloatField()
    seen_at = serializers.DateTimeField()


class InfantEscortSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    destination = serializers.CharField()
    reason = serializers.CharField()
    authorized_by = serializers.CharField()
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class InfantDischargeSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField()
    requested_at = serializers.DateTimeField(allow_null=True)
    requested_by = serializers.CharField(allow_null=True)


class InfantRowSerializer(serializers.Serializer[Any]):
    """A protected infant: band, place (null off your floors or never located), escort, discharge request."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    tag = serializers.CharField()
    state = enum_field("InfantState", Infant.State.choices)
    state_label = serializers.CharField()
    mother = InfantMotherSerializer(allow_null=True)
    ward = InfantWardSerializer()
    born_at = serializers.DateTimeField(allow_null=True)
    enrolled_at = serializers.DateTimeField()
    strap = enum_field("BandStrap", STRAP)
    battery_pct = serializers.IntegerField(allow_null=True)
    battery_mv = serializers.IntegerField(allow_null=True)
    heard_at = serializers.DateTimeField(allow_null=True, help_text="the band's last status report")
    place = InfantPlaceSerializer(allow_null=True)
    escort = InfantEscortSerializer(allow_null=True, help_text="the escort pass in progress")
    discharge = InfantDischargeSerializer(allow_null=True, help_text="the pending discharge request")


class InfantEnrolSerializer(serializers.Serializer[Any]):
    tag_id = serializers.CharField(max_length=128, help_text="the band's tag; its strap must report closed")
    name = serializers.CharField(max_length=200)
    ward = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.filter(kind=Zone.Kind.WARD))
    mother = serializers.PrimaryKeyRelatedField(queryset=Mother.objects.all(), required=False, allow_null=True,
                                                default=None)
    born_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class EscortStartSerializer(serializers.Serializer[Any]):
    destination = serializers.CharField(max_length=200)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    minutes = serializers.IntegerField(min_value=ESCORT_MINUTES[0], max_value=ESCORT_MINUTES[1],
                                       help_text="the pass expires after this")


class NoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DischargeActionSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                   help_text="needed to request")


class EnrolmentPromptSerializer(serializers.Serializer[Any]):
    tag = serializers.CharField()
    strap = enum_field("BandStrap", STRAP)
    strap_closed_at = serializers.DateTimeField(allow_null=True)
    battery_pct = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField()


class EscortPassSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    infant = serializers.IntegerField(source="infant_id")
    destination = serializers.CharField()
    reason = serializers.CharField()
    authorized_by = serializers.CharField(source="authorized_by.username")
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    ended_by = serializers.CharField(source="ended_by.username", allow_null=True, default=None)
    end_note = serializers.CharField()


# ---- Code Pink -------------------------------------------------------------------------------------------


class CodePinkQuerySerializer(serializers.Serializer[Any]):
    state = enum_field("CodePinkState", CodePink.State.choices, required=False)
    drill = serializers.BooleanField(required=False, allow_null=True, default=None)


class CodePinkSerializer(serializers.ModelSerializer[CodePink]):
    trigger = enum_field("CodePinkTrigger", CodePink.Trigger.choices, read_only=True)
    state = enum_field("CodePinkState", CodePink.State.choices, read_only=True)
    floor_name = serializers.CharField(source="floor.name", read_only=True, allow_null=True, default=None)
    building_name = serializers.CharField(source="building.name", read_only=True)
    infant_name = serializers.CharField(source="infant.tracked_object.name", read_only=True, allow_null=True,
                                        default=None)
    started_by = serializers.CharField(source="started_by.username", read_only=True, allow_null=True, default=None)
    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = CodePink
        fields = ["id", "trigger", "drill", "state", "floor", "floor_name", "building", "building_name", "infant",
                  "infant_name", "alert", "started_at", "started_by", "resolved_at", "resolved_by", "resolution"]
        read_only_fields = fields


class CodePinkStartSerializer(serializers.Serializer[Any]):
    floor = serializers.PrimaryKeyRelatedField(queryset=Floor.objects.all(), required=False, allow_null=True,
                                               default=None, help_text="the floor to lock down")
    building = serializers.PrimaryKeyRelatedField(queryset=Building.objects.all(), required=False, allow_null=True,
                                                  default=None, help_text="without a floor: every floor of it")
    infant = serializers.PrimaryKeyRelatedField(queryset=Infant.objects.all(), required=False, allow_null=True,
                                                default=None, help_text="the missing infant, if known")
    drill = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        floor, building = attrs.get("floor"), attrs.get("building")
        if floor is None and building is None:
            raise serializers.ValidationError({"floor": "name a floor, or a building for all its floors"})
        if floor is not None and building is not None and floor.building_id != building.pk:
            raise serializers.ValidationError({"floor": "that floor is not in that building"})
        return attrs


class CodePinkResolveSerializer(serializers.Serializer[Any]):
    resolution = serializers.CharField(max_length=4000, help_text="what happened and how it ended")


class TimelineEntrySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    source = enum_field(  # type: ignore[assignment]  # a field named like Field.source: fine in DRF
        "IncidentEntrySource", ["code pink", "alert", "door", "infant alert"])
    action = serializers.CharField()
    by = serializers.CharField()
    note = serializers.CharField()


# ---- match checks, access log -------------------------------------------------------------------------------


class MatchCheckQuerySerializer(serializers.Serializer[Any]):
    infant = serializers.IntegerField(required=False, min_value=1)
    mother = serializers.IntegerField(required=False, min_value=1)
    result = enum_field("MatchResult", MatchCheck.Result.choices, required=False)


class MatchCheckSerializer(serializers.ModelSerializer[MatchCheck]):
    result = enum_field("MatchResult", MatchCheck.Result.choices, read_only=True)
    how = enum_field("MatchHow", MatchCheck.How.choices, read_only=True)
    mother_name = serializers.CharField(source="mother.tracked_object.name", read_only=True)
    infant_name = serializers.CharField(source="infant.tracked_object.name", read_only=True)
    zone_name = serializers.CharField(source="zone.name", read_only=True, allow_null=True, default=None)
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = MatchCheck
        fields = ["id", "mother", "mother_name", "infant", "infant_name", "result", "how", "at", "zone", "zone_name",
                  "distance_m", "user", "alert"]
        read_only_fields = fields


class MatchCheckRecordSerializer(serializers.Serializer[Any]):
    """A nurse checked a pairing by hand (bands read side by side)."""

    mother = serializers.PrimaryKeyRelatedField(queryset=Mother.objects.all())
    infant = serializers.PrimaryKeyRelatedField(queryset=Infant.objects.all())


class AccessLogQuerySerializer(serializers.Serializer[Any]):
    user = serializers.CharField(required=False, max_length=150, help_text="username, exactly")
    infant = serializers.IntegerField(required=False, min_value=1)
    via = enum_field("LocationAccessVia", LocationAccess.Via.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class LocationAccessSerializer(serializers.ModelSerializer[LocationAccess]):
    via = enum_field("LocationAccessVia", LocationAccess.Via.choices, read_only=True)
    infant_name = serializers.CharField(source="infant.tracked_object.name", read_only=True, allow_null=True,
                                        default=None)

    class Meta:
        model = LocationAccess
        fields = ["id", "at", "username", "user", "infant", "infant_name", "tag_id", "via", "detail", "remote_addr"]
        read_only_fields = fields
