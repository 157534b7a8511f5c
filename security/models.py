"""Infant protection and door control: who is protected, what their tags say, the doors we can lock, the
escort passes that suspend exit alarms, Code Pink incidents, mother-infant match checks and the log of
who looked at an infant's location."""

from __future__ import annotations

import uuid
from typing import ClassVar, Final

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator

from floorplans.models import Building, Floor, Zone
from tracking.models import Tag, TrackedObject

HELD_OPEN_MIN_S: Final = 5.0  # shorter: people walking through slowly (a bed, a wheelchair) would trip it
HELD_OPEN_MAX_S: Final = 600.0  # longer: a propped exit would go unnoticed for more than ten minutes


class DoorController(models.Model):
    """A lock or elevator controller we command over MQTT (`<topic>/cmd`, state on `<topic>/state`).

    `code` is what floorplans.Door.lock_controller names; one controller may serve several doors (a pair
    of leaves, a lift lobby). The state fields mirror the controller's last retained state message.
    `held_open_s` is how long a locked door may stand open before the controller reports it held open.
    """

    class Kind(models.TextChoices):
        MAGLOCK = "maglock", "exit maglock (delayed egress)"
        ACCESS = "access", "access-controlled door"
        ELEVATOR = "elevator", "elevator bank (hold output)"

    class Egress(models.TextChoices):
        IDLE = "idle"
        PENDING = "pending", "egress delay running"
        RELEASED = "released", "released by delayed egress"

    code = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MAGLOCK)
    floor = models.ForeignKey(Floor, null=True, blank=True, on_delete=models.SET_NULL, related_name="door_controllers")
    topic = models.CharField(max_length=200, help_text="MQTT base topic; commands go to <topic>/cmd")
    egress_delay_s = models.FloatField(default=15.0, help_text="delayed egress: release this long after a push")
    egress_push_s = models.FloatField(default=1.0, help_text="how long a push must last to start the delay (<= 3 s)")
    held_open_s = models.FloatField(
        default=30.0, validators=[MinValueValidator(HELD_OPEN_MIN_S), MaxValueValidator(HELD_OPEN_MAX_S)],
        help_text=f"a locked door open longer than this is held open ({HELD_OPEN_MIN_S:g} to {HELD_OPEN_MAX_S:g} s)",
    )
    # last reported state
    online = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    door_open = models.BooleanField(default=False)
    forced = models.BooleanField(default=False, help_text="opened while locked, without egress release")
    held_open = models.BooleanField(default=False)
    held = models.BooleanField(default=False, help_text="elevator bank: cars held at this floor")
    egress = models.CharField(max_length=16, choices=Egress.choices, default=Egress.IDLE)
    egress_release_at = models.DateTimeField(null=True, blank=True)
    state_at = models.DateTimeField(null=True, blank=True, help_text="when the controller last reported")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(held_open_s__gte=HELD_OPEN_MIN_S, held_open_s__lte=HELD_OPEN_MAX_S),
                name="doorcontroller_held_open_5_to_600_s",
                violation_error_message=f"The held-open time must be {HELD_OPEN_MIN_S:g} to {HELD_OPEN_MAX_S:g} s.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DoorCommand(models.Model):
    """Every command sent to a controller, and whether the controller confirmed it (audit trail)."""

    class Command(models.TextChoices):
        LOCK = "lock"
        UNLOCK = "unlock"
        HOLD = "hold", "hold elevators"
        RELEASE = "release", "release elevators"
        RESET = "reset", "reset egress / alarm"

    command_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    controller = models.ForeignKey(DoorController, on_delete=models.CASCADE, related_name="commands")
    command = models.CharField(max_length=16, choices=Command.choices)
    reason = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    code_pink = models.ForeignKey("CodePink", null=True, blank=True, on_delete=models.SET_NULL, related_name="commands")
    sent_at = models.DateTimeField()
    acked_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.command} {self.controller_id} @ {self.sent_at:%H:%M:%S}"


class TagState(models.Model):
    """What a band tag last said about itself: strap, tamper, battery, heartbeat."""

    class Strap(models.TextChoices):
        UNKNOWN = "unknown"
        CLOSED = "closed"
        LOOSE = "loose"
        CUT = "cut", "cut / tampered"

    tag = models.OneToOneField(Tag, primary_key=True, on_delete=models.CASCADE, related_name="band_state")
    strap = models.CharField(max_length=8, choices=Strap.choices, default=Strap.UNKNOWN)
    battery_pct = models.PositiveSmallIntegerField(null=True, blank=True)
    battery_mv = models.PositiveIntegerField(null=True, blank=True)
    strap_closed_at = models.DateTimeField(null=True, blank=True, help_text="when the strap last closed")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.tag_id}: strap {self.strap}"


