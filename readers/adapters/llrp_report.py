"""RO_ACCESS_REPORT bytes -> the TagReportData dicts sllurp 3.0.5 would build, at a fraction of the cost.

sllurp decodes every parameter through its generic, table-driven decoder (a header parse, a name lookup, a
slice and a call per field per tag), which was ~60% of the LLRP adapter's CPU. This decoder reads the few
shapes a tag report really has, with the same names and values as sllurp:

  TagReportData (TLV 240) holding, in any order and number:
    TV parameters: EPC-96 (13) and the scalar fields of TVE_PARAM_FORMATS below (AntennaID, PeakRSSI,
      First/LastSeenTimestampUTC, ChannelIndex, TagSeenCount, ...),
    TLV EPCData (241): EPC as hexlified bytes, the EPCLengthBits word skipped as sllurp does,
    Impinj custom parameters (TLV 1023, vendor 25882): ImpinjRFPhaseAngle (56, u16), ImpinjPeakRSSI (57, s16).
  Values as sllurp gives them: EPC-96 and EPC as lower-case hex ASCII bytes, EPC-96 copied to EPC, numbers
  as ints; a field sent twice keeps its last value.

It accepts a strict subset of what sllurp accepts: anything else (another message, another parameter, a
reserved bit set, a length that does not add up) raises ReportFormatError, and the caller hands the
message to sllurp, whose decoding is then the answer by definition.
"""

from __future__ import annotations

import struct
from binascii import hexlify
from collections.abc import Callable
from typing import Any

MESSAGE_HEADER = struct.Struct("!HII")  # reserved(3) version(3) type(10), length, message id
TLV_HEADER = struct.Struct("!HH")  # reserved(6) type(10), length
VENDOR_SUBTYPE = struct.Struct("!II")
REPORT_TYPE = 61  # RO_ACCESS_REPORT
TAG_REPORT_DATA = 240
EPC_DATA = 241
EPC_96 = 13
CUSTOM = 1023
IMPINJ = 25882

U8, S8, U16, S16, U32, U64 = (struct.Struct(f) for f in ("!B", "!b", "!H", "!h", "!I", "!Q"))
# TV type -> (sllurp's name, value struct): the scalar TV fields of a TagReportData (sllurp's TVE_PARAM_FORMATS)
TVE_PARAM_FORMATS: dict[int, tuple[str, struct.Struct]] = {
    1: ("AntennaID", U16),
    2: ("FirstSeenTimestampUTC", U64),
    3: ("FirstSeenTimestampUptime", U64),
    4: ("LastSeenTimestampUTC", U64),
    5: ("LastSeenTimestampUptime", U64),
    6: ("PeakRSSI", S8),
    7: ("ChannelIndex", U16),
    8: ("TagSeenCount", U16),
    9: ("ROSpecID", U32),
    10: ("InventoryParameterSpecID", U16),
    11: ("C1G2CRC", U16),
    12: ("C1G2PC", U16),
    14: ("SpecIndex", U16),
    16: ("AccessSpecID", U32),
    19: ("C1G2XPCW1", U16),
    20: ("C1G2XPCW2", U16),
}
# first byte of a TV parameter (1 + 7-bit type) -> (name, unpack_from, offset of the next parameter)
_TV: dict[int, tuple[str, Callable[[bytes, int], tuple[Any, ...]], int]] = {
    0x80 | kind: (name, fmt.unpack_from, 1 + fmt.size) for kind, (name, fmt) in TVE_PARAM_FORMATS.items()
}
_EPC_96_FIRST_BYTE = 0x80 | EPC_96
_EPC_96_SIZE = 1 + 12
# Impinj subtype -> (sllurp's name, value struct); each is a 14-byte TLV: header, vendor, subtype, 2-byte value
IMPINJ_PARAMS: dict[int, tuple[str, struct.Struct]] = {56: ("ImpinjRFPhaseAngle", U16), 57: ("ImpinjPeakRSSI", S16)}
_IMPINJ_HEAD = TLV_HEADER.size + VENDOR_SUBTYPE.size
_IMPINJ_SIZE = _IMPINJ_HEAD + 2
# the 12 bytes before the value, which say all of that at once -> (name, unpack_from)
_IMPINJ: dict[bytes, tuple[str, Callable[[bytes, int], tuple[Any, ...]]]] = {
    TLV_HEADER.pack(CUSTOM, _IMPINJ_SIZE) + VENDOR_SUBTYPE.pack(IMPINJ, subtype): (name, fmt.unpack_from)
    for subtype, (name, fmt) in IMPINJ_PARAMS.items()
}


