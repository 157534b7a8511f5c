"""llrp_report's RO_ACCESS_REPORT decoder against sllurp 3.0.5's own decoding of the same bytes.

Reports are built by the emulator's pyllrp message builder (readers/emulators/llrp_messages.py); the
reference is `LLRPMessage(msgbytes=...)`, i.e. what sllurp hands the tag-report callback without us.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sllurp.llrp import LLRPMessage, LLRPReaderClient, LLRPReaderConfig

from readers.adapters.llrp_client import ReportClient
from readers.adapters.llrp_report import TVE_PARAM_FORMATS, ReportFormatError, decode_ro_access_report
from readers.adapters.rfid_llrp import tag_content
from readers.emulators.llrp_messages import HEADER, TLV, RoSpecInfo, ro_access_report
from readers.emulators.sightings import RfidSighting

SEED = 20240501
NOW_US = 1_714_564_800_000_000
EVERYTHING = {"EnableROSpecID": True, "EnableAntennaID": True, "EnablePeakRSSI": True, "EnableChannelIndex": True,
              "EnableFirstSeenTimestamp": True, "EnableLastSeenTimestamp": True, "EnableTagSeenCount": True}
FUZZ = settings(derandomize=True, max_examples=200, deadline=None, database=None)


def _sightings(n: int, *, epc_bits: int | tuple[int, ...], seed: int = SEED) -> list[RfidSighting]:
    rng = random.Random(seed)
    choices = epc_bits if isinstance(epc_bits, tuple) else (epc_bits,)
    return [RfidSighting(f"{rng.getrandbits(bits):0{bits // 4}X}", antenna=rng.randint(1, 4),
                         rssi_dbm=rng.uniform(-90.0, -30.0), phase_rad=rng.uniform(0.0, 6.28))
            for bits in (rng.choice(choices) for _ in range(n))]


def _report(n: int, *, epc_bits: int | tuple[int, ...], selector: dict[str, bool], impinj: bool) -> bytes:
    spec = RoSpecInfo(rospec_id=3, antennas=frozenset(), n_tags=n, selector=selector,
                      impinj_peak_rssi=impinj, impinj_phase=impinj)
    return ro_access_report(_sightings(n, epc_bits=epc_bits), spec=spec, impinj=impinj, now_us=NOW_US)


def _sllurp_tags(message: bytes) -> list[dict[str, Any]]:
    tags: list[dict[str, Any]] = LLRPMessage(msgbytes=message).msgdict["RO_ACCESS_REPORT"]["TagReportData"]
    return tags


def _client() -> ReportClient:
    return ReportClient("127.0.0.1", 5084, LLRPReaderConfig({"antennas": [0]}))


def _with_tag_body(message: bytes, extra: bytes) -> bytes:
    """The report's first TagReportData with `extra` appended to its body (both lengths fixed up)."""
    tlv_at = HEADER.size
    _kind, size = TLV.unpack_from(message, tlv_at)
    first = TLV.pack(240, size + len(extra)) + message[tlv_at + TLV.size:tlv_at + size] + extra
    body = first + message[tlv_at + size:]
    return HEADER.pack(struct.unpack_from("!H", message)[0], HEADER.size + len(body), 9) + body


REPORTS = {
    "adapter's own selector, Impinj, 96-bit, 1 tag": (1, 96, tag_content(impinj=True), True),
    "adapter's own selector, Impinj, 96-bit, 300 tags": (300, 96, tag_content(impinj=True), True),
    "adapter's own selector, no Impinj, 96-bit, 50 tags": (50, 96, tag_content(impinj=False), False),
    "every field, Impinj, 128-bit, 1 tag": (1, 128, EVERYTHING, True),
    "every field, Impinj, 96- and 128-bit mixed, 200 tags": (200, (96, 128), EVERYTHING, True),
    "every field, no Impinj, 128-bit, 40 tags": (40, 128, EVERYTHING, False),
    "EPC only, 96- to 496-bit, 30 tags": (30, (16, 64, 96, 128, 256, 496), {}, False),
    "heartbeat: no tags": (0, 96, EVERYTHING, True),
}


@pytest.mark.parametrize(("n", "bits", "selector", "impinj"), REPORTS.values(), ids=REPORTS.keys())
def test_it_decodes_emulator_reports_exactly_as_sllurp(
    n: int, bits: int | tuple[int, ...], selector: dict[str, bool], impinj: bool,
) -> None:
    message = _report(n, epc_bits=bits, selector=selector, impinj=impinj)
    ours, theirs = decode_ro_access_report(message), _sllurp_tags(message)
    assert ours == theirs
    assert [list(tag.items()) for tag in ours] == [list(tag.items()) for tag in theirs]  # same key order too
    assert len(ours) == n


@pytest.mark.parametrize(("tv_type", "fmt"), [(t, f) for t, (_, f) in TVE_PARAM_FORMATS.items()])
def test_it_decodes_every_scalar_tv_field_as_sllurp(tv_type: int, fmt: struct.Struct) -> None:
    rng = random.Random(SEED + tv_type)
    value = fmt.unpack(rng.randbytes(fmt.size))[0]
    field = bytes([0x80 | tv_type]) + fmt.pack(value)
    message = _with_tag_body(_report(2, epc_bits=96, selector={}, impinj=False), field)
    assert decode_ro_access_report(message) == _sllurp_tags(message)


