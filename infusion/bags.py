"""Writes for infusion bags: every status change is atomic, locked, checked against the transition table,
recorded as a BagEvent (who, when, where) and announced to the ward after commit.

People act through bag_register / bag_dispense / bag_start / bag_pause / bag_resume / bag_change_rate /
bag_complete / bag_discontinue / bag_return / bag_waste; the location rules (infusion.rules) move bags
along the ward (bag_location_changed) and record alarms (bag_alarm_record).
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from alerts.services import alert_condition_clear
from floorplans.models import Zone
from infusion.exceptions import BagExpired, BagInvalid, BagWrongPlace, InvalidBagTransition
from infusion.models import BagEvent, InfusionBag, Patient
from infusion.progress import Segment, infused_ml
from tracking.models import CurrentLocation, Tag, TrackedObject

logger = logging.getLogger(__name__)

Status = InfusionBag.Status
Action = BagEvent.Action

# a CurrentLocation older than this does not say where the bag is now (the start check ignores it)
LOCATION_MAX_AGE_S: float = getattr(settings, "INFUSION_LOCATION_MAX_AGE_S", 120.0)
MAX_RATE_ML_H: float = getattr(settings, "INFUSION_MAX_RATE_ML_H", 999.0)  # what a volumetric pump accepts

# alerts that end with the bag (resolved: the condition cannot come back) / that stay for a person to close
ALERTS_RESOLVED_AT_END = ("infusion.near_empty", "infusion.complete", "infusion.not_started", "infusion.expired")
ALERTS_CLEARED_AT_END = ("infusion.wrong_patient", "infusion.left_ward")
_ON_WARD_STATUSES = (InfusionBag.Status.ON_WARD, InfusionBag.Status.AT_BEDSIDE, InfusionBag.Status.INFUSING,
                     InfusionBag.Status.PAUSED)


class Place(StrEnum):
    """Where a bag is, as its patient sees it (infusion.rules classifies zones into these)."""

    OWN_BED = "own_bed"  # the patient's bed
    OTHER_BED = "other_bed"  # another admitted patient's bed
    WARD = "ward"  # elsewhere on the bag's ward (corridor, medication room, an empty bed)
    OFF_WARD = "off_ward"  # seen outside the bag's ward
    UNKNOWN = "unknown"  # not in any zone (silent, left the floor)

    @property
    def on_ward(self) -> bool:
        return self in (Place.OWN_BED, Place.OTHER_BED, Place.WARD)


def alert_key(kind: str, bag_id: int) -> str:
    """The identity of one bag's ongoing condition, e.g. "infusion.near_empty:bag=17"."""
    return f"{kind}:bag={bag_id}"


def ward_group(ward_id: int) -> str:
    return f"ward.{ward_id}"


def bag_infused_ml(bag: InfusionBag, now: datetime) -> float:
    """Volume infused by `now` (closed segments plus the running one)."""
    segments = [] if bag.segment_started_at is None or bag.rate_ml_h is None else [
        Segment(bag.segment_started_at, None, bag.rate_ml_h)]
    return infused_ml(segments, now, volume_ml=bag.volume_ml, before_ml=bag.infused_ml_before)


# --- pharmacy -------------------------------------------------------------------------------------------


