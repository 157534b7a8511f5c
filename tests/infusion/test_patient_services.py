"""Patient services: admit, transfer, discharge, update, and the two cancellations (small test ward 3 North)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from floorplans.models import Floor, Zone
from infusion.exceptions import BedNotFound, BedOccupied, PatientNotAdmitted, PatientNotFound
from infusion.models import Patient
from infusion.services import (
    patient_admission_cancel,
    patient_admit,
    patient_discharge,
    patient_discharge_cancel,
    patient_transfer,
    patient_update,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def bed(floor: Floor, code: str) -> Zone:
    return Zone.objects.get(floor=floor, code=code)


def admit(floor: Floor, mrn: str = "100001", code: str = "3N-101-A", **extra: object) -> Patient:
    return patient_admit(mrn=mrn, family_name="O'Brien", given_name="Mary", bed=bed(floor, code), **extra)  # type: ignore[arg-type]


def test_it_admits_a_new_patient_into_a_bed_of_its_ward(floor: Floor) -> None:
    patient = admit(floor, birth_date=date(1957, 3, 12), sex="F", admitted_at=T0, visit_number="V1")
    patient.refresh_from_db()
    assert (patient.bed.code, patient.ward.code) == ("3N-101-A", "3N")  # type: ignore[union-attr]
    assert (patient.admitted_at, patient.discharged_at, patient.visit_number) == (T0, None, "V1")
    assert (patient.birth_date, patient.sex) == (date(1957, 3, 12), "F")


def test_it_refuses_a_bed_that_is_taken_naming_who_lies_in_it(floor: Floor) -> None:
    admit(floor)
    with pytest.raises(BedOccupied, match=r"Bed 101A is occupied by O'Brien, Mary \(100001\)"):
        admit(floor, mrn="100002")
    assert not Patient.objects.filter(mrn="100002").exists()


def test_it_refuses_a_zone_that_is_not_a_bed(floor: Floor) -> None:
    with pytest.raises(BedNotFound, match="3N-101 is a room, not a bed"):
        admit(floor, code="3N-101")


def test_it_refuses_an_unknown_sex_code(floor: Floor) -> None:
    with pytest.raises(ValueError, match="sex 'Q'"):
        admit(floor, sex="Q")


def test_it_starts_a_new_stay_when_a_discharged_patient_comes_back(floor: Floor) -> None:
    admit(floor, admitted_at=T0)
    patient_discharge(mrn="100001", at=datetime(2024, 5, 3, tzinfo=UTC))
    again = admit(floor, code="3N-102-A", admitted_at=datetime(2024, 6, 1, tzinfo=UTC))
    assert (again.admitted_at, again.discharged_at) == (datetime(2024, 6, 1, tzinfo=UTC), None)


def test_it_keeps_the_admission_time_when_an_admitted_patient_is_admitted_again(floor: Floor) -> None:
    admit(floor, admitted_at=T0)
    again = admit(floor, code="3N-102-B", admitted_at=datetime(2024, 5, 2, tzinfo=UTC))
    assert again.admitted_at == T0 and again.bed.code == "3N-102-B"  # type: ignore[union-attr]


def test_it_transfers_an_admitted_patient_to_a_free_bed(floor: Floor) -> None:
    admit(floor)
    patient = patient_transfer(mrn="100001", bed=bed(floor, "3N-102-B"))
    assert patient.bed.code == "3N-102-B"  # type: ignore[union-attr]
    assert not Patient.objects.filter(bed__code="3N-101-A").exists()


def test_it_treats_a_transfer_to_the_same_bed_as_nothing_to_do(floor: Floor) -> None:
    admit(floor)
    assert patient_transfer(mrn="100001", bed=bed(floor, "3N-101-A")).bed.code == "3N-101-A"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("setup", "error", "reason"),
    [
        ("none", PatientNotFound, "no patient with MRN 100001"),
        ("discharged", PatientNotAdmitted, "was discharged"),
        ("occupied", BedOccupied, "occupied by Kelly"),
    ],
)
def test_it_refuses_transfers_it_cannot_do(floor: Floor, setup: str, error: type[Exception], reason: str) -> None:
    if setup != "none":
        admit(floor)
    if setup == "discharged":
        patient_discharge(mrn="100001")
    if setup == "occupied":
        patient_admit(mrn="100002", family_name="Kelly", given_name="Sean", bed=bed(floor, "3N-102-B"))
    with pytest.raises(error, match=reason):
        patient_transfer(mrn="100001", bed=bed(floor, "3N-102-B"))


def test_it_frees_the_bed_on_discharge(floor: Floor) -> None:
    admit(floor)
    patient = patient_discharge(mrn="100001", at=T0)
    assert (patient.bed, patient.ward, patient.discharged_at) == (None, None, T0)
    admit(floor, mrn="100002")  # the bed is free for the next patient
    with pytest.raises(PatientNotAdmitted):
        patient_discharge(mrn="100001")


def test_it_updates_only_the_demographics_it_is_given(floor: Floor) -> None:
    admit(floor, birth_date=date(1957, 3, 12), sex="F")
    patient = patient_update(mrn="100001", family_name="O'Brien-Kelly", visit_number="V9")
    assert (patient.family_name, patient.given_name, patient.birth_date, patient.sex, patient.visit_number) == (
        "O'Brien-Kelly", "Mary", date(1957, 3, 12), "F", "V9")
    assert patient.bed.code == "3N-101-A"  # type: ignore[union-attr]
    with pytest.raises(PatientNotFound):
        patient_update(mrn="999", family_name="X")


def test_it_cancels_an_admission_as_if_it_never_happened(floor: Floor) -> None:
    admit(floor, admitted_at=T0)
    patient = patient_admission_cancel(mrn="100001")
    assert (patient.bed, patient.admitted_at, patient.discharged_at) == (None, None, None)


def test_it_cancels_a_discharge_back_into_a_bed_keeping_the_stay(floor: Floor) -> None:
    admit(floor, admitted_at=T0)
    patient_discharge(mrn="100001")
    patient = patient_discharge_cancel(mrn="100001", bed=bed(floor, "3N-101-A"))
    assert (patient.bed.code, patient.admitted_at, patient.discharged_at) == ("3N-101-A", T0, None)  # type: ignore[union-attr]
    with pytest.raises(PatientNotAdmitted, match="no discharge to cancel"):
        patient_discharge_cancel(mrn="100001", bed=bed(floor, "3N-101-A"))


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_simultaneous_admissions_into_a_bed(floor: Floor) -> None:
    target = bed(floor, "3N-102-A")
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def admit_in_thread(mrn: str) -> None:
        try:
            start.wait(timeout=10)
            patient_admit(mrn=mrn, family_name=f"Patient {mrn}", given_name="T", bed=target)
            outcomes[mrn] = "admitted"
        except BedOccupied as exc:
            outcomes[mrn] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=admit_in_thread, args=(mrn,)) for mrn in ("200001", "200002")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values())[0] == "admitted"
    assert "occupied by Patient" in sorted(outcomes.values())[1]
    assert Patient.objects.filter(bed=target, discharged_at__isnull=True).count() == 1