class Mother(models.Model):
    """A mother wearing a tag for match checks (kind "mother" tracked object), optionally the ADT patient."""

    tracked_object = models.OneToOneField(TrackedObject, on_delete=models.CASCADE, related_name="mother",
                                          limit_choices_to={"kind": "mother"})
    patient = models.ForeignKey("infusion.Patient", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta:
        ordering = ["tracked_object__name"]

    def __str__(self) -> str:
        return self.tracked_object.name


class Infant(models.Model):
    """An infant under protection: enrolled when its band tag's strap closed, protected until a signed-off
    discharge (requested by one authorized user with a reason, confirmed by a second)."""

    class State(models.TextChoices):
        PROTECTED = "protected"
        DISCHARGE_REQUESTED = "discharge_requested", "discharge requested"
        DISCHARGED = "discharged"

    tracked_object = models.OneToOneField(TrackedObject, on_delete=models.CASCADE, related_name="infant",
                                          limit_choices_to={"kind": "infant"})
    mother = models.ForeignKey(Mother, null=True, blank=True, on_delete=models.SET_NULL, related_name="infants")
    ward = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="protected_infants",
                             limit_choices_to={"kind": "ward"})
    born_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=24, choices=State.choices, default=State.PROTECTED)
    enrolled_at = models.DateTimeField()
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    discharge_reason = models.CharField(max_length=200, blank=True)
    discharge_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                               on_delete=models.SET_NULL, related_name="+")
    discharge_requested_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", help_text="the second user, who confirmed the discharge")
    discharged_at = models.DateTimeField(null=True, blank=True)

    ARMED_STATES: ClassVar[tuple[str, ...]] = (State.PROTECTED, State.DISCHARGE_REQUESTED)

    class Meta:
        ordering = ["tracked_object__name"]
        permissions = [("discharge_infant", "Can sign an infant out of protection")]

    def __str__(self) -> str:
        return self.tracked_object.name


class EscortPass(models.Model):
    """A transfer / escort (e.g. to radiology): the infant's exit and outside-ward alarms are suspended
    until it ends or expires; tamper, supervision and mismatch stay armed."""

    infant = models.ForeignKey(Infant, on_delete=models.CASCADE, related_name="escorts")
    destination = models.CharField(max_length=200)
    reason = models.CharField(max_length=200, blank=True)
    authorized_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    end_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.infant} -> {self.destination}"


class CodePink(models.Model):
    """An infant-abduction incident (or a drill): exits locked, elevators held, a timeline until resolved."""

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        EXIT_BREACH = "exit_breach", "infant through an exit"
        DOOR_FORCED = "door_forced", "exit door forced"
        TAMPER = "tamper", "band cut"

    class State(models.TextChoices):
        ACTIVE = "active"
        RESOLVED = "resolved"

    floor = models.ForeignKey(Floor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="the floor locked down (none: the whole building)")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+")
    infant = models.ForeignKey(Infant, null=True, blank=True, on_delete=models.SET_NULL, related_name="code_pinks")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    drill = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    alert = models.ForeignKey("alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        permissions = [("start_codepink", "Can start and resolve Code Pink")]

    def __str__(self) -> str:
        return f"Code Pink{' drill' if self.drill else ''} {self.started_at:%Y-%m-%d %H:%M}"


class CodePinkEvent(models.Model):
    """One line of an incident's timeline (doors locked, infant seen, acknowledged, resolved...)."""

    code_pink = models.ForeignKey(CodePink, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    action = models.CharField(max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class MatchCheck(models.Model):
    """A mother and an infant brought together: the pairing right (a match record) or wrong (an alarm)."""

    class Result(models.TextChoices):
        MATCH = "match"
        MISMATCH = "mismatch"

    class How(models.TextChoices):
        BUTTON = "button", "mother tag button"
        TOGETHER = "together", "stayed together"
        MANUAL = "manual", "checked by a nurse"

    mother = models.ForeignKey(Mother, on_delete=models.CASCADE, related_name="match_checks")
    infant = models.ForeignKey(Infant, on_delete=models.CASCADE, related_name="match_checks")
    result = models.CharField(max_length=8, choices=Result.choices)
    how = models.CharField(max_length=8, choices=How.choices)
    at = models.DateTimeField()
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    distance_m = models.FloatField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    alert = models.ForeignKey("alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at"]


class LocationAccess(models.Model):
    """Who looked at an infant's location, when and through what (console, API, floor map, report)."""

    class Via(models.TextChoices):
        CONSOLE = "console", "security console"
        API = "api", "REST API"
        FLOOR_MAP = "floor_map", "floor map"
        TRAIL = "trail", "trail"
        REPORT = "report", "incident report"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, help_text="kept if the user is deleted")
    infant = models.ForeignKey(Infant, null=True, on_delete=models.SET_NULL, related_name="location_views")
    tag_id = models.CharField(max_length=128)
    at = models.DateTimeField(db_index=True)
    via = models.CharField(max_length=16, choices=Via.choices)
    detail = models.CharField(max_length=200, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "location accesses"