@transaction.atomic
def bag_register(
    *, tag_id: str, patient_mrn: str, drug: str, concentration: str, volume_ml: float, ordered_rate_ml_h: float,
    lot: str, expires_at: datetime, user: User | None, tech: str = Tag.Tech.RFID, at: datetime | None = None,
) -> InfusionBag:
    """Pharmacy labels a bag for an admitted patient with a tag (created if new; a tag whose previous bag has
    ended is moved to this one)."""
    at = at or timezone.now()
    patient = Patient.objects.filter(mrn=patient_mrn).first()
    if patient is None:
        raise BagInvalid(f"no patient with MRN {patient_mrn}")
    if patient.discharged_at is not None:
        raise BagInvalid(f"{_patient_name(patient)} was discharged")
    if not drug.strip():
        raise BagInvalid("the drug is missing")
    if volume_ml <= 0 or not 0 < ordered_rate_ml_h <= MAX_RATE_ML_H:
        raise BagInvalid(f"volume {volume_ml} mL / rate {ordered_rate_ml_h} mL/h: need volume > 0 and "
                         f"0 < rate <= {MAX_RATE_ML_H:g}")
    if expires_at <= at:
        raise BagExpired(f"the bag expired at {expires_at:%Y-%m-%d %H:%M}")
    tag, _ = Tag.objects.select_for_update().get_or_create(tag_id=tag_id, defaults={"tech": tech})
    previous = TrackedObject.objects.filter(tag=tag).select_related("infusion_bag").first()
    if previous is not None:
        old_bag = getattr(previous, "infusion_bag", None)
        if previous.kind != TrackedObject.Kind.BAG:
            raise BagInvalid(f"tag {tag_id} is on {previous.name} ({previous.kind})")
        if old_bag is not None and old_bag.status not in InfusionBag.ENDED:
            raise BagInvalid(f"tag {tag_id} is on bag {old_bag.pk} ({old_bag.drug}), which is {old_bag.status}")
        previous.tag = None
        previous.save(update_fields=["tag"])
    obj = TrackedObject.objects.create(kind=TrackedObject.Kind.BAG, tag=tag, home_zone=patient.bed,
                                       name=f"{drug} {volume_ml:g} mL · {patient.family_name} ({patient.mrn})")
    bag = InfusionBag.objects.create(
        tracked_object=obj, patient=patient, ward=patient.ward, drug=drug.strip(), concentration=concentration,
        volume_ml=volume_ml, ordered_rate_ml_h=ordered_rate_ml_h, lot=lot, expires_at=expires_at,
    )
    _event(bag, Action.REGISTERED, at=at, user=user, from_status="", data={"tag_id": tag_id})
    return bag


@transaction.atomic
def bag_dispense(*, bag_id: int, user: User | None, at: datetime | None = None) -> InfusionBag:
    """Pharmacy sends the bag to the patient's ward (its ward is fixed here)."""
    bag = _locked(bag_id)
    at = at or timezone.now()
    _check_not_expired(bag, at)
    old = _move(bag, Status.DISPENSED)
    bag.ward_id = bag.patient.ward_id
    _save(bag, "status", "ward")
    _event(bag, Action.DISPENSED, at=at, user=user, from_status=old)
    return bag


# --- at the bedside -------------------------------------------------------------------------------------


@transaction.atomic
def bag_start(
    *, bag_id: int, user: User | None, bed: Zone | None = None, rate_ml_h: float | None = None,
    at: datetime | None = None,
) -> InfusionBag:
    """A nurse starts the infusion (at the ordered rate unless given). Refused for a bag at another patient's
    bed (its live location, or the bed the nurse names), an expired bag, or a bag not on the ward."""
    bag = _locked(bag_id)
    at = at or timezone.now()
    rate = bag.ordered_rate_ml_h if rate_ml_h is None else _check_rate(rate_ml_h)
    if not bag.can_become(Status.INFUSING):
        raise InvalidBagTransition(bag_id=bag.pk, from_status=bag.status, to_status=Status.INFUSING,
                                   action="started")
    _check_not_expired(bag, at)
    zone = _check_place(bag, bed=bed, at=at)
    old = _move(bag, Status.INFUSING)
    bag.rate_ml_h, bag.segment_started_at, bag.started_by = rate, at, user
    bag.started_at = bag.started_at or at
    _save(bag, "status", "rate_ml_h", "segment_started_at", "started_by", "started_at")
    _event(bag, Action.STARTED, at=at, user=user, from_status=old, zone=zone, rate_ml_h=rate)
    _clear_alerts(bag, ("infusion.not_started",), at=at, resolve=True, note="started")
    return bag


@transaction.atomic
def bag_pause(*, bag_id: int, user: User | None, note: str = "", at: datetime | None = None) -> InfusionBag:
    bag = _locked(bag_id)
    at = at or timezone.now()
    old = _move(bag, Status.PAUSED, action="paused")
    _close_segment(bag, at)
    _save(bag, "status", "infused_ml_before", "segment_started_at")
    _event(bag, Action.PAUSED, at=at, user=user, from_status=old, note=note)
    return bag


