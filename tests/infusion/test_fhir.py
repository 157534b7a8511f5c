"""A bag's administration as FHIR R4 MedicationAdministration: status mapping, medication, subject by MRN,
period, performer, dosage (rate and infused dose in UCUM), notes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from floorplans.models import Floor
from infusion import bags
from infusion.fhir import bag_medication_administration
from infusion.models import InfusionBag
from tests.infusion.test_bag_helpers import T0, S, bag_make, ward_setup

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)


def test_it_exports_a_discontinued_infusion(floor: Floor, nurse: User) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.AT_BEDSIDE, volume_ml=500.0, rate_ml_h=100.0)
    bags.bag_start(bag_id=bag.pk, user=nurse, at=T0)
    bags.bag_discontinue(bag_id=bag.pk, user=nurse, note="allergic reaction", at=T0 + 90 * MIN)
    resource = bag_medication_administration(InfusionBag.objects.get(pk=bag.pk))
    assert resource["resourceType"] == "MedicationAdministration" and resource["id"] == f"bag-{bag.pk}"
    assert resource["status"] == "stopped"
    assert resource["medicationCodeableConcept"] == {"text": "Heparin 50 units/mL"}
    assert resource["subject"]["identifier"]["value"] == "MRN-A"
    assert resource["subject"]["identifier"]["type"]["coding"][0]["code"] == "MR"
    assert resource["effectivePeriod"] == {"start": "2025-03-01T08:00:00Z", "end": "2025-03-01T09:30:00Z"}
    assert resource["performer"] == [{"actor": {"display": "nurse", "identifier": {"value": "nurse"}}}]
    dosage = resource["dosage"]
    assert dosage["dose"] == {"value": 150.0, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}
    assert dosage["rateQuantity"]["value"] == 100.0 and dosage["rateQuantity"]["code"] == "mL/h"
    assert dosage["route"]["coding"][0]["code"] == "47625008"
    assert resource["note"] == [{"time": "2025-03-01T09:30:00Z", "text": "Discontinued: allergic reaction"}]
    assert {"system": "urn:hospital-iot:tag", "value": "E200BAG0001"} in resource["identifier"]


@pytest.mark.parametrize(("status", "fhir_status"), [
    (S.INFUSING, "in-progress"), (S.PAUSED, "on-hold"), (S.COMPLETED, "completed"), (S.ON_WARD, "unknown"),
    (S.RETURNED, "not-done"), (S.WASTED, "not-done"),
])
def test_it_maps_each_status(floor: Floor, status: str, fhir_status: str) -> None:
    bag = bag_make(ward_setup(floor), status=status)
    resource = bag_medication_administration(bag, now=T0 + 30 * MIN)
    assert resource["status"] == fhir_status
    assert ("effectivePeriod" in resource) == (bag.started_at is not None)
    assert ("effectiveDateTime" in resource) == (bag.started_at is None)
