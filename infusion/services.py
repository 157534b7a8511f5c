"""Writes for patients: admit, transfer, discharge, update, and the ADT feed that drives them.

The ADT feed (`adt_apply`) and the ward UI call the same services. A patient is *admitted* while they
have a bed (`bed` set, `discharged_at` empty); discharge clears bed and ward, so "who is in bed X" is
one filter. Lock order, everywhere: the bed zone first, then the patient row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from floorplans.models import Zone
from infusion.adt import (
    DEFAULT_BED_CODE_FORMAT,
    DEFAULT_ROOM_CODE_FORMAT,
    AdtEvent,
    PatientLocation,
    build_ack,
    message_header,
    parse_adt,
)
from infusion.exceptions import AdtError, BedNotFound, BedOccupied, PatientNotAdmitted, PatientNotFound
from infusion.models import AdtMessage, Patient

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- patients

@transaction.atomic
def patient_admit(
    *,
    mrn: str,
    family_name: str,
    given_name: str,
    bed: Zone,
    birth_date: date | None = None,
    sex: str = Patient.Sex.UNKNOWN,
    admitted_at: datetime | None = None,
    visit_number: str | None = None,
) -> Patient:
    """Admit the patient with this MRN into `bed` (created if new; moved if already in another bed).

    The bed must be free. A new stay (a new patient, or one discharged before) starts at `admitted_at`.
    """
    if sex not in Patient.Sex.values:
        raise ValueError(f"sex {sex!r}: expected one of {', '.join(Patient.Sex.values)}")
    _lock_free_bed(bed, mrn=mrn)
    patient = Patient.objects.select_for_update().filter(mrn=mrn).first()
    new_stay = patient is None or patient.bed_id is None
    if patient is None:
        patient = Patient(mrn=mrn)
    patient.family_name, patient.given_name = family_name, given_name
    patient.birth_date, patient.sex = birth_date, sex
    patient.bed, patient.ward = bed, bed.ward
    if new_stay:
        patient.admitted_at, patient.discharged_at = admitted_at or timezone.now(), None
    if visit_number is not None:
        patient.visit_number = visit_number
    patient.save()
    logger.info("patient %s admitted to %s", mrn, bed.code)
    return patient


@transaction.atomic
def patient_transfer(*, mrn: str, bed: Zone, at: datetime | None = None) -> Patient:
    """Move an admitted patient to another (free) bed; the same bed again changes nothing."""
    _lock_free_bed(bed, mrn=mrn)
    patient = _locked_admitted(mrn)
    if patient.bed_id != bed.pk:
        previous = patient.bed.code if patient.bed else "?"
        patient.bed, patient.ward = bed, bed.ward
        patient.save(update_fields=["bed", "ward"])
        logger.info("patient %s transferred %s -> %s at %s", mrn, previous, bed.code, at or timezone.now())
    return patient


@transaction.atomic
def patient_discharge(*, mrn: str, at: datetime | None = None) -> Patient:
    """Discharge an admitted patient: the bed is free again."""
    patient = _locked_admitted(mrn)
    previous = patient.bed.code if patient.bed else "?"
    patient.bed = patient.ward = None
    patient.discharged_at = at or timezone.now()
    patient.save(update_fields=["bed", "ward", "discharged_at"])
    logger.info("patient %s discharged from %s", mrn, previous)
    return patient


@transaction.atomic
def patient_update(
    *,
    mrn: str,
    family_name: str | None = None,
    given_name: str | None = None,
    birth_date: date | None = None,
    sex: str | None = None,
    visit_number: str | None = None,
) -> Patient:
    """Change demographics; None leaves a value as it is. Does not move the patient."""
    patient = _locked(mrn)
    changes = {"family_name": family_name, "given_name": given_name, "birth_date": birth_date, "sex": sex,
               "visit_number": visit_number}
    changed = [name for name, value in changes.items() if value is not None and getattr(patient, name) != value]
    if sex is not None and sex not in Patient.Sex.values:
        raise ValueError(f"sex {sex!r}: expected one of {', '.join(Patient.Sex.values)}")
    for name in changed:
        setattr(patient, name, changes[name])
    if changed:
        patient.save(update_fields=changed)
    return patient


@transaction.atomic
def patient_admission_cancel(*, mrn: str) -> Patient:
    """Undo an admission entered in error (ADT A11): out of the bed, as if never admitted."""
    patient = _locked_admitted(mrn)
    patient.bed = patient.ward = None
    patient.admitted_at = patient.discharged_at = None
    patient.save(update_fields=["bed", "ward", "admitted_at", "discharged_at"])
    logger.info("patient %s: admission cancelled", mrn)
    return patient


@transaction.atomic
def patient_discharge_cancel(*, mrn: str, bed: Zone) -> Patient:
    """Undo a discharge entered in error (ADT A13): back into `bed`, the stay goes on from its admission."""
    _lock_free_bed(bed, mrn=mrn)
    patient = _locked(mrn)
    if patient.discharged_at is None:
        raise PatientNotAdmitted(f"patient {mrn} is not discharged: there is no discharge to cancel")
    patient.bed, patient.ward, patient.discharged_at = bed, bed.ward, None
    patient.save(update_fields=["bed", "ward", "discharged_at"])
    logger.info("patient %s: discharge cancelled, back in %s", mrn, bed.code)
    return patient


def _lock_free_bed(bed: Zone, *, mrn: str) -> None:
    """Lock the bed zone (serializes everyone moving into it) and check nobody else lies in it."""
    if bed.kind != Zone.Kind.BED:
        raise BedNotFound(f"{bed.code} is a {bed.kind}, not a bed")
    Zone.objects.select_for_update().only("pk").get(pk=bed.pk)
    occupant = Patient.objects.filter(bed=bed, discharged_at__isnull=True).exclude(mrn=mrn).first()
    if occupant is not None:
        raise BedOccupied(
            f"bed {bed.name} is occupied by {occupant.family_name}, {occupant.given_name} ({occupant.mrn})"
        )


def _locked(mrn: str) -> Patient:
    patient = Patient.objects.select_for_update(of=("self",)).select_related("bed").filter(mrn=mrn).first()
    if patient is None:
        raise PatientNotFound(f"no patient with MRN {mrn}")
    return patient


def _locked_admitted(mrn: str) -> Patient:
    patient = _locked(mrn)
    if patient.bed_id is None or patient.discharged_at is not None:
        state = f"was discharged {patient.discharged_at:%Y-%m-%d %H:%M}" if patient.discharged_at else "is not admitted"
        raise PatientNotAdmitted(f"patient {patient.family_name}, {patient.given_name} ({mrn}) {state}")
    return patient


# ---------------------------------------------------------------------------------------------- ADT feed

@dataclass(frozen=True)
class AdtSettings:
    """The feed's site settings (Django settings ADT_*, all optional; docs/adt.md)."""

    time_zone: tzinfo
    mrn_authority: str = ""
    bed_code_format: str = DEFAULT_BED_CODE_FORMAT
    room_code_format: str = DEFAULT_ROOM_CODE_FORMAT
    location_map: dict[str, str] = field(default_factory=dict)
    application: str = "HOSPITAL_IOT"

    @classmethod
    def load(cls) -> AdtSettings:
        return cls(
            time_zone=ZoneInfo(getattr(settings, "ADT_TIME_ZONE", settings.TIME_ZONE)),
            mrn_authority=getattr(settings, "ADT_MRN_AUTHORITY", ""),
            bed_code_format=getattr(settings, "ADT_BED_CODE_FORMAT", DEFAULT_BED_CODE_FORMAT),
            room_code_format=getattr(settings, "ADT_ROOM_CODE_FORMAT", DEFAULT_ROOM_CODE_FORMAT),
            location_map=dict(getattr(settings, "ADT_LOCATION_MAP", {})),
            application=getattr(settings, "ADT_APPLICATION", "HOSPITAL_IOT"),
        )