@transaction.atomic
def bag_resume(
    *, bag_id: int, user: User | None, bed: Zone | None = None, note: str = "", at: datetime | None = None
) -> InfusionBag:
    """Restart a paused bag at its current rate (the wrong-bed check applies again)."""
    bag = _locked(bag_id)
    at = at or timezone.now()
    if not bag.can_become(Status.INFUSING) or bag.status != Status.PAUSED:
        raise InvalidBagTransition(bag_id=bag.pk, from_status=bag.status, to_status=Status.INFUSING,
                                   action="resumed")
    zone = _check_place(bag, bed=bed, at=at)
    old = _move(bag, Status.INFUSING)
    bag.segment_started_at = at
    _save(bag, "status", "segment_started_at")
    _event(bag, Action.RESUMED, at=at, user=user, from_status=old, zone=zone, rate_ml_h=bag.rate_ml_h, note=note)
    return bag


@transaction.atomic
def bag_change_rate(
    *, bag_id: int, user: User | None, rate_ml_h: float, note: str = "", at: datetime | None = None
) -> InfusionBag:
    """A new rate for a running (or paused) bag: the volume so far is kept at the old rate."""
    bag = _locked(bag_id)
    at = at or timezone.now()
    rate = _check_rate(rate_ml_h)
    if bag.status not in InfusionBag.RUNNING:
        raise BagInvalid(f"bag {bag.pk} is {bag.status}: only an infusing or paused bag has a rate to change")
    old_rate = bag.rate_ml_h
    if bag.status == Status.INFUSING:
        _close_segment(bag, at)
        bag.segment_started_at = at
    bag.rate_ml_h = rate
    _save(bag, "rate_ml_h", "infused_ml_before", "segment_started_at")
    _event(bag, Action.RATE_CHANGED, at=at, user=user, from_status=bag.status, rate_ml_h=rate, note=note,
           data={"previous_rate_ml_h": old_rate})
    return bag


# --- the end --------------------------------------------------------------------------------------------


@transaction.atomic
def bag_complete(*, bag_id: int, user: User | None, note: str = "", at: datetime | None = None) -> InfusionBag:
    return _end(bag_id, Status.COMPLETED, Action.COMPLETED, user=user, note=note, at=at)


@transaction.atomic
def bag_discontinue(*, bag_id: int, user: User | None, note: str, at: datetime | None = None) -> InfusionBag:
    """Stop for good before the bag is empty; the reason is required."""
    if not note.strip():
        raise BagInvalid("say why the infusion is discontinued")
    return _end(bag_id, Status.DISCONTINUED, Action.DISCONTINUED, user=user, note=note, at=at)


@transaction.atomic
def bag_return(*, bag_id: int, user: User | None, note: str = "", at: datetime | None = None) -> InfusionBag:
    return _end(bag_id, Status.RETURNED, Action.RETURNED, user=user, note=note, at=at)


@transaction.atomic
def bag_waste(*, bag_id: int, user: User | None, note: str, at: datetime | None = None) -> InfusionBag:
    if not note.strip():
        raise BagInvalid("say why the bag is wasted")
    return _end(bag_id, Status.WASTED, Action.WASTED, user=user, note=note, at=at)


# --- from the location rules ----------------------------------------------------------------------------


