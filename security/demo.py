"""The demo's infant protection: door controllers for every lockable door and lift bank, mothers with UWB
tags, and the maternity ward's demo infants enrolled. Called by `manage.py load_demo` after the inventory
(the infants' tags and the admitted mothers exist by then); running it again changes nothing.

Controllers: one per distinct Door.lock_controller of a floor (a maglock when it locks an exit, else an
access-control lock), topic hospital_iot/doors/<code>; one elevator bank per floor with lift zones,
"lifts-<ward code>" (or the floor code when the floor has no single ward).
Mothers (on every floor with a nursery): an infant homed in a mother room gets the mother of that room
(the ADT patient in its bed when there is one); a nursery infant's mother is in the first room, by code,
with no infant in it and an admitted patient. A mother's tag is the infant's with "A" for its first
character (infant B003, mother A003). Every demo band reports its strap closed (TagState).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from floorplans.models import Door, Floor, Zone
from infusion.models import Patient
from security.models import DoorController, Infant, Mother, TagState
from security.services import infant_enrol, mother_register
from tracking.models import Tag, TrackedObject

TOPIC_PREFIX = "hospital_iot/doors"
LIFT_ZONES = (Zone.Kind.ELEVATOR, Zone.Kind.ELEVATOR_LOBBY)


@dataclass(frozen=True)
class DemoSecurity:
    controllers: int
    mothers: int
    infants: int
    enrolled_now: int

    def __str__(self) -> str:
        return (f"{self.controllers} door controllers, {self.mothers} mothers with tags, {self.infants} infants "
                f"protected ({self.enrolled_now} enrolled now)")


@transaction.atomic
def security_demo_load(*, now: datetime | None = None) -> DemoSecurity:
    """Controllers, mothers and enrolled infants for the demo hospital (idempotent)."""
    now = now or timezone.now()
    controllers = [c for floor in Floor.objects.order_by("building_id", "level") for c in _controllers(floor)]
    mothers = enrolled = infants = 0
    for nursery in Zone.objects.filter(kind=Zone.Kind.NURSERY, ward__isnull=False).select_related("ward"):
        assert nursery.ward is not None
        counts = _maternity(nursery.floor_id, nursery.ward, now=now)
        mothers, infants, enrolled = mothers + counts[0], infants + counts[1], enrolled + counts[2]
    return DemoSecurity(controllers=len(controllers), mothers=mothers, infants=infants, enrolled_now=enrolled)


def _controllers(floor: Floor) -> list[DoorController]:
    doors: dict[str, list[Door]] = {}
    for door in Door.objects.filter(floor=floor).exclude(lock_controller="").order_by("code"):
        doors.setdefault(door.lock_controller, []).append(door)
    rows = [
        _controller(code, kind=DoorController.Kind.MAGLOCK if any(d.is_exit for d in these)
                    else DoorController.Kind.ACCESS, name=" + ".join(d.name for d in these), floor=floor)
        for code, these in sorted(doors.items())
    ]
    if Zone.objects.filter(floor=floor, kind__in=LIFT_ZONES).exists():
        wards = list(Zone.objects.filter(floor=floor, kind=Zone.Kind.WARD).values_list("code", flat=True))
        code = f"lifts-{wards[0] if len(wards) == 1 else floor.code}"
        rows.append(_controller(code, kind=DoorController.Kind.ELEVATOR, name=f"Lifts at {floor.name}", floor=floor))
    return rows


def _controller(code: str, *, kind: str, name: str, floor: Floor) -> DoorController:
    controller, _ = DoorController.objects.update_or_create(
        code=code, defaults={"kind": kind, "name": name[:200], "floor": floor, "topic": f"{TOPIC_PREFIX}/{code}"})
    return controller


def _maternity(floor_id: int, ward: Zone, *, now: datetime) -> tuple[int, int, int]:
    """(mothers, protected infants, enrolled now) on one maternity floor."""
    babies = list(TrackedObject.objects.filter(kind=TrackedObject.Kind.INFANT, tag__isnull=False,
                                               home_zone__floor_id=floor_id)
                  .select_related("tag", "home_zone").order_by("tag__tag_id"))
    baby_rooms = {b.home_zone_id for b in babies}
    enrolled = mothers = 0
    for index, baby in enumerate(babies):
        assert baby.tag is not None and baby.home_zone is not None
        room = baby.home_zone if baby.home_zone.kind == Zone.Kind.ROOM else _free_room(floor_id, ward, baby_rooms)
        mother = _mother(baby.tag, room, ward) if room is not None else None
        mothers += mother is not None
        for tag in (baby.tag, mother.tracked_object.tag if mother is not None else None):
            if tag is not None:
                _strap_closed(tag, now=now)
        if not Infant.objects.filter(tracked_object=baby, state__in=Infant.ARMED_STATES).exists():
            infant_enrol(tag_id=baby.tag.tag_id, name=baby.name, ward_id=ward.pk,
                         mother_id=mother.pk if mother is not None else None,
                         born_at=now - timedelta(hours=8 + 11 * index), user=None, at=now)
            enrolled += 1
    return mothers, len(babies), enrolled


def _free_room(floor_id: int, ward: Zone, baby_rooms: set[int | None]) -> Zone | None:
    """The first mother room (by code) with nobody's infant homed in it and, if possible, a patient in bed."""
    rooms = [r for r in Zone.objects.filter(floor_id=floor_id, kind=Zone.Kind.ROOM, ward=ward).order_by("code")
             if r.pk not in baby_rooms]
    return next((r for r in rooms if _patient_in(r) is not None), rooms[0] if rooms else None)


def _patient_in(room: Zone) -> Patient | None:
    return (Patient.objects.filter(bed__parent=room, discharged_at__isnull=True).order_by("bed__code").first())


def _mother(baby_tag: Tag, room: Zone, ward: Zone) -> Mother:
    tag_id = f"A{baby_tag.tag_id[1:]}" if baby_tag.tag_id.startswith("B") else f"A{baby_tag.tag_id}"
    existing = Mother.objects.filter(tracked_object__tag__tag_id=tag_id).first()
    if existing is not None:  # what happened to her in the demo (a new name) stays; she lives by her baby
        if existing.tracked_object.home_zone_id != room.pk:  # an older demo roomed the infants elsewhere
            TrackedObject.objects.filter(pk=existing.tracked_object_id).update(home_zone=room)
        return existing
    patient = _patient_in(room)
    name = f"{patient.given_name} {patient.family_name}" if patient is not None else f"Mother in {room.name}"
    return mother_register(tag_id=tag_id, name=name, ward_id=ward.pk, patient_id=patient.pk if patient else None,
                           user=None, home_zone_id=room.pk, tech=baby_tag.tech)


def _strap_closed(tag: Tag, *, now: datetime) -> None:
    state = TagState.objects.filter(tag=tag).first()
    if state is None:
        TagState.objects.create(tag=tag, strap=TagState.Strap.CLOSED, strap_closed_at=now, updated_at=now)
    elif state.strap != TagState.Strap.CLOSED:
        state.strap, state.strap_closed_at, state.updated_at = TagState.Strap.CLOSED, now, now
        state.save(update_fields=["strap", "strap_closed_at", "updated_at"])