# a refused message: the service's exception -> the HL7 error code (table 0357) in the NACK's ERR segment
_REFUSALS: dict[type[Exception], str] = {
    BedNotFound: "103",  # table value not found
    BedOccupied: "207",
    PatientNotFound: "204",  # unknown key identifier
    PatientNotAdmitted: "207",
}


@transaction.atomic
def adt_apply(*, raw: str, sender: str = "", received_at: datetime | None = None) -> tuple[AdtMessage, str]:
    """Apply one HL7 ADT message and log it; returns the log row and the ACK to send back.

    All or nothing: the patient change and its log row commit together; a refused message changes
    nothing and is logged as rejected with an AE/AR. Duplicates (a control id already applied for this
    patient) and messages older than the patient's last applied one are logged as ignored and get AA.
    """
    config = AdtSettings.load()
    log = _AdtLog(raw=raw, sender=sender, received_at=received_at or timezone.now(), application=config.application)
    try:
        event = parse_adt(raw, local_tz=config.time_zone, mrn_authority=config.mrn_authority)
    except AdtError as exc:
        return log.write(None, AdtMessage.Outcome.REJECTED, exc.ack_code, exc.reason, error_code=exc.hl7_code)
    try:
        with transaction.atomic():
            _lock_patient_messages(event.mrn)
            skip = _skip_reason(event)
            if skip:
                return log.write(event, AdtMessage.Outcome.IGNORED, "AA", skip)
            note = _apply(event, config)
            return log.write(event, AdtMessage.Outcome.APPLIED if not note else AdtMessage.Outcome.IGNORED, "AA", note)
    except AdtError as exc:
        return log.write(event, AdtMessage.Outcome.REJECTED, exc.ack_code, exc.reason, error_code=exc.hl7_code)
    except (BedNotFound, BedOccupied, PatientNotFound, PatientNotAdmitted) as exc:
        code = next(code for refusal, code in _REFUSALS.items() if isinstance(exc, refusal))
        return log.write(event, AdtMessage.Outcome.REJECTED, "AE", str(exc), error_code=code)
    except Exception as exc:  # a bug or a database error: nothing applied, the sender is told and may resend
        logger.exception("ADT %s %s from %s: failed", event.event, event.control_id, sender or "?")
        return log.write(event, AdtMessage.Outcome.REJECTED, "AE", f"internal error: {exc.__class__.__name__}")