@transaction.atomic
def bag_location_changed(
    *, bag_id: int, place: Place, previous: Place | None, zone_id: int | None, at: datetime,
    floor_id: int | None = None, x_m: float | None = None, y_m: float | None = None,
) -> InfusionBag:
    """The bag settled in a new place (after the rules' hysteresis): move it along the ward automatically
    (dispensed → on_ward → at_bedside, and back to on_ward when it leaves the bed) and write the custody
    steps. `previous` None (the rules just started): the status says whether it was on the ward."""
    bag = _locked(bag_id)
    if bag.status in InfusionBag.ENDED or bag.status == Status.REGISTERED or place == Place.UNKNOWN:
        return bag
    where: dict[str, Any] = {"zone_id": zone_id, "floor_id": floor_id, "x_m": x_m, "y_m": y_m}
    # where the bag was before: the rules' previous place, else what its status says (None: not known)
    was_on_ward = previous.on_ward if previous is not None else bag.status in _ON_WARD_STATUSES
    was_at_bed = (previous == Place.OWN_BED) if previous is not None else (
        True if bag.status == Status.AT_BEDSIDE else None)
    steps: list[tuple[str, str, str]] = []  # (action, from, to)
    if place.on_ward and bag.status == Status.DISPENSED:
        _move(bag, Status.ON_WARD)
        steps.append((Action.ARRIVED_WARD, Status.DISPENSED, Status.ON_WARD))
    elif place.on_ward and not was_on_ward:
        steps.append((Action.ARRIVED_WARD, bag.status, bag.status))
    if was_on_ward and place == Place.OFF_WARD:
        steps.append((Action.LEFT_WARD, bag.status, bag.status))
    if place == Place.OWN_BED and bag.status == Status.ON_WARD:
        _move(bag, Status.AT_BEDSIDE)
        bag.arrived_bedside_at = at
        steps.append((Action.AT_BEDSIDE, Status.ON_WARD, Status.AT_BEDSIDE))
    elif place == Place.OWN_BED and was_at_bed is False:
        steps.append((Action.AT_BEDSIDE, bag.status, bag.status))
    elif place != Place.OWN_BED and bag.status == Status.AT_BEDSIDE:
        _move(bag, Status.ON_WARD)
        steps.append((Action.LEFT_BEDSIDE, Status.AT_BEDSIDE, Status.ON_WARD))
    elif place != Place.OWN_BED and was_at_bed:
        steps.append((Action.LEFT_BEDSIDE, bag.status, bag.status))
    if not steps:
        return bag
    _save(bag, "status", "arrived_bedside_at")
    for action, from_status, to_status in steps:
        BagEvent.objects.create(bag=bag, at=at, action=action, from_status=from_status, to_status=to_status,
                                data={"place": str(place)}, **where)
    _announce(bag, steps[-1][0])
    return bag


def bag_alarm_record(*, bag_id: int, kind: str, raised: bool, at: datetime, zone_id: int | None = None,
                     note: str = "") -> BagEvent:
    """Put an alarm (raised or cleared) on the bag's custody timeline."""
    bag = InfusionBag.objects.get(pk=bag_id)
    return BagEvent.objects.create(bag=bag, at=at, action=Action.ALARM if raised else Action.ALARM_CLEARED,
                                   zone_id=zone_id, from_status=bag.status, to_status=bag.status, note=note,
                                   data={"kind": kind})


# --- helpers --------------------------------------------------------------------------------------------


def _locked(bag_id: int) -> InfusionBag:
    bag = InfusionBag.objects.select_for_update(of=("self",)).select_related("patient").filter(pk=bag_id).first()
    if bag is None:
        raise InfusionBag.DoesNotExist(f"no bag {bag_id}")
    return bag


def _move(bag: InfusionBag, status: str, *, action: str = "") -> str:
    """Check the table and set the new status; returns the old one."""
    if not bag.can_become(status):
        raise InvalidBagTransition(bag_id=bag.pk, from_status=bag.status, to_status=status, action=action)
    old, bag.status = bag.status, status
    return old


def _save(bag: InfusionBag, *fields: str) -> None:
    bag.version += 1
    bag.save(update_fields=[*fields, "version", "updated_at"])


def _end(bag_id: int, status: str, action: str, *, user: User | None, note: str, at: datetime | None) -> InfusionBag:
    bag = _locked(bag_id)
    at = at or timezone.now()
    old = _move(bag, status, action=status)
    if old == Status.INFUSING:
        _close_segment(bag, at)
    bag.ended_at = bag.ended_at or at
    _save(bag, "status", "infused_ml_before", "segment_started_at", "ended_at")
    _event(bag, action, at=at, user=user, from_status=old, note=note,
           data={"infused_ml": round(bag.infused_ml_before, 1)})
    _clear_alerts(bag, ALERTS_RESOLVED_AT_END, at=at, resolve=True, note=f"bag {status}")
    _clear_alerts(bag, ALERTS_CLEARED_AT_END, at=at, resolve=False, note=f"bag {status}")
    return bag


def _close_segment(bag: InfusionBag, at: datetime) -> None:
    bag.infused_ml_before = bag_infused_ml(bag, at)
    bag.segment_started_at = None