def test_it_gives_sllurps_message_dict_through_the_client() -> None:
    client = _client()
    message = _report(20, epc_bits=(96, 128), selector=EVERYTHING, impinj=True)
    decoded = client.decode(message)
    reference = LLRPMessage(msgbytes=message)
    assert decoded is not None
    assert (decoded.getName(), decoded.msgdict, decoded.msgbytes) == ("RO_ACCESS_REPORT", reference.msgdict, message)
    assert (client.fallbacks, client.undecodable) == (0, 0)


IMPINJ_DOPPLER = struct.pack("!HHIIh", 1023, 14, 25882, 68, -120)  # ImpinjRFDopplerFrequency: sllurp knows it
UNKNOWN_CUSTOM = struct.pack("!HHIIH", 1023, 14, 25882, 999, 7)
READ_RESULT = struct.pack("!HHBHH4s", 349, 13, 0, 1, 2, b"\x12\x34\x56\x78")  # C1G2ReadOpSpecResult
FALLBACKS = {
    "Impinj Doppler (not ours)": IMPINJ_DOPPLER,
    "unknown Impinj subtype": UNKNOWN_CUSTOM,
    "C1G2ReadOpSpecResult": READ_RESULT,
    "C1G2SingulationDetails (TV 18)": bytes([0x80 | 18]) + struct.pack("!HH", 3, 4),
}


@pytest.mark.parametrize("extra", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_it_hands_a_report_it_does_not_read_to_sllurp(extra: bytes) -> None:
    message = _with_tag_body(_report(3, epc_bits=96, selector=EVERYTHING, impinj=True), extra)
    with pytest.raises(ReportFormatError):
        decode_ro_access_report(message)
    client = _client()
    decoded = client.decode(message)
    assert decoded is not None
    assert decoded.msgdict == LLRPMessage(msgbytes=message).msgdict
    assert (client.fallbacks, client.undecodable) == (1, 0)


def _mutations(message: bytes) -> st.SearchStrategy[bytes]:
    n = len(message)
    truncated = st.integers(HEADER.size, n - 1).map(lambda k: message[:k])
    truncated_fixed = st.integers(HEADER.size, n - 1).map(
        lambda k: message[:2] + struct.pack("!I", k) + message[6:k])  # cut short, header length agreeing
    flipped = st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 255)), min_size=1, max_size=4).map(
        lambda edits: _edit(message, edits))
    return st.one_of(truncated, truncated_fixed, flipped, flipped.map(lambda m: m[:2] + struct.pack("!I", n) + m[6:]))


def _edit(message: bytes, edits: list[tuple[int, int]]) -> bytes:
    data = bytearray(message)
    for at, value in edits:
        data[at] = value
    return bytes(data)


FUZZ_REPORT = _report(4, epc_bits=(96, 128), selector=EVERYTHING, impinj=True)


@FUZZ
@given(_mutations(FUZZ_REPORT))
def test_it_never_raises_on_corrupted_reports_and_falls_back_to_sllurp(message: bytes) -> None:
    try:
        ours: list[dict[str, Any]] | None = decode_ro_access_report(message)
    except ReportFormatError:
        ours = None
    if ours is not None:  # whatever the fast path accepts, sllurp decodes the same
        assert ours == _sllurp_tags(message)
    client = _client()
    decoded = client.decode(message)  # never raises: fast, else sllurp, else counted and skipped
    is_report = struct.unpack_from("!H", message)[0] & 0x3FF == 61  # a flipped type byte makes it another message
    assert client.fallbacks == int(is_report and ours is None)
    assert (decoded is None) == (client.undecodable == 1)


def _tag_lists(client: LLRPReaderClient, chunks: list[bytes]) -> list[list[dict[str, Any]]]:
    reports: list[list[dict[str, Any]]] = []
    client.add_tag_report_callback(lambda _client, tags: reports.append(tags))
    for chunk in chunks:
        client.raw_data_received(chunk)
    return reports


def test_it_frames_a_chunked_stream_as_sllurp_does() -> None:
    rng = random.Random(SEED)
    stream = b"".join(_report(rng.randint(0, 40), epc_bits=(96, 128), selector=EVERYTHING, impinj=rng.random() < 0.5)
                      for _ in range(30))
    cuts = sorted(rng.sample(range(1, len(stream)), 60))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    client = _client()
    reference = LLRPReaderClient("127.0.0.1", 5084, LLRPReaderConfig({"antennas": [0]}))
    assert _tag_lists(client, chunks) == _tag_lists(reference, chunks)
    assert (client.fallbacks, client.undecodable, client.received) == (0, 0, bytearray())


def test_it_skips_an_undecodable_message_and_keeps_the_reports_around_it() -> None:
    good = _report(5, epc_bits=96, selector=EVERYTHING, impinj=True)
    bad = good[:HEADER.size] + b"\x00\xf0\x00\x06\x81\x00"  # a TagReportData whose AntennaID is cut short
    bad = bad[:2] + struct.pack("!I", len(bad)) + bad[6:]
    client = _client()
    reports = _tag_lists(client, [good + bad + good])
    assert reports == [_sllurp_tags(good), _sllurp_tags(good)]
    assert (client.fallbacks, client.undecodable) == (1, 1)


def test_it_drops_a_stream_whose_message_length_cannot_be_right() -> None:
    good = _report(2, epc_bits=96, selector={}, impinj=False)
    client = _client()
    reports = _tag_lists(client, [good + HEADER.pack((1 << 10) | 61, 3, 1) + good, good])
    assert reports == [_sllurp_tags(good), _sllurp_tags(good)]
    assert (client.undecodable, client.received) == (1, bytearray())
