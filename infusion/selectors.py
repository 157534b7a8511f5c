"""Reads for infusion bags: lists, one bag with its progress and open alarms, the custody timeline, the ward
board (beds as a grid), a scanned tag's bag, and which wards a user may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from alerts.models import Alert
from floorplans.models import Zone
from infusion.models import BagEvent, InfusionBag, Patient
from infusion.progress import Progress, Segment, progress
from tracking.access import floor_ids_visible

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

ANY_WARD_PERMISSION = "infusion.change_patient"  # who runs patient flow (charge nurse, admin) sees every ward


def bag_progress(bag: InfusionBag, now: datetime | None = None) -> Progress:
    """The bag's volume infused, left, fraction and minutes left at `now`."""
    now = now or timezone.now()
    segments = [] if bag.segment_started_at is None or not bag.rate_ml_h else [
        Segment(bag.segment_started_at, None, bag.rate_ml_h)]
    return progress(segments, now, volume_ml=bag.volume_ml, before_ml=bag.infused_ml_before)


def wards_visible(*, user: AnyUser) -> QuerySet[Zone]:
    """The wards whose bags and board this user may see: every ward for a charge nurse or an administrator,
    otherwise the wards on the floors the user may watch (tracking.access)."""
    wards = Zone.objects.filter(kind=Zone.Kind.WARD).select_related("floor").order_by("floor_id", "name")
    if not isinstance(user, User) or not user.is_active or not user.has_perm("infusion.view_infusionbag"):
        return wards.none()
    if user.has_perm(ANY_WARD_PERMISSION):
        return wards
    floors = floor_ids_visible(user=user)
    return wards if floors is None else wards.filter(floor_id__in=sorted(floors))


def bags_list(
    *, user: AnyUser, ward_id: int | None = None, status: list[str] | None = None, patient_mrn: str = "",
    active: bool | None = None,
) -> QuerySet[InfusionBag]:
    """Bags of the wards the user may see (bags not yet dispensed to a ward: the patient's ward)."""
    wards = wards_visible(user=user).values("pk")
    bags = (InfusionBag.objects.select_related("patient", "patient__bed", "ward", "tracked_object__tag")
            .filter(Q(ward__in=wards) | Q(ward__isnull=True, patient__ward__in=wards)))
    if ward_id is not None:
        bags = bags.filter(Q(ward_id=ward_id) | Q(ward__isnull=True, patient__ward_id=ward_id))
    if status:
        bags = bags.filter(status__in=status)
    if patient_mrn:
        bags = bags.filter(patient__mrn=patient_mrn)
    if active is not None:
        bags = bags.filter(status__in=InfusionBag.ACTIVE) if active else bags.exclude(status__in=InfusionBag.ACTIVE)
    return bags.order_by("-created_at", "-pk")


def bag_get(*, user: AnyUser, bag_id: int) -> InfusionBag:
    """One bag the user may see (InfusionBag.DoesNotExist otherwise: not found, not a 403, so ids do not leak)."""
    return bags_list(user=user).get(pk=bag_id)


def bag_by_scan(*, user: AnyUser, tag_id: str) -> InfusionBag:
    """The bag now carrying this tag (a scanner typed its id); DoesNotExist if none the user may see."""
    return bags_list(user=user).get(tracked_object__tag__tag_id=tag_id.strip())


def bag_timeline(*, bag: InfusionBag) -> QuerySet[BagEvent]:
    return bag.events.select_related("user", "zone", "floor").order_by("at", "pk")


def open_alerts_by_bag(bag_ids: list[int]) -> dict[int, list[Alert]]:
    """Open alerts about these bags, most severe first."""
    out: dict[int, list[Alert]] = defaultdict(list)
    alerts = Alert.objects.filter(subject_type=Alert.Subject.BAG, subject_id__in=[str(pk) for pk in bag_ids],
                                  state__in=Alert.OPEN_STATES).order_by("-severity", "raised_at")
    for alert in alerts:
        out[int(alert.subject_id)].append(alert)
    return out


