"""infusion.adt: HL7 ADT messages decoded, refused with the right code, acknowledged. Pure: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import hl7  # type: ignore[import-untyped]
import pytest

from infusion.adt import (
    PatientLocation,
    ack_code_of,
    build_ack,
    message_header,
    normalize,
    parse_adt,
    parse_hl7_ts,
)
from infusion.exceptions import AdtError

HL7 = Path(__file__).parents[1] / "fixtures" / "hl7"
LONDON = ZoneInfo("Europe/London")


def message(name: str) -> str:
    return (HL7 / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("a01_admit.hl7", {
            "event": "A01", "control_id": "ADT0001", "mrn": "100001", "family_name": "O'Brien",
            "given_name": "Mary", "birth_date": date(1957, 3, 12), "sex": "F", "location": "3N^101^A",
            "prior_location": None, "visit_number": "V0001", "patient_class": "I",
            "message_at": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
            "effective_at": datetime(2024, 5, 1, 9, 25, tzinfo=UTC),  # EVN-6
        }),
        ("a01_admit_unicode.hl7", {  # no offset in MSH-7: the sender's (London, BST) clock
            "event": "A01", "mrn": "100002", "family_name": "Núñez-Åberg", "given_name": "Zoë",
            "location": "3N^102^A", "message_at": datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        }),
        ("a01_admit_room_only.hl7", {"mrn": "100003", "location": "3N^101", "sex": "M", "visit_number": ""}),
        ("a02_transfer.hl7", {
            "event": "A02", "location": "3N^102^B", "prior_location": "3N^101^A",
            "effective_at": datetime(2024, 5, 1, 12, 55, tzinfo=UTC),
        }),
        ("a03_discharge.hl7", {"event": "A03", "effective_at": datetime(2024, 5, 3, 8, 15, tzinfo=UTC)}),  # PV1-45
        ("a08_update.hl7", {"event": "A08", "family_name": "O'Brien-Kelly", "birth_date": date(1957, 3, 13)}),
        ("a11_cancel_admit.hl7", {"event": "A11", "mrn": "100001"}),
        ("a12_cancel_transfer.hl7", {"event": "A12", "location": "3N^101^A", "prior_location": "3N^102^B"}),
        ("a13_cancel_discharge.hl7", {"event": "A13", "location": "3N^102^B"}),
    ],
)
def test_it_decodes_recorded_messages(fixture: str, expected: dict[str, object]) -> None:
    event = parse_adt(message(fixture), local_tz=LONDON)
    for name, value in expected.items():
        got = getattr(event, name)
        assert (str(got) if isinstance(got, PatientLocation) else got) == value, name
    assert event.message_at.tzinfo is UTC and event.effective_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("fixture", "ack_code", "hl7_code", "reason"),
    [
        ("bad_no_msh.hl7", "AR", "100", "does not start with an MSH"),
        ("bad_segment.hl7", "AR", "100", "segment 4"),
        ("bad_not_adt.hl7", "AR", "200", "'ORU' is not ADT"),
        ("bad_unsupported_event.hl7", "AR", "201", "event A05 is not supported"),
        ("bad_no_control_id.hl7", "AR", "101", "MSH-10"),
        ("bad_timestamp.hl7", "AR", "102", "MSH-7"),
        ("bad_missing_pid3.hl7", "AE", "101", "PID-3 patient identifier is missing"),
        ("bad_no_mr_identifier.hl7", "AE", "101", "PID-3 has no identifier of type MR"),
        ("bad_birth_date.hl7", "AE", "102", "PID-7"),
        ("bad_a01_without_bed.hl7", "AE", "101", "A01 needs the bed in PV1-3"),
    ],
)
def test_it_refuses_malformed_messages_with_the_right_code(fixture: str, ack_code: str, hl7_code: str,
                                                           reason: str) -> None:
    with pytest.raises(AdtError) as refused:
        parse_adt(message(fixture))
    assert (refused.value.ack_code, refused.value.hl7_code) == (ack_code, hl7_code)
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "MSH", "MSH|", "\x0b\x1c\r", "garbage\rMSH|^~\\&|A|B"],
)
def test_it_refuses_fragments_without_crashing(raw: str) -> None:
    with pytest.raises(AdtError) as refused:
        parse_adt(raw)
    assert refused.value.ack_code == "AR"


@pytest.mark.parametrize(
    ("value", "local_tz", "expected"),
    [
        ("20240501103000+0100", UTC, datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("20240501103000-0530", UTC, datetime(2024, 5, 1, 16, 0, tzinfo=UTC)),
        ("20240501103000-0030", UTC, datetime(2024, 5, 1, 11, 0, tzinfo=UTC)),  # a negative offset under an hour
        ("20240501103000.1234+0000", UTC, datetime(2024, 5, 1, 10, 30, 0, 123400, tzinfo=UTC)),
        ("20240501103000", LONDON, datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),  # summer time
        ("20240115103000", LONDON, datetime(2024, 1, 15, 10, 30, tzinfo=UTC)),  # winter time
        ("202405011030", UTC, datetime(2024, 5, 1, 10, 30, tzinfo=UTC)),
        ("20240501", UTC, datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024", UTC, datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_it_reads_hl7_timestamps_as_aware_utc(value: str, local_tz: ZoneInfo, expected: datetime) -> None:
    assert parse_hl7_ts(value, local_tz) == expected


@pytest.mark.parametrize("value", ["", "2024-05-01", "20240501T1030", "20241301", "20240501103000+01", "x"])
def test_it_refuses_what_is_not_an_hl7_timestamp(value: str) -> None:
    with pytest.raises(ValueError, match=r"HL7 date/time|month|offset"):
        parse_hl7_ts(value)


def test_it_reads_lf_and_crlf_separated_messages_like_cr_ones() -> None:
    raw = message("a01_admit.hl7")
    as_cr = parse_adt(raw.replace("\n", "\r"))
    assert parse_adt(raw.replace("\n", "\r\n")) == as_cr == parse_adt(raw)
    assert parse_adt(f"\x0b{raw}\x1c\r") == as_cr  # MLLP bytes left on by a careless sender


def test_it_unescapes_names() -> None:
    raw = message("a01_admit.hl7").replace("O'Brien^Mary^Anne", "Smith\\T\\Jones^Ann\\S\\Marie")
    event = parse_adt(raw)
    assert (event.family_name, event.given_name) == ("Smith&Jones", "Ann^Marie")


@pytest.mark.parametrize(
    ("pid3", "authority", "expected"),
    [
        ("555^^^GENHOSP^MR", "", "555"),
        ("777", "", "777"),  # one identifier without a type: the sender's MRN
        ("9434765919^^^NHS^NH~555^^^GENHOSP^MR", "", "555"),
        ("555^^^OTHER^MR~666^^^GENHOSP^MR", "GENHOSP", "666"),  # two record numbers: the configured authority's
        ("555^^^OTHER^MR~666^^^GENHOSP^MR", "", "555"),
    ],
)
def test_it_chooses_the_medical_record_number_from_pid3(pid3: str, authority: str, expected: str) -> None:
    raw = message("a01_admit.hl7").replace("100001^^^GENHOSP^MR~9434765919^^^NHS^NH~123-45-6789^^^SSA^SS", pid3)
    assert parse_adt(raw, mrn_authority=authority).mrn == expected


def test_it_refuses_an_mrn_without_the_configured_authority() -> None:
    with pytest.raises(AdtError, match="MR identifier of ELSEWHERE"):
        parse_adt(message("a01_admit.hl7"), mrn_authority="ELSEWHERE")


@pytest.mark.parametrize(("pid8", "sex"), [("F", "F"), ("M", "M"), ("U", "U"), ("A", "O"), ("X", "O"), ("", "")])
def test_it_maps_administrative_sex(pid8: str, sex: str) -> None:
    raw = message("a08_update.hl7").replace("|19570313|F", f"|19570313|{pid8}")
    assert parse_adt(raw).sex == sex


def test_it_refuses_values_longer_than_the_columns() -> None:
    with pytest.raises(AdtError, match="PID-3 medical record number is longer than 32"):
        parse_adt(message("a01_admit.hl7").replace("100001^^^GENHOSP", "9" * 33 + "^^^GENHOSP"))


@pytest.mark.parametrize(
    ("location", "template", "code"),
    [
        (PatientLocation("4W", "412", "B"), "{point_of_care}-{room}-{bed}", "4W-412-B"),
        (PatientLocation("3N", "101", "A", "GENHOSP"), "{point_of_care}-{room}-{bed}", "3N-101-A"),
        (PatientLocation("4W", "412", "B", "GH"), "{facility}/{room}{bed}", "GH/412B"),
    ],
)
def test_it_turns_a_location_into_a_bed_zone_code(location: PatientLocation, template: str, code: str) -> None:
    assert location.zone_code(template) == code


def test_it_acknowledges_with_the_original_control_id_and_routing() -> None:
    event = parse_adt(message("a01_admit.hl7"))
    ack = build_ack(event, "AA", now=datetime(2024, 5, 1, 9, 30, 1, tzinfo=UTC), control_id="ACK1")
    assert ack == ("MSH|^~\\&|HOSPITAL_IOT|GENHOSP|EPIC|GENHOSP|20240501093001+0000||ACK^A01^ACK|ACK1|P|2.5.1\r"
                   "MSA|AA|ADT0001|\r")
    parsed = hl7.parse(ack)
    assert str(parsed.segment("MSA")(2)) == "ADT0001"


def test_it_nacks_with_an_err_segment_and_escapes_the_text() -> None:
    ack = build_ack(message("bad_unknown_bed.hl7"), "AE", "bed 3N|999^Z? no", error_code="103")
    msa, err = ack.split("\r")[1:3]
    assert msa == "MSA|AE|ADT0903|bed 3N\\F\\999\\S\\Z? no"
    assert err.split("|")[3] == "103^^HL70357"
    assert ack_code_of(ack) == "AE"


def test_it_acknowledges_even_what_has_no_header() -> None:
    ack = build_ack("this is not HL7", "AR", "no MSH")
    assert ack.startswith("MSH|^~\\&|HOSPITAL_IOT|")
    assert ack.split("\r")[1] == "MSA|AR||no MSH"


def test_it_answers_in_the_senders_separators_and_character_set() -> None:
    raw = message("a01_admit_unicode.hl7").replace("|", "#").replace("MSH#^~\\&", "MSH#^~\\&")
    header = message_header(raw)
    assert (header.field_separator, header.charset) == ("#", "UNICODE UTF-8")
    ack = build_ack(raw, "AA")
    assert ack.startswith("MSH#^~\\&#") and "#UNICODE UTF-8\r" in ack and "MSA#AA#ADT0002#" in ack


def test_it_normalizes_line_breaks_and_drops_blank_lines() -> None:
    assert normalize("\x0bMSH|a\r\n\r\nPID|b\n\x1c\r") == "MSH|a\rPID|b"