def _check_rate(rate_ml_h: float) -> float:
    if not 0 < rate_ml_h <= MAX_RATE_ML_H:
        raise BagInvalid(f"rate {rate_ml_h:g} mL/h is out of range (0 < rate <= {MAX_RATE_ML_H:g})")
    return float(rate_ml_h)


def _check_not_expired(bag: InfusionBag, at: datetime) -> None:
    if bag.expires_at <= at:
        raise BagExpired(f"bag {bag.pk} ({bag.drug}) expired at {bag.expires_at:%Y-%m-%d %H:%M}: do not use it")


def _check_place(bag: InfusionBag, *, bed: Zone | None, at: datetime) -> Zone | None:
    """The zone the bag is started in (the named bed, else its fresh live location); refuses another
    patient's bed or another ward."""
    patient = bag.patient
    if patient.discharged_at is not None or patient.bed_id is None:
        raise BagWrongPlace(f"bag is for {_patient_name(patient)}, who has no bed now (discharged?)")
    places = [bed] if bed is not None else []
    location = (CurrentLocation.objects.filter(tag__tracked_object=bag.tracked_object_id)
                .select_related("zone").first())
    fresh = location is not None and (at - location.seen_at).total_seconds() <= LOCATION_MAX_AGE_S
    if location is not None and location.zone is not None and fresh:
        places.append(location.zone)
    for zone in places:
        if zone.pk == patient.bed_id:
            continue
        here = _zone_label(zone)
        if zone.kind == Zone.Kind.BED:
            occupant = Patient.objects.filter(bed=zone, discharged_at__isnull=True).first()
            who = f" ({_patient_name(occupant)})" if occupant else ""
            raise BagWrongPlace(f"bag is for {_patient_name(patient)} in {_zone_label(patient.bed)}; "
                                f"this is {here}{who}")
        # room-level location (BLE places a bag in a room, not on a bed): a room or bay where only other
        # patients are admitted is their bedside
        admitted = list(Patient.objects.filter(bed__parent=zone, discharged_at__isnull=True))
        others = [p for p in admitted if p.pk != patient.pk]
        if others and len(others) == len(admitted):
            names = ", ".join(_patient_name(p) for p in others)
            raise BagWrongPlace(f"bag is for {_patient_name(patient)} in {_zone_label(patient.bed)}; "
                                f"this is {here} ({names})")
        ward_id = zone.pk if zone.kind == Zone.Kind.WARD else zone.ward_id
        if bag.ward_id is not None and ward_id != bag.ward_id:
            raise BagWrongPlace(f"bag is for {_patient_name(patient)} in {_zone_label(patient.bed)}; "
                                f"it is in {here}, not on that ward")
    return places[0] if places else patient.bed


def _clear_alerts(bag: InfusionBag, kinds: tuple[str, ...], *, at: datetime, resolve: bool, note: str) -> None:
    for kind in kinds:
        alert_condition_clear(key=alert_key(kind, bag.pk), note=note, at=at, resolve=resolve)


def _event(
    bag: InfusionBag, action: str, *, at: datetime, user: User | None, from_status: str, zone: Zone | None = None,
    rate_ml_h: float | None = None, note: str = "", data: dict[str, Any] | None = None,
) -> BagEvent:
    event = BagEvent.objects.create(
        bag=bag, at=at, action=action, user=user, from_status=from_status, to_status=bag.status,
        zone=zone, floor_id=zone.floor_id if zone else None, rate_ml_h=rate_ml_h, note=note, data=data or {},
    )
    _announce(bag, action)
    return event


def _announce(bag: InfusionBag, action: str) -> None:
    """Tell the ward's listeners (boards) after commit; a channel-layer failure never undoes the change."""
    if bag.ward_id is None:
        return
    payload = DjangoJSONEncoder().encode({"type": f"bag.{action}", "bag_id": bag.pk, "status": bag.status,
                                          "version": bag.version})
    group = ward_group(bag.ward_id)

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": "ward.bag", "text": payload})

    transaction.on_commit(send, robust=True)


def _patient_name(patient: Patient) -> str:
    return f"{patient.given_name} {patient.family_name} ({patient.mrn})"


def _zone_label(zone: Zone | None) -> str:
    return "no bed" if zone is None else (zone.name or zone.code)