def bag_summary(bag: InfusionBag, *, now: datetime, alerts: list[Alert]) -> dict[str, Any]:
    """A bag as the board, the scan panel and the API show it."""
    p = bag_progress(bag, now)
    patient = bag.patient
    tag = bag.tracked_object.tag if bag.tracked_object_id else None
    ward = bag.ward or patient.ward
    return {
        "id": bag.pk,
        "tag_id": tag.tag_id if tag else "",
        "status": bag.status,
        "drug": bag.drug,
        "concentration": bag.concentration,
        "volume_ml": bag.volume_ml,
        "ordered_rate_ml_h": bag.ordered_rate_ml_h,
        "rate_ml_h": bag.rate_ml_h,
        "lot": bag.lot,
        "expires_at": bag.expires_at,
        "expired": bag.expires_at <= now,
        "ward_id": ward.pk if ward else None,
        "ward_name": ward.name if ward else "",
        "patient": {"id": patient.pk, "mrn": patient.mrn, "name": f"{patient.family_name}, {patient.given_name}",
                    "family_name": patient.family_name, "given_name": patient.given_name,
                    "bed_id": patient.bed_id, "bed_name": patient.bed.name if patient.bed else ""},
        "started_at": bag.started_at,
        "ended_at": bag.ended_at,
        "arrived_bedside_at": bag.arrived_bedside_at,
        "progress": {"infused_ml": round(p.infused_ml, 1), "remaining_ml": round(p.remaining_ml, 1),
                     "fraction": round(p.fraction, 4),
                     "minutes_remaining": None if p.minutes_remaining is None else round(p.minutes_remaining, 1),
                     "empty_at": p.empty_at},
        "alarms": [a.kind for a in alerts],
        "open_alerts": [{"id": a.pk, "kind": a.kind, "severity": a.severity, "state": a.state, "title": a.title}
                        for a in alerts],
        "version": bag.version,
        "allowed": list(InfusionBag.TRANSITIONS[bag.status]),
    }


def ward_board(*, ward: Zone, now: datetime | None = None) -> dict[str, Any]:
    """The ward's beds as a grid: each bed with its admitted patient and that patient's bags still in the
    ward's hands (dispensed..paused), their progress and open alarms. Bags of the ward whose patient has no
    bed on it (moved, discharged) are listed apart."""
    now = now or timezone.now()
    beds = list(Zone.objects.filter(ward=ward, kind=Zone.Kind.BED).select_related("parent").order_by("code"))
    patients = {p.bed_id: p for p in Patient.objects.filter(bed__in=beds, discharged_at__isnull=True)}
    bags = list(InfusionBag.objects.filter(status__in=InfusionBag.ACTIVE)
                .filter(Q(ward=ward) | Q(patient__bed__in=beds))
                .select_related("patient", "patient__bed", "patient__ward", "ward", "tracked_object__tag")
                .order_by("created_at", "pk"))
    alerts = open_alerts_by_bag([b.pk for b in bags])
    by_patient: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for bag in bags:
        by_patient[bag.patient_id].append(bag_summary(bag, now=now, alerts=alerts.get(bag.pk, [])))
    placed = {p.pk for p in patients.values()}
    rows = []
    for bed in beds:
        patient = patients.get(bed.pk)
        bed_bags = by_patient.get(patient.pk, []) if patient else []
        rows.append({
            "id": bed.pk, "zone_id": bed.pk, "code": bed.code, "name": bed.name,
            "room": {"id": bed.parent.pk, "code": bed.parent.code, "name": bed.parent.name} if bed.parent else None,
            "patient": None if patient is None else {
                "id": patient.pk, "mrn": patient.mrn, "name": f"{patient.family_name}, {patient.given_name}",
                "family_name": patient.family_name, "given_name": patient.given_name,
                "birth_date": patient.birth_date, "sex": patient.sex, "admitted_at": patient.admitted_at},
            "bags": bed_bags,
            "alarms": sorted({kind for b in bed_bags for kind in b["alarms"]}),
        })
    elsewhere = [summary for patient_id, summaries in by_patient.items() if patient_id not in placed
                 for summary in summaries]
    return {"ward": {"id": ward.pk, "code": ward.code, "name": ward.name, "floor_id": ward.floor_id},
            "generated_at": now, "beds": rows, "other_bags": elsewhere}


def patients_list(*, user: AnyUser, ward_id: int | None = None, admitted: bool = True) -> QuerySet[Patient]:
    wards = wards_visible(user=user).values("pk")
    patients = Patient.objects.select_related("ward", "bed").filter(ward__in=wards)
    if ward_id is not None:
        patients = patients.filter(ward_id=ward_id)
    if admitted:
        patients = patients.filter(discharged_at__isnull=True)
    return patients.order_by("family_name", "given_name", "pk")
