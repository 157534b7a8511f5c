"""Reads for infusion bags: lists, one bag with its progress and open alarms, the custody timeline, the ward
board (beds as a grid), a scanned tag's bag, which wards a user may see, and the pharmacy's queue."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from alerts.models import Alert
from floorplans.models import Zone
from infusion.models import BagEvent, InfusionBag, Patient
from infusion.progress import Progress, Segment, progress
from tracking.access import floor_ids_visible
from tracking.models import CurrentLocation

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


# ---- the pharmacy (hospital-wide: it labels and dispenses for every ward) ----

PHARMACY_DISPENSED_WINDOW = timedelta(hours=24)  # the queue shows bags dispensed this recently


@dataclass(frozen=True, slots=True)
class PharmacyBag:
    """A bag as the pharmacy queue shows it: the bag (patient, bed and ward loaded), its tag, when it left the
    pharmacy, and where the RTLS places its tag now (`seen_at` None: never seen)."""

    bag: InfusionBag
    tag_id: str
    expired: bool
    dispensed_at: datetime | None = None
    zone_name: str = ""  # "" when the last fix is in no zone
    floor_name: str = ""
    seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PharmacyQueue:
    waiting: list[PharmacyBag]  # registered, not dispensed yet: oldest first
    dispensed: list[PharmacyBag]  # dispensed within PHARMACY_DISPENSED_WINDOW: latest first
    generated_at: datetime


def patients_admitted() -> QuerySet[Patient]:
    """Every patient in a bed now, with bed and ward, by name."""
    return (Patient.objects.filter(discharged_at__isnull=True, bed__isnull=False).select_related("bed", "ward")
            .order_by("family_name", "given_name", "pk"))


def patients_matching(*, text: str, limit: int = 10) -> list[Patient]:
    """The patients a pharmacist means by `text`: the one whose MRN it is exactly (admitted or not: the
    service judges that), else the admitted patients whose names (or MRN, any case) hold every word typed."""
    text = text.strip()
    if not text:
        return []
    exact = Patient.objects.filter(mrn=text).select_related("bed", "ward").first()
    if exact is not None:
        return [exact]
    patients = patients_admitted()
    for word in text.replace(",", " ").split():
        patients = patients.filter(Q(family_name__icontains=word) | Q(given_name__icontains=word)
                                   | Q(mrn__iexact=word))
    return list(patients[:limit])


def pharmacy_bag_get(*, bag_id: int) -> InfusionBag:
    """One bag with its patient, bed, ward and tag (InfusionBag.DoesNotExist if none)."""
    return InfusionBag.objects.select_related("patient__bed", "patient__ward", "ward", "tracked_object__tag").get(
        pk=bag_id)


def bag_registered_event(*, bag: InfusionBag) -> BagEvent | None:
    """The pharmacy's registration of the bag (who labelled it, when)."""
    return bag.events.filter(action=BagEvent.Action.REGISTERED).select_related("user").order_by("at", "pk").first()


def pharmacy_queue(*, now: datetime | None = None) -> PharmacyQueue:
    """Bags waiting to be dispensed, and bags dispensed in the last 24 h with where their tag is now.
    Four queries whatever the number of bags."""
    now = now or timezone.now()
    bags = InfusionBag.objects.select_related("patient__bed", "patient__ward", "ward", "tracked_object__tag")
    waiting = list(bags.filter(status=InfusionBag.Status.REGISTERED).order_by("created_at", "pk"))
    dispensed_at = dict(BagEvent.objects.filter(action=BagEvent.Action.DISPENSED,
                                                at__gte=now - PHARMACY_DISPENSED_WINDOW)
                        .order_by("at").values_list("bag_id", "at"))  # the last dispense of a bag wins
    dispensed = sorted(bags.filter(pk__in=list(dispensed_at)), key=lambda b: (dispensed_at[b.pk], b.pk),
                       reverse=True)
    tag_pks = [b.tracked_object.tag_id for b in dispensed if b.tracked_object.tag_id is not None]
    locations = {loc.tag_id: loc for loc in CurrentLocation.objects.filter(tag__in=tag_pks)
                 .select_related("zone", "floor")}

    def row(bag: InfusionBag) -> PharmacyBag:
        tag = bag.tracked_object.tag
        where = locations.get(tag.pk) if tag is not None and bag.pk in dispensed_at else None
        return PharmacyBag(
            bag=bag, tag_id=tag.tag_id if tag is not None else "", expired=bag.expires_at <= now,
            dispensed_at=dispensed_at.get(bag.pk),
            zone_name=(where.zone.name or where.zone.code) if where is not None and where.zone is not None else "",
            floor_name=where.floor.name if where is not None else "",
            seen_at=where.seen_at if where is not None else None)

    return PharmacyQueue(waiting=[row(b) for b in waiting], dispensed=[row(b) for b in dispensed],
                         generated_at=now)