@dataclass(frozen=True)
class _AdtLog:
    raw: str
    sender: str
    received_at: datetime
    application: str

    def write(
        self, event: AdtEvent | None, outcome: str, ack_code: str, text: str, *, error_code: str = ""
    ) -> tuple[AdtMessage, str]:
        header = event.header if event is not None else message_header(self.raw)
        message = AdtMessage.objects.create(
            control_id=header.control_id[:64], event=header.event[:8],
            message_at=event.message_at if event is not None else None, received_at=self.received_at,
            sender=self.sender[:200], mrn=event.mrn if event is not None else "", outcome=outcome,
            ack_code=ack_code, error=text, raw=self.raw,
        )
        level = logging.INFO if outcome == AdtMessage.Outcome.APPLIED else logging.WARNING
        logger.log(level, "ADT %s %s from %s: %s %s%s", header.event or "?", header.control_id or "?",
                   self.sender or "?", outcome, ack_code, f" ({text})" if text else "")
        return message, build_ack(header, ack_code, text, error_code=error_code, application=self.application)


def _lock_patient_messages(mrn: str) -> None:
    """Serialize the messages of one MRN (also a patient not created yet), until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"infusion.adt:{mrn}"])


def _skip_reason(event: AdtEvent) -> str:
    duplicate = (AdtMessage.objects.filter(control_id=event.control_id, mrn=event.mrn,
                                           outcome=AdtMessage.Outcome.APPLIED).order_by("received_at").first())
    if duplicate is not None:
        return f"duplicate of message {event.control_id} applied at {duplicate.received_at:%Y-%m-%d %H:%M:%S}"
    last_at = Patient.objects.filter(mrn=event.mrn).values_list("adt_message_at", flat=True).first()
    if last_at is not None and event.message_at < last_at:
        return (f"out of order: sent {event.message_at:%Y-%m-%d %H:%M:%S}Z, before the last message applied "
                f"for {event.mrn} ({last_at:%Y-%m-%d %H:%M:%S}Z); not applied")
    return ""


def _apply(event: AdtEvent, config: AdtSettings) -> str:
    """Do what the event says; "" when applied, else why nothing needed doing (logged as ignored)."""
    kind = event.event
    if kind == "A01":
        patient_admit(mrn=event.mrn, family_name=event.family_name, given_name=event.given_name,
                      bed=_bed(event, config), birth_date=event.birth_date, sex=event.sex or Patient.Sex.UNKNOWN,
                      admitted_at=event.effective_at, visit_number=event.visit_number)
    elif kind in ("A02", "A12"):
        patient_transfer(mrn=event.mrn, bed=_bed(event, config), at=event.effective_at)
    elif kind == "A03":
        if Patient.objects.filter(mrn=event.mrn, bed__isnull=True, discharged_at__isnull=False).exists():
            return f"patient {event.mrn} is already discharged"
        patient_discharge(mrn=event.mrn, at=event.effective_at)
    elif kind == "A11":
        patient_admission_cancel(mrn=event.mrn)
    elif kind == "A13":
        patient_discharge_cancel(mrn=event.mrn, bed=_bed(event, config))
    if kind != "A01":  # every message carries the current PID: keep the demographics it sends
        patient_update(mrn=event.mrn, family_name=event.family_name or None, given_name=event.given_name or None,
                       birth_date=event.birth_date, sex=event.sex or None, visit_number=event.visit_number or None)
    Patient.objects.filter(mrn=event.mrn).update(adt_message_at=event.message_at)
    return ""


def _bed(event: AdtEvent, config: AdtSettings) -> Zone:
    if event.location is None:
        raise AdtError(f"{event.event} needs the bed in PV1-3", hl7_code="101")
    return bed_for_location(event.location, config=config)


def bed_for_location(location: PatientLocation, *, config: AdtSettings) -> Zone:
    """The bed zone an HL7 PL names (docs/adt.md): ADT_LOCATION_MAP, else the code pattern; a room with
    one bed will do when PL.3 is empty; codes found on several floors are told apart by the ward code."""
    beds = Zone.objects.filter(kind=Zone.Kind.BED).select_related("ward")
    mapped = config.location_map.get(str(location))
    if mapped:
        code, matches = mapped, list(beds.filter(code=mapped))
    elif location.bed:
        code = location.zone_code(config.bed_code_format)
        matches = list(beds.filter(code=code))
    else:
        code = location.room_code(config.room_code_format)
        matches = list(beds.filter(parent__code=code))
        rooms = {bed.parent_id for bed in matches}
        if len(matches) > len(rooms):
            raise BedNotFound(f"PV1-3 {location} names room {code}, which has several beds: PV1-3.3 must say which")
    if len(matches) > 1:
        matches = [bed for bed in matches if bed.ward is not None and bed.ward.code == location.point_of_care]
    if not matches:
        raise BedNotFound(f"PV1-3 {location} names no bed here (looked for bed zone {code})")
    if len(matches) > 1:
        raise BedNotFound(f"PV1-3 {location}: bed zone {code} is on several floors of ward {location.point_of_care}")
    return matches[0]
