"""HL7 v2 ADT messages in, acknowledgements out. Pure: no database, no Django settings.

    parse_adt(raw)              -> AdtEvent     (or AdtError(reason, ack_code "AR" | "AE"))
    build_ack(raw | event, code, text)  -> str   (MSH + MSA [+ ERR], original control id in MSA-2)

The message is parsed with python-hl7; the MSH is also read by hand, leniently, so that even a message
python-hl7 refuses gets an acknowledgement that names its control id. How PV1-3 becomes a bed zone code
is `PatientLocation.zone_code` (docs/adt.md, "Location mapping").
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import hl7  # type: ignore[import-untyped]  # python-hl7 ships no type information

from infusion.exceptions import AdtError

# trigger event -> what it does (docs/adt.md); anything else is acknowledged AR "unsupported event"
SUPPORTED_EVENTS: dict[str, str] = {
    "A01": "admit",
    "A02": "transfer",
    "A03": "discharge",
    "A08": "update patient information",
    "A11": "cancel admit",
    "A12": "cancel transfer",
    "A13": "cancel discharge",
    "A31": "update person information",
}
EVENTS_WITH_BED = frozenset({"A01", "A02", "A12", "A13"})  # PV1-3 must name the bed

DEFAULT_BED_CODE_FORMAT = "{point_of_care}-{room}-{bed}"  # "4W^412^B" -> "4W-412-B" (the demo and test wards)
DEFAULT_ROOM_CODE_FORMAT = "{point_of_care}-{room}"

# column sizes of infusion.models (a longer value is an AE, never a silent truncation)
MAX_CONTROL_ID = 64
MAX_MRN = 32
MAX_NAME = 100
MAX_VISIT_NUMBER = 32

# HL7 table 0001 (administrative sex) -> Patient.Sex; A(mbiguous) and X are "other", N(ot applicable) unknown
SEX_CODES = {"F": "F", "M": "M", "O": "O", "U": "U", "A": "O", "X": "O", "N": "U"}

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")
# HL7 TS / DTM: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]
_TS = re.compile(
    r"^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?(?:([+-])(\d{2})(\d{2}))?$"
)
_DEFAULT_SEPARATORS = ("|", "^~\\&")


@dataclass(frozen=True, slots=True)
class PatientLocation:
    """An HL7 PL (PV1-3 assigned / PV1-6 prior location): point of care ^ room ^ bed ^ facility..."""

    point_of_care: str
    room: str
    bed: str
    facility: str = ""

    def __str__(self) -> str:
        return "^".join((self.point_of_care, self.room, self.bed)).rstrip("^")

    @property
    def is_empty(self) -> bool:
        return not (self.point_of_care or self.room or self.bed)

    def zone_code(self, template: str = DEFAULT_BED_CODE_FORMAT) -> str:
        """The bed zone code this location names, e.g. "4W^412^B" -> "4W-412-B"."""
        return template.format(point_of_care=self.point_of_care, room=self.room, bed=self.bed,
                               facility=self.facility)

    def room_code(self, template: str = DEFAULT_ROOM_CODE_FORMAT) -> str:
        """The room zone code, used when PV1-3 names a room but no bed (a single room has one bed)."""
        return template.format(point_of_care=self.point_of_care, room=self.room, facility=self.facility)


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """What the MSH says, read without python-hl7 so that a broken message can still be acknowledged."""

    field_separator: str = _DEFAULT_SEPARATORS[0]
    encoding_characters: str = _DEFAULT_SEPARATORS[1]
    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""
    event: str = ""
    control_id: str = ""
    processing_id: str = ""
    version: str = ""
    charset: str = ""


@dataclass(frozen=True, slots=True)
class AdtEvent:
    """One ADT message, decoded. Empty strings mean "not sent" (an A08 leaves those values as they are)."""

    header: MessageHeader
    event: str
    control_id: str
    message_at: datetime  # MSH-7, aware UTC: orders the messages of a patient
    effective_at: datetime  # when it happened: EVN-6, else PV1-44 (admit) / PV1-45 (discharge), else MSH-7
    mrn: str
    family_name: str
    given_name: str
    birth_date: date | None
    sex: str  # F, M, O, U, or "" when PID-8 is empty
    location: PatientLocation | None  # PV1-3
    prior_location: PatientLocation | None  # PV1-6 (A02: where the patient came from)
    visit_number: str  # PV1-19
    patient_class: str  # PV1-2: I(npatient), O(utpatient), E(mergency)...

    @property
    def action(self) -> str:
        return SUPPORTED_EVENTS[self.event]


def parse_adt(raw: str, *, local_tz: tzinfo = UTC, mrn_authority: str = "") -> AdtEvent:
    """Decode one ADT message. Times without an offset are in `local_tz` (the sender's clock).

    `mrn_authority`: when several PID-3 identifiers have type MR, the one from this assigning authority.
    Raises AdtError with ack_code "AR" (the message is unacceptable) or "AE" (its content is unusable).
    """
    text = normalize(raw)
    if not text.startswith("MSH") or len(text) < 8:
        raise AdtError("the message does not start with an MSH segment", "AR", hl7_code="100")
    header = message_header(text)
    _check_header(header)
    for number, segment in enumerate(text.split("\r"), start=1):
        if not _SEGMENT_ID.match(segment[:3]) or (len(segment) > 3 and segment[3] != header.field_separator):
            raise AdtError(f"segment {number} ({segment[:12]!r}) is not an HL7 segment", "AR", hl7_code="100")
    try:
        message = hl7.parse(text)
    except (hl7.HL7Exception, ValueError, IndexError, AssertionError) as exc:
        raise AdtError(f"unreadable HL7: {exc}", "AR", hl7_code="102") from exc
    msh = message.segment("MSH")
    message_at = _required_ts(_value(msh, 7), "MSH-7 message date/time", local_tz, ack_code="AR")
    pid = _segment(message, "PID")
    if pid is None:
        raise AdtError("no PID segment", hl7_code="100")
    pv1 = _segment(message, "PV1")
    evn = _segment(message, "EVN")
    location = _location(pv1, 3)
    if header.event in EVENTS_WITH_BED and (location is None or not location.point_of_care or not location.room):
        raise AdtError(f"{header.event} needs the bed in PV1-3 (point of care^room^bed)", hl7_code="101")
    family_name, given_name = _name(pid)
    if header.event in ("A01", "A13") and not family_name:
        raise AdtError("PID-5 family name is missing", hl7_code="101")
    return AdtEvent(
        header=header,
        event=header.event,
        control_id=header.control_id,
        message_at=message_at,
        effective_at=_effective_at(header.event, evn, pv1, local_tz) or message_at,
        mrn=_mrn(pid, mrn_authority),
        family_name=family_name,
        given_name=given_name,
        birth_date=_birth_date(_value(pid, 7)),
        sex=SEX_CODES.get(_value(pid, 8).upper()[:1], "U") if _value(pid, 8) else "",
        location=location,
        prior_location=_location(pv1, 6),
        visit_number=_limited(_value(pv1, 19) if pv1 is not None else "", MAX_VISIT_NUMBER, "PV1-19 visit number"),
        patient_class=_value(pv1, 2) if pv1 is not None else "",
    )


def normalize(raw: str) -> str:
    """Segments separated by CR only (files and some senders use LF or CRLF), no MLLP bytes, no blank lines."""
    text = raw.replace("\r\n", "\r").replace("\n", "\r").strip("\x0b\x1c\r \t")
    return "\r".join(segment for segment in text.split("\r") if segment.strip())


def message_header(raw: str) -> MessageHeader:
    """The MSH of `raw`, as far as it goes; empty fields for anything missing (never raises)."""
    text = normalize(raw)
    start = text.find("MSH")
    if start < 0 or len(text) < start + 8:
        return MessageHeader()
    line = text[start:].split("\r", 1)[0]
    separator = line[3]
    fields = line.split(separator)  # fields[n - 1] is MSH-n for n >= 2 (MSH-1 is the separator itself)
    encoding = fields[1] if len(fields) > 1 and len(fields[1]) == 4 else _DEFAULT_SEPARATORS[1]

    def field(number: int, component: int = 1) -> str:
        value = fields[number - 1] if len(fields) >= number else ""
        parts = value.split(encoding[0])
        return parts[component - 1].strip() if len(parts) >= component else ""

    return MessageHeader(
        field_separator=separator, encoding_characters=encoding,
        sending_application=field(3), sending_facility=field(4),
        receiving_application=field(5), receiving_facility=field(6),
        message_type=field(9).upper(), event=field(9, 2).upper(), control_id=field(10),
        processing_id=field(11), version=field(12), charset=field(18),
    )


def build_ack(
    source: str | AdtEvent | MessageHeader,
    code: str,
    text: str = "",
    *,
    error_code: str = "",
    application: str = "HOSPITAL_IOT",
    now: datetime | None = None,
    control_id: str | None = None,
) -> str:
    """An original-mode ACK (MSH, MSA, and ERR when `code` is AE/AR) to the message `source`.

    MSA-2 repeats the source's control id; MSA-3 carries `text`. The ACK uses the source's separators,
    version and character set, and the source's receiving application/facility as its sender (or
    `application` when the source named none).
    """
    if code not in ("AA", "AE", "AR"):
        raise ValueError(f"ack code {code!r}: expected AA, AE or AR")
    header = source.header if isinstance(source, AdtEvent) else (
        source if isinstance(source, MessageHeader) else message_header(source))
    fs, enc = header.field_separator, header.encoding_characters
    if fs in "\r\n" or len(set(fs + enc)) != 5:  # unusable separators: answer in the standard ones
        fs, enc = _DEFAULT_SEPARATORS
    at = (now or datetime.now(UTC)).astimezone(UTC)
    msh = [
        "MSH", enc, _escape(header.receiving_application or application, fs, enc),
        _escape(header.receiving_facility, fs, enc), _escape(header.sending_application, fs, enc),
        _escape(header.sending_facility, fs, enc), at.strftime("%Y%m%d%H%M%S+0000"), "",
        enc[0].join(("ACK", _escape(header.event, fs, enc), "ACK")) if header.event else "ACK",
        control_id or uuid.uuid4().hex[:20], _escape(header.processing_id or "P", fs, enc),
        _escape(header.version or "2.5", fs, enc),
    ]
    if header.charset:
        msh += ["", "", "", "", "", _escape(header.charset, fs, enc)]
    segments = [fs.join(msh), fs.join(["MSA", code, _escape(header.control_id, fs, enc), _escape(text, fs, enc)])]
    if code != "AA":
        # ERR (v2.5): ERR-3 error code (table 0357), ERR-4 severity E, ERR-8 user message
        err_code = enc[0].join((error_code or "207", "", "HL70357"))
        segments.append(fs.join(["ERR", "", "", err_code, "E", "", "", "", _escape(text, fs, enc)]))
    return "\r".join(segments) + "\r"


def ack_code_of(ack: str) -> str:
    """MSA-1 of an acknowledgement ("" when there is no MSA)."""
    text = normalize(ack)
    fs = text[3] if text.startswith("MSH") and len(text) > 3 else "|"
    for segment in text.split("\r"):
        if segment.startswith("MSA"):
            fields = segment.split(fs)
            return fields[1] if len(fields) > 1 else ""
    return ""


def parse_hl7_ts(value: str, local_tz: tzinfo = UTC) -> datetime:
    """HL7 TS/DTM -> aware UTC datetime. Without an offset the time is read in `local_tz`."""
    match = _TS.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not an HL7 date/time (YYYYMMDDHHMMSS[+ZZZZ])")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    microsecond = int((fraction or "0").ljust(6, "0")[:6])
    if sign is not None:
        if int(off_m) >= 60:
            raise ValueError(f"{value!r}: offset minutes out of range")
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
        zone: tzinfo = _FixedOffset(offset)
    else:
        zone = local_tz
    at = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0),
                  microsecond, tzinfo=zone)
    return at.astimezone(UTC)


class _FixedOffset(tzinfo):
    def __init__(self, offset: timedelta) -> None:
        self._offset = offset

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return self._offset

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return f"UTC{self._offset}"


def _check_header(header: MessageHeader) -> None:
    if header.message_type != "ADT":
        raise AdtError(f"MSH-9 message type {header.message_type or '(empty)'!r} is not ADT", "AR", hl7_code="200")
    if header.event not in SUPPORTED_EVENTS:
        raise AdtError(f"event {header.event or '(empty)'} is not supported (we take "
                       f"{', '.join(SUPPORTED_EVENTS)})", "AR", hl7_code="201")
    if not header.control_id:
        raise AdtError("MSH-10 message control id is missing", "AR", hl7_code="101")
    _limited(header.control_id, MAX_CONTROL_ID, "MSH-10 message control id", ack_code="AR")


def _segment(message: Any, name: str) -> Any:
    try:
        return message.segment(name)
    except KeyError:
        return None


def _value(segment: Any, field: int, component: int = 1, repetition: int = 1, subcomponent: int = 1) -> str:
    """One leaf of a segment, unescaped and stripped; "" when absent (or the HL7 null "")."""
    try:
        value = str(segment.extract_field(1, field, repetition, component, subcomponent)).strip()
    except IndexError:
        return ""
    return "" if value == '""' else value


def _repetitions(segment: Any, field: int) -> int:
    return len(segment(field)) if field < len(segment) else 0


def _mrn(pid: Any, authority: str) -> str:
    """PID-3: the identifier of type MR (of `authority` if given); a lone untyped identifier will do."""
    identifiers = [
        (_value(pid, 3, 1, rep), _value(pid, 3, 4, rep), _value(pid, 3, 5, rep).upper())
        for rep in range(1, _repetitions(pid, 3) + 1)
    ]
    identifiers = [ident for ident in identifiers if ident[0]]
    if not identifiers:
        raise AdtError("PID-3 patient identifier is missing", hl7_code="101")
    records = [ident for ident in identifiers if ident[2] == "MR" and (not authority or ident[1] == authority)]
    if not records and len(identifiers) == 1 and not identifiers[0][2] and not authority:
        records = identifiers
    if not records:
        wanted = f"MR identifier of {authority}" if authority else "identifier of type MR"
        raise AdtError(f"PID-3 has no {wanted} ({', '.join(i[0] + '^' + i[2] for i in identifiers)})",
                       hl7_code="101")
    return _limited(records[0][0], MAX_MRN, "PID-3 medical record number")


def _name(pid: Any) -> tuple[str, str]:
    """PID-5: the legal name (type L) if there are several, else the first; (family, given)."""
    repetitions = range(1, max(_repetitions(pid, 5), 1) + 1)
    chosen = next((rep for rep in repetitions if _value(pid, 5, 7, rep).upper() == "L"), 1)
    family = _limited(_value(pid, 5, 1, chosen), MAX_NAME, "PID-5 family name")
    given = _limited(_value(pid, 5, 2, chosen), MAX_NAME, "PID-5 given name")
    return family, given


def _birth_date(value: str) -> date | None:
    """PID-7: a calendar date, taken as written (no time zone shift); None when empty or partial (YYYY[MM])."""
    if not value:
        return None
    match = _TS.match(value)
    if match is None:
        raise AdtError(f"PID-7 date of birth {value!r} is not an HL7 date", hl7_code="102")
    year, month, day = match.group(1, 2, 3)
    if month is None or day is None:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise AdtError(f"PID-7 date of birth {value!r}: {exc}", hl7_code="102") from exc


def _location(pv1: Any, field: int) -> PatientLocation | None:
    if pv1 is None:
        return None
    location = PatientLocation(_value(pv1, field, 1), _value(pv1, field, 2), _value(pv1, field, 3),
                               _value(pv1, field, 4))
    return None if location.is_empty else location


def _effective_at(event: str, evn: Any, pv1: Any, local_tz: tzinfo) -> datetime | None:
    candidates = [("EVN-6 event occurred", _value(evn, 6) if evn is not None else "")]
    if event == "A01" and pv1 is not None:
        candidates.append(("PV1-44 admit date/time", _value(pv1, 44)))
    if event == "A03" and pv1 is not None:
        candidates.append(("PV1-45 discharge date/time", _value(pv1, 45)))
    for name, value in candidates:
        if value:
            return _required_ts(value, name, local_tz)
    return None


def _required_ts(value: str, name: str, local_tz: tzinfo, *, ack_code: str = "AE") -> datetime:
    if not value:
        raise AdtError(f"{name} is missing", ack_code, hl7_code="101")
    try:
        return parse_hl7_ts(value, local_tz)
    except ValueError as exc:
        raise AdtError(f"{name}: {exc}", ack_code, hl7_code="102") from exc


def _limited(value: str, limit: int, name: str, *, ack_code: str = "AE") -> str:
    if len(value) > limit:
        raise AdtError(f"{name} is longer than {limit} characters", ack_code, hl7_code="102")
    return value


def _escape(value: str, fs: str, enc: str) -> str:
    """HL7 escaping of the separators (escape character first), line breaks become spaces."""
    component, repetition, escape, subcomponent = enc[0], enc[1], enc[2], enc[3]
    value = value.replace("\r", " ").replace("\n", " ").replace(escape, f"{escape}E{escape}")
    for char, code in ((fs, "F"), (component, "S"), (subcomponent, "T"), (repetition, "R")):
        value = value.replace(char, f"{escape}{code}{escape}")
    return value
