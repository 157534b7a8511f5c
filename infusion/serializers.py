"""Shapes of the infusion API: query and body inputs, and the outputs (which render the selectors' dicts)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from floorplans.models import Zone
from infusion.models import BagEvent, InfusionBag, Patient


class BagQuerySerializer(serializers.Serializer[Any]):
    ward = serializers.IntegerField(required=False, help_text="ward zone id")
    status = serializers.CharField(required=False, help_text="one status or several, comma separated")
    patient = serializers.CharField(required=False, help_text="the patient's MRN")
    active = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="1: still in the ward's hands (dispensed..paused); 0: the others")

    def validate_status(self, value: str) -> list[str]:
        statuses = [s.strip() for s in value.split(",") if s.strip()]
        unknown = sorted(set(statuses) - set(InfusionBag.Status.values))
        if unknown:
            raise serializers.ValidationError(f"unknown status {', '.join(unknown)}")
        return statuses


class BagRegisterSerializer(serializers.Serializer[Any]):
    tag_id = serializers.CharField(max_length=128)
    tech = serializers.ChoiceField(choices=["rfid", "ble", "uwb"], default="rfid")
    patient_mrn = serializers.CharField(max_length=32)
    drug = serializers.CharField(max_length=200)
    concentration = serializers.CharField(max_length=100, allow_blank=True, default="")
    volume_ml = serializers.FloatField(min_value=0.1, max_value=10000)
    ordered_rate_ml_h = serializers.FloatField(min_value=0.1)
    lot = serializers.CharField(max_length=64, allow_blank=True, default="")
    expires_at = serializers.DateTimeField()


class BagActionSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(allow_blank=True, default="", max_length=2000)
    rate_ml_h = serializers.FloatField(required=False, allow_null=True, default=None,
                                       help_text="start: the rate (default: ordered); rate: the new rate")
    bed_zone_id = serializers.PrimaryKeyRelatedField(
        queryset=Zone.objects.filter(kind=Zone.Kind.BED), required=False, allow_null=True, default=None,
        help_text="start/resume: the bed the nurse is at (checked against the bag's patient)")


class PatientQuerySerializer(serializers.Serializer[Any]):
    ward = serializers.IntegerField(required=False)
    admitted = serializers.BooleanField(default=True, help_text="0: discharged patients too")


# --- outputs --------------------------------------------------------------------------------------------


class _PatientNameSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    mrn = serializers.CharField()
    name = serializers.CharField()
    family_name = serializers.CharField()
    given_name = serializers.CharField()


class BagPatientSerializer(_PatientNameSerializer):
    bed_id = serializers.IntegerField(allow_null=True)
    bed_name = serializers.CharField()


class ProgressSerializer(serializers.Serializer[Any]):
    infused_ml = serializers.FloatField()
    remaining_ml = serializers.FloatField()
    fraction = serializers.FloatField(help_text="infused / volume, 0..1")
    minutes_remaining = serializers.FloatField(allow_null=True, help_text="null unless infusing")
    empty_at = serializers.DateTimeField(allow_null=True)


class OpenAlertSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    severity = serializers.IntegerField()
    state = serializers.CharField()
    title = serializers.CharField()


class BagSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    tag_id = serializers.CharField()
    status = serializers.ChoiceField(choices=InfusionBag.Status.choices)
    drug = serializers.CharField()
    concentration = serializers.CharField()
    volume_ml = serializers.FloatField()
    ordered_rate_ml_h = serializers.FloatField()
    rate_ml_h = serializers.FloatField(allow_null=True)
    lot = serializers.CharField()
    expires_at = serializers.DateTimeField()
    expired = serializers.BooleanField()
    ward_id = serializers.IntegerField(allow_null=True)
    ward_name = serializers.CharField()
    patient = BagPatientSerializer()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    arrived_bedside_at = serializers.DateTimeField(allow_null=True)
    progress = ProgressSerializer()
    alarms = serializers.ListField(child=serializers.CharField(), help_text="kinds of the open alerts")
    open_alerts = OpenAlertSerializer(many=True)
    version = serializers.IntegerField()
    allowed = serializers.ListField(child=serializers.CharField(), help_text="statuses the bag may move to")


class BagEventSerializer(serializers.ModelSerializer[BagEvent]):
    user = serializers.SerializerMethodField()
    zone_name = serializers.SerializerMethodField()

    class Meta:
        model = BagEvent
        fields = ["id", "at", "action", "user", "zone", "zone_name", "floor", "x_m", "y_m", "from_status",
                  "to_status", "rate_ml_h", "note", "data"]

    def get_user(self, event: BagEvent) -> str:
        user = event.user
        return "" if user is None else (user.get_full_name() or user.get_username())

    def get_zone_name(self, event: BagEvent) -> str:
        return event.zone.name if event.zone else ""


class BoardRoomSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class BoardPatientSerializer(_PatientNameSerializer):
    birth_date = serializers.DateField(allow_null=True)
    sex = serializers.CharField()
    admitted_at = serializers.DateTimeField(allow_null=True)


class BoardBedSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="the bed's zone id")
    zone_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    room = BoardRoomSerializer(allow_null=True)
    patient = BoardPatientSerializer(allow_null=True)
    bags = BagSerializer(many=True)
    alarms = serializers.ListField(child=serializers.CharField())


class BoardWardSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    floor_id = serializers.IntegerField()


class BoardSerializer(serializers.Serializer[Any]):
    ward = BoardWardSerializer()
    generated_at = serializers.DateTimeField()
    beds = BoardBedSerializer(many=True)
    other_bags = BagSerializer(many=True, help_text="bags of the ward whose patient has no bed on it now")


class PatientSerializer(serializers.ModelSerializer[Patient]):
    ward_name = serializers.SerializerMethodField()
    bed_name = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = ["id", "mrn", "family_name", "given_name", "birth_date", "sex", "ward", "ward_name", "bed",
                  "bed_name", "admitted_at", "discharged_at", "visit_number"]

    def get_ward_name(self, patient: Patient) -> str:
        return patient.ward.name if patient.ward else ""

    def get_bed_name(self, patient: Patient) -> str:
        return patient.bed.name if patient.bed else ""