class ReportFormatError(ValueError):
    """The message is not a tag report this decoder reads; sllurp's own decoder must have it."""


def decode_ro_access_report(message: bytes) -> list[dict[str, Any]]:
    """One whole RO_ACCESS_REPORT message (header included) -> sllurp's `TagReportData` list. Pure.

    Raises ReportFormatError, and nothing else, for any message it does not read (see the module doc).
    """
    if len(message) < MESSAGE_HEADER.size:
        raise ReportFormatError(f"{len(message)} bytes: shorter than a message header")
    kind, length, _msg_id = MESSAGE_HEADER.unpack_from(message)
    if kind & 0x3FF != REPORT_TYPE or kind & 0xE000:
        raise ReportFormatError(f"message type word {kind:#06x} is not an RO_ACCESS_REPORT")
    if length != len(message):
        raise ReportFormatError(f"header says {length} bytes, message has {len(message)}")
    tags: list[dict[str, Any]] = []
    pos = MESSAGE_HEADER.size
    while pos < length:
        end = _tlv_end(message, pos, length)
        if message[pos] != 0 or message[pos + 1] != TAG_REPORT_DATA:
            raise ReportFormatError(f"parameter {TLV_HEADER.unpack_from(message, pos)[0]:#06x} at {pos}")
        tags.append(_tag_report_data(message, pos + TLV_HEADER.size, end))
        pos = end
    return tags


def _tlv_end(data: bytes, pos: int, limit: int) -> int:
    """Where the TLV parameter at pos ends; it must fit its header and its container (which ends at limit)."""
    if pos + TLV_HEADER.size > limit:
        raise ReportFormatError(f"TLV header at {pos} runs past {limit}")
    size = (data[pos + 2] << 8) | data[pos + 3]
    if size < TLV_HEADER.size or pos + size > limit:
        raise ReportFormatError(f"TLV at {pos} of {size} bytes does not fit in {limit}")
    return pos + size


def _tag_report_data(data: bytes, pos: int, end: int) -> dict[str, Any]:
    """The body of one TagReportData, data[pos:end] -> sllurp's tag dict."""
    tag: dict[str, Any] = {}
    tv, impinj = _TV, _IMPINJ
    while pos < end:
        first = data[pos]
        if first == _EPC_96_FIRST_BYTE:
            nxt = pos + _EPC_96_SIZE
            if nxt > end:
                raise ReportFormatError(f"EPC-96 at {pos} runs past {end}")
            tag["EPC-96"] = hexlify(data[pos + 1:nxt])
        elif first & 0x80:
            known = tv.get(first)
            if known is None:
                raise ReportFormatError(f"TV parameter type {first & 0x7F} at {pos}")
            name, unpack_from, size = known
            nxt = pos + size
            if nxt > end:
                raise ReportFormatError(f"{name} at {pos} runs past {end}")
            tag[name] = unpack_from(data, pos + 1)[0]
        elif (custom := impinj.get(data[pos:pos + _IMPINJ_HEAD])) is not None and pos + _IMPINJ_SIZE <= end:
            name, unpack_from = custom  # its header, length, vendor and subtype matched: 2 bytes of value follow
            tag[name] = unpack_from(data, pos + _IMPINJ_HEAD)[0]
            nxt = pos + _IMPINJ_SIZE
        else:
            nxt = _tlv_end(data, pos, end)
            _epc_data(data, pos, nxt, tag)
        pos = nxt
    if "EPC-96" in tag:
        tag["EPC"] = tag["EPC-96"]  # as sllurp does: EPC is the umbrella name
    return tag


def _epc_data(data: bytes, pos: int, end: int, tag: dict[str, Any]) -> None:
    """The only other TLV a TagReportData may hold here: EPCData, data[pos:end], into tag["EPC"]."""
    kind = (data[pos] << 8) | data[pos + 1]
    if kind != EPC_DATA or end - pos < TLV_HEADER.size + 2:
        raise ReportFormatError(f"TLV parameter {kind:#06x} of {end - pos} bytes at {pos}")
    tag["EPC"] = hexlify(data[pos + TLV_HEADER.size + 2:end])  # after EPCLengthBits, as sllurp does
