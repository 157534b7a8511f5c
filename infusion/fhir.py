"""One bag's administration as a FHIR R4 MedicationAdministration resource (JSON-ready dict).

    status           infusing → in-progress, paused → on-hold, completed → completed, discontinued (or
                     returned / wasted after starting) → stopped, returned / wasted unstarted → not-done,
                     not started yet → unknown
    medication       CodeableConcept text "<drug> <concentration>" (no drug coding in the bag record)
    subject          the patient by MRN identifier (v2-0203 "MR"), with the name as display
    context          the stay, by visit number (PV1-19) when known
    effective        effectivePeriod start (started) / end (ended); effectiveDateTime = registration if unstarted
    performer        the nurse who started it
    dosage           route IV, rateQuantity mL/h (current or last rate), dose = volume infused (mL), UCUM
    note             the notes of the bag's timeline (a discontinue reason, a pause note...)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from infusion.models import BagEvent, InfusionBag
from infusion.progress import Segment, infused_ml

UCUM = "http://unitsofmeasure.org"
S = InfusionBag.Status
STATUS: dict[str, str] = {
    S.INFUSING: "in-progress", S.PAUSED: "on-hold", S.COMPLETED: "completed", S.DISCONTINUED: "stopped",
}
SYSTEM_BAG = "urn:hospital-iot:infusion-bag"
SYSTEM_TAG = "urn:hospital-iot:tag"
SYSTEM_MRN = "urn:hospital-iot:mrn"


def fhir_status(bag: InfusionBag) -> str:
    if bag.status in STATUS:
        return STATUS[bag.status]
    if bag.status in (S.RETURNED, S.WASTED):
        return "stopped" if bag.started_at else "not-done"
    return "unknown"


def bag_medication_administration(bag: InfusionBag, *, now: datetime | None = None) -> dict[str, Any]:
    """The FHIR R4 MedicationAdministration of one bag."""
    now = now or timezone.now()
    patient = bag.patient
    tag = bag.tracked_object.tag
    segments = [Segment(bag.segment_started_at, None, bag.rate_ml_h)] if (
        bag.segment_started_at and bag.rate_ml_h) else []
    dose_ml = infused_ml(segments, now, volume_ml=bag.volume_ml, before_ml=bag.infused_ml_before)
    rate = bag.rate_ml_h or _last_rate(bag) or bag.ordered_rate_ml_h
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": f"bag-{bag.pk}",
        "meta": {"lastUpdated": _dt(bag.updated_at)},
        "identifier": [{"system": SYSTEM_BAG, "value": str(bag.pk)}]
        + ([{"system": SYSTEM_TAG, "value": tag.tag_id}] if tag else []),
        "status": fhir_status(bag),
        "medicationCodeableConcept": {"text": f"{bag.drug} {bag.concentration}".strip()},
        "subject": {
            "type": "Patient",
            "identifier": {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "system": SYSTEM_MRN, "value": patient.mrn,
            },
            "display": f"{patient.family_name}, {patient.given_name}",
        },
        "dosage": {
            "text": f"{bag.volume_ml:g} mL IV at {rate:g} mL/h",
            "route": {"coding": [{"system": "http://snomed.info/sct", "code": "47625008",
                                  "display": "Intravenous route"}], "text": "intravenous"},
            "dose": {"value": round(dose_ml, 1), "unit": "mL", "system": UCUM, "code": "mL"},
            "rateQuantity": {"value": rate, "unit": "mL/h", "system": UCUM, "code": "mL/h"},
        },
    }
    if patient.visit_number:
        resource["context"] = {"type": "Encounter", "identifier": {"value": patient.visit_number}}
    if bag.started_at:
        period = {"start": _dt(bag.started_at)}
        if bag.ended_at:
            period["end"] = _dt(bag.ended_at)
        resource["effectivePeriod"] = period
    else:
        resource["effectiveDateTime"] = _dt(bag.created_at)
    if bag.started_by:
        resource["performer"] = [{"actor": {"display": bag.started_by.get_full_name() or bag.started_by.username,
                                            "identifier": {"value": bag.started_by.username}}}]
    notes = [{"time": _dt(e.at), "text": f"{e.get_action_display()}: {e.note}"}
             for e in bag.events.exclude(note="").order_by("at", "pk")
             if e.action != BagEvent.Action.ALARM and e.action != BagEvent.Action.ALARM_CLEARED]
    if notes:
        resource["note"] = notes
    return resource


def _last_rate(bag: InfusionBag) -> float | None:
    rates = bag.events.filter(rate_ml_h__isnull=False).order_by("-at", "-pk")
    rate = rates.values_list("rate_ml_h", flat=True).first()
    return float(rate) if rate is not None else None


def _dt(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at.tzinfo else at.isoformat()
