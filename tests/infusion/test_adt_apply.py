"""adt_apply: recorded HL7 messages -> patients in beds, an audit row each, and the right ACK."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import hl7  # type: ignore[import-untyped]
import pytest
from django.db import connection

from floorplans.models import Floor
from infusion import services
from infusion.models import AdtMessage, Patient
from infusion.services import adt_apply

HL7 = Path(__file__).parents[1] / "fixtures" / "hl7"
RECEIVED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def message(name: str, **replace: str) -> str:
    text = (HL7 / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def apply(raw: str) -> tuple[AdtMessage, str]:
    return adt_apply(raw=raw, sender="127.0.0.1:40000", received_at=RECEIVED_AT)


def bed_of(mrn: str) -> str | None:
    patient = Patient.objects.select_related("bed").filter(mrn=mrn).first()
    return patient.bed.code if patient is not None and patient.bed is not None else None


def msa(ack: str) -> tuple[str, str, str]:
    parsed = hl7.parse(ack)
    return tuple(str(parsed.extract_field("MSA", 1, field)) for field in (1, 2, 3))  # type: ignore[return-value]


A01, A02, A03 = "a01_admit.hl7", "a02_transfer.hl7", "a03_discharge.hl7"


@pytest.mark.parametrize(
    ("before", "fixture", "outcome", "ack_code", "mrn", "bed", "text"),
    [
        ([], A01, "applied", "AA", "100001", "3N-101-A", ""),
        ([], "a01_admit_unicode.hl7", "applied", "AA", "100002", "3N-102-A", ""),
        ([], "a01_admit_room_only.hl7", "applied", "AA", "100003", "3N-101-A", ""),  # a one-bed room will do
        ([A01], A02, "applied", "AA", "100001", "3N-102-B", ""),
        ([A01, A02], A03, "applied", "AA", "100001", None, ""),
        ([A01], "a08_update.hl7", "applied", "AA", "100001", "3N-101-A", ""),
        ([A01], "a11_cancel_admit.hl7", "applied", "AA", "100001", None, ""),
        ([A01, A02], "a12_cancel_transfer.hl7", "applied", "AA", "100001", "3N-101-A", ""),
        ([A01, A02, A03], "a13_cancel_discharge.hl7", "applied", "AA", "100001", "3N-102-B", ""),
        ([A01, A02, A03], {"a03_discharge.hl7": {"ADT0020": "ADT0030"}}, "ignored", "AA", "100001", None,
         "already discharged"),
        ([], A02, "rejected", "AE", "100001", None, "no patient with MRN 100001"),
        ([], A03, "rejected", "AE", "100001", None, "no patient with MRN 100001"),
        ([], "a08_update.hl7", "rejected", "AE", "100001", None, "no patient with MRN 100001"),
        (["a01_admit_unicode.hl7"], {A01: {"3N^101^A": "3N^102^A"}}, "rejected", "AE", "100001", None,
         "Bed 102A is occupied by Núñez-Åberg, Zoë (100002)"),
        ([], "bad_unknown_bed.hl7", "rejected", "AE", "100009", None,
         "names no bed here (looked for bed zone 3N-999-Z)"),
        ([], {A01: {"3N^101^A": "3N^102^"}}, "rejected", "AE", "100001", None, "several beds"),
        ([], "bad_no_msh.hl7", "rejected", "AR", "", None, "does not start with an MSH"),
        ([], "bad_segment.hl7", "rejected", "AR", "", None, "not an HL7 segment"),
        ([], "bad_missing_pid3.hl7", "rejected", "AE", "", None, "PID-3"),
        ([], "bad_unsupported_event.hl7", "rejected", "AR", "", None, "A05 is not supported"),
        ([], "bad_not_adt.hl7", "rejected", "AR", "", None, "is not ADT"),
        ([], "bad_timestamp.hl7", "rejected", "AR", "", None, "MSH-7"),
    ],
)
def test_it_applies_or_refuses_each_message(
    floor: Floor, before: list[str], fixture: str | dict[str, dict[str, str]], outcome: str, ack_code: str,
    mrn: str, bed: str | None, text: str,
) -> None:
    for name in before:
        assert apply(message(name))[0].outcome == "applied", name
    raw = message(fixture) if isinstance(fixture, str) else message(*fixture, **next(iter(fixture.values())))
    logged, ack = apply(raw)
    logged.refresh_from_db()
    assert (logged.outcome, logged.ack_code, logged.mrn) == (outcome, ack_code, mrn)
    assert text in logged.error
    code, control_id, ack_text = msa(ack)
    assert (code, control_id, ack_text) == (ack_code, logged.control_id, logged.error)
    assert ("\rERR|" in ack) == (ack_code != "AA")
    if mrn:
        assert bed_of(mrn) == bed
    assert (logged.raw, logged.sender, logged.received_at) == (raw, "127.0.0.1:40000", RECEIVED_AT)


def test_it_records_who_and_when_from_the_message(floor: Floor) -> None:
    apply(message(A01))
    patient = Patient.objects.get(mrn="100001")
    assert (patient.family_name, patient.given_name, patient.sex, patient.visit_number) == ("O'Brien", "Mary", "F",
                                                                                          "V0001")
    assert patient.admitted_at == datetime(2024, 5, 1, 9, 25, tzinfo=UTC)  # EVN-6, not the time it arrived
    assert patient.adt_message_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert patient.ward is not None and patient.ward.code == "3N"
    apply(message(A02))
    apply(message(A03))
    patient.refresh_from_db()
    assert patient.discharged_at == datetime(2024, 5, 3, 8, 15, tzinfo=UTC)  # PV1-45


def test_it_ignores_a_duplicate_control_id_with_an_aa(floor: Floor) -> None:
    apply(message(A01))
    apply(message(A02))
    again, ack = apply(message(A01))  # the sender lost our ACK and sends the admission again
    assert (again.outcome, again.ack_code) == ("ignored", "AA")
    assert "duplicate of message ADT0001" in again.error and msa(ack)[0] == "AA"
    assert bed_of("100001") == "3N-102-B"  # not moved back
    assert AdtMessage.objects.filter(control_id="ADT0001").count() == 2


def test_it_ignores_a_message_older_than_the_last_applied_with_an_aa(floor: Floor) -> None:
    apply(message(A01))
    apply(message("a08_update.hl7"))  # sent 14:00Z
    late, ack = apply(message(A02))  # sent 13:00Z, arrives after
    assert (late.outcome, late.ack_code) == ("ignored", "AA")
    assert "out of order" in late.error and "out of order" in msa(ack)[2]
    assert bed_of("100001") == "3N-101-A"
    assert Patient.objects.get(mrn="100001").adt_message_at == datetime(2024, 5, 1, 14, 0, tzinfo=UTC)


def test_it_reapplies_a_control_id_that_was_rejected_before(floor: Floor) -> None:
    apply(message("a01_admit_unicode.hl7"))
    refused, _ = apply(message(A01, **{"3N^101^A": "3N^102^A"}))
    assert refused.outcome == "rejected"
    retried, _ = apply(message(A01))  # the sender resends the message once the bed question is sorted out
    assert retried.outcome == "applied" and bed_of("100001") == "3N-101-A"


def test_it_never_half_applies_a_message_that_fails_midway(floor: Floor) -> None:
    apply(message(A01))
    with mock.patch.object(services, "patient_update", autospec=True, side_effect=RuntimeError("disk on fire")):
        failed, ack = apply(message(A02))  # the transfer is done, then the demographics step fails
    assert (failed.outcome, failed.ack_code, failed.error) == ("rejected", "AE", "internal error: RuntimeError")
    assert msa(ack)[0] == "AE"
    patient = Patient.objects.select_related("bed").get(mrn="100001")
    assert patient.bed is not None and patient.bed.code == "3N-101-A"  # the transfer was rolled back with it
    assert patient.adt_message_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert apply(message(A02))[0].outcome == "applied"  # and the resend goes through


@pytest.mark.parametrize(
    ("setting", "value", "raw_change", "check"),
    [
        ("ADT_LOCATION_MAP", {"ICU^7^1": "3N-102-B"}, {"3N^101^A^GENHOSP": "ICU^7^1"}, ("bed", "3N-102-B")),
        ("ADT_BED_CODE_FORMAT", "{point_of_care}-{room}-{bed}-X", {}, ("error", "looked for bed zone 3N-101-A-X")),
        ("ADT_MRN_AUTHORITY", "NHS", {"9434765919^^^NHS^NH": "9434765919^^^NHS^MR"}, ("mrn", "9434765919")),
        ("ADT_TIME_ZONE", "America/New_York", {"20240501103000+0100|": "20240501103000|"},
         ("message_at", datetime(2024, 5, 1, 14, 30, tzinfo=UTC))),
    ],
)
def test_it_follows_the_site_settings(floor: Floor, settings: Any, setting: str, value: object,
                                      raw_change: dict[str, str], check: tuple[str, object]) -> None:
    setattr(settings, setting, value)
    logged, _ = apply(message(A01, **raw_change))
    what, expected = check
    if what == "bed":
        assert bed_of(logged.mrn) == expected
    else:
        assert expected in getattr(logged, what) if isinstance(expected, str) else getattr(logged, what) == expected


@pytest.mark.django_db(transaction=True)
def test_it_applies_a_message_delivered_twice_at_the_same_moment_once(floor: Floor) -> None:
    start, outcomes = threading.Barrier(2), list[str]()

    def deliver() -> None:
        try:
            start.wait(timeout=10)
            outcomes.append(apply(message(A01))[0].outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["applied", "ignored"]
    assert bed_of("100001") == "3N-101-A"
