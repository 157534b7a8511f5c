"""The reader side of LLRP 1.0.1 (plus the Impinj extensions sllurp uses), built with pyllrp.

Each function returns the bytes of one message, ready for the socket. Only the emulator uses this.
"""

from __future__ import annotations

import functools
import itertools
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import bitstring
from pyllrp import pyllrp as llrp

from readers.emulators.sightings import RfidSighting

HEADER = struct.Struct("!HII")  # version|type, length, message id
TLV = struct.Struct("!HH")  # parameter type, length
REPORT_TYPE = 61  # RO_ACCESS_REPORT
TAG_REPORT_DATA_TYPE = 240
CUSTOM_TYPE = 1023
IMPINJ_VENDOR = 25882
POWER_TABLE_CDBM = tuple(range(1000, 3025, 25))  # 10.00 .. 30.00 dBm in 0.25 dB steps (Impinj R420)
MODE_IDS = (0, 1, 2, 3, 4, 1000, 1002)  # Impinj Octane reader modes (Max Throughput ... AutoSet)
Message = Any  # a pyllrp message object (the package is untyped)
_report_ids = itertools.count(1)


@dataclass(frozen=True)
class RoSpecInfo:
    """What an ADD_ROSPEC asked for, as far as the emulator honours it."""

    rospec_id: int
    antennas: frozenset[int]  # empty: all antennas (AntennaIDs [0])
    n_tags: int  # 0: all sightings of an interval in one report
    selector: dict[str, bool]  # TagReportContentSelector flags
    impinj_peak_rssi: bool = False
    impinj_phase: bool = False


def pack(message: Message) -> bytes:
    data: bytes = message.pack(bitstring.BitStream()).tobytes()
    return data


def unpack(data: bytes) -> Message:
    """One whole message (header included) -> pyllrp object. Raises on anything pyllrp rejects."""
    return llrp.UnpackMessage(bitstring.ConstBitStream(bytes=data))


def _ok() -> Message:
    return llrp.LLRPStatus_Parameter(StatusCode=llrp.StatusCode.M_Success, ErrorDescription="")


def status_response(name: str, msg_id: int, *, code: int = 0, description: str = "") -> bytes:
    """`<NAME>_RESPONSE` (or ERROR_MESSAGE) with an LLRPStatus; code 0 is success."""
    status = llrp.LLRPStatus_Parameter(StatusCode=code, ErrorDescription=description)
    cls = getattr(llrp, f"{name}_Message")
    return pack(cls(MessageID=msg_id, Parameters=[status]))


def connection_event(now_us: int, *, status: int = 0) -> bytes:
    """The READER_EVENT_NOTIFICATION a reader sends first on every new connection."""
    return pack(llrp.READER_EVENT_NOTIFICATION_Message(Parameters=[
        llrp.ReaderEventNotificationData_Parameter(Parameters=[
            llrp.UTCTimestamp_Parameter(Microseconds=now_us),
            llrp.ConnectionAttemptEvent_Parameter(Status=status),
        ]),
    ]))


def keepalive() -> bytes:
    return pack(llrp.KEEPALIVE_Message())


def capabilities_response(msg_id: int, *, antennas: int, impinj: bool) -> bytes:
    params = [_ok(), _general_capabilities(antennas), _llrp_capabilities(), _regulatory_capabilities(),
              llrp.C1G2LLRPCapabilities_Parameter(MaxNumSelectFiltersPerQuery=2)]
    if impinj:
        params.append(llrp.ImpinjDetailedVersion_Parameter(
            ModelName="R420 (emulated)", SerialNumber="37017090614", SoftwareVersion="7.6.0.240",
            FirmwareVersion="7.6.0.240", FPGAVersion="0.0.0.0", PCBAVersion="0.0.0.0"))
    return pack(llrp.GET_READER_CAPABILITIES_RESPONSE_Message(MessageID=msg_id, Parameters=params))


def _general_capabilities(antennas: int) -> Message:
    return llrp.GeneralDeviceCapabilities_Parameter(
        MaxNumberOfAntennaSupported=antennas, CanSetAntennaProperties=False, HasUTCClockCapability=True,
        DeviceManufacturerName=IMPINJ_VENDOR, ModelName=2001002, ReaderFirmwareVersion="7.6.0.240",
        Parameters=[
            llrp.ReceiveSensitivityTableEntry_Parameter(Index=1, ReceiveSensitivityValue=0),
            llrp.GPIOCapabilities_Parameter(NumGPIs=4, NumGPOs=4),
            *[llrp.PerAntennaAirProtocol_Parameter(AntennaID=a, ProtocolID=[1]) for a in range(1, antennas + 1)],
        ])


def _llrp_capabilities() -> Message:
    return llrp.LLRPCapabilities_Parameter(
        CanDoRFSurvey=False, CanReportBufferFillWarning=True, SupportsClientRequestOpSpec=False,
        CanDoTagInventoryStateAwareSingulation=True, SupportsEventAndReportHolding=True,
        MaxNumPriorityLevelsSupported=1, ClientRequestOpSpecTimeout=0, MaxNumROSpecs=1, MaxNumSpecsPerROSpec=32,
        MaxNumInventoryParameterSpecsPerAISpec=1, MaxNumAccessSpecs=1508, MaxNumOpSpecsPerAccessSpec=8)


def _regulatory_capabilities() -> Message:
    powers = [llrp.TransmitPowerLevelTableEntry_Parameter(Index=i, TransmitPowerValue=cdbm)
              for i, cdbm in enumerate(POWER_TABLE_CDBM, start=1)]
    hop = llrp.FrequencyHopTable_Parameter(HopTableID=1, Frequency=[902750 + 500 * k for k in range(50)])
    modes = [llrp.C1G2UHFRFModeTableEntry_Parameter(
        ModeIdentifier=mode, DRValue=True, EPCHAGTCConformance=False, MValue=2, ForwardLinkModulation=2,
        SpectralMaskIndicator=3, BDRValue=160000, PIEValue=2000, MinTariValue=20000, MaxTariValue=20000,
        StepTariValue=0) for mode in MODE_IDS]
    band = llrp.UHFBandCapabilities_Parameter(Parameters=[
        *powers,
        llrp.FrequencyInformation_Parameter(Hopping=True, Parameters=[hop]),
        llrp.C1G2UHFRFModeTable_Parameter(Parameters=modes),
    ])
    return llrp.RegulatoryCapabilities_Parameter(CountryCode=840, CommunicationsStandard=1, Parameters=[band])


def reader_config_response(msg_id: int, *, antennas: int, keepalive_ms: int) -> bytes:
    params = [_ok(), llrp.Identification_Parameter(IDType=0, ReaderID=[0x00, 0x16, 0x25, 0x12, 0x34, 0x56])]
    params += [llrp.AntennaProperties_Parameter(AntennaConnected=True, AntennaID=a, AntennaGain=0)
               for a in range(1, antennas + 1)]
    params.append(llrp.KeepaliveSpec_Parameter(KeepaliveTriggerType=1 if keepalive_ms else 0,
                                               PeriodicTriggerValue=keepalive_ms))
    return pack(llrp.GET_READER_CONFIG_RESPONSE_Message(MessageID=msg_id, Parameters=params))


def keepalive_ms(message: Message) -> int | None:
    """The keepalive period a SET_READER_CONFIG asks for (0: none), or None if it does not say."""
    spec = message.getFirstParameterByClass(llrp.KeepaliveSpec_Parameter)
    if spec is None:
        return None
    return int(spec.PeriodicTriggerValue) if spec.KeepaliveTriggerType == 1 else 0


def rospec_info(message: Message) -> RoSpecInfo:
    """ADD_ROSPEC -> what to report: antennas, N tags per report, content selector, Impinj extras."""
    rospec = message.getFirstParameterByClass(llrp.ROSpec_Parameter)
    aispec = message.getFirstParameterByClass(llrp.AISpec_Parameter)
    antennas = frozenset(a for a in (aispec.AntennaIDs if aispec else []) if a != 0)
    observe = message.getFirstParameterByClass(llrp.TagObservationTrigger_Parameter)
    content = message.getFirstParameterByClass(llrp.TagReportContentSelector_Parameter)
    selector = {f.Name: bool(getattr(content, f.Name)) for f in content.DataFields} if content else {}
    phase = message.getFirstParameterByClass(llrp.ImpinjEnableRFPhaseAngle_Parameter)
    peak = message.getFirstParameterByClass(llrp.ImpinjEnablePeakRSSI_Parameter)
    return RoSpecInfo(
        rospec_id=int(rospec.ROSpecID), antennas=antennas,
        n_tags=int(observe.NumberOfTags) if observe else 0, selector=selector,
        impinj_peak_rssi=bool(peak and peak.PeakRSSIMode), impinj_phase=bool(phase and phase.RFPhaseAngleMode),
    )


def ro_access_report(sightings: Sequence[RfidSighting], *, spec: RoSpecInfo, impinj: bool, now_us: int) -> bytes:
    """One RO_ACCESS_REPORT with a TagReportData per sighting, fields as the ROSpec's selector asks.

    Every parameter is packed by pyllrp, once per distinct value (cached): bitstring packs ~3,000 tags/s,
    too slow to load-test the adapter. Only the two length headers are written here.
    """
    on = spec.selector.get
    stamp = _param("FirstSeenTimestampUTC", now_us) if on("EnableFirstSeenTimestamp") else b""
    stamp += _param("LastSeenTimestampUTC", now_us) if on("EnableLastSeenTimestamp") else b""
    body = b"".join(_tag_report_data(s, spec=spec, impinj=impinj, stamp=stamp) for s in sightings)
    return HEADER.pack((1 << 10) | REPORT_TYPE, HEADER.size + len(body), next(_report_ids)) + body


def _tag_report_data(s: RfidSighting, *, spec: RoSpecInfo, impinj: bool, stamp: bytes) -> bytes:
    on = spec.selector.get
    parts = [_param("EPC", s.epc_hex)]
    if on("EnableROSpecID"):
        parts.append(_param("ROSpecID", spec.rospec_id))
    if on("EnableAntennaID"):
        parts.append(_param("AntennaID", s.antenna))
    if on("EnablePeakRSSI"):
        parts.append(_param("PeakRSSI", max(-128, min(127, round(s.rssi_dbm)))))
    if on("EnableChannelIndex"):
        parts.append(_param("ChannelIndex", 1))
    parts.append(stamp)
    if on("EnableTagSeenCount"):
        parts.append(_param("TagSeenCount", 1))
    if impinj and spec.impinj_phase and s.phase_rad is not None:
        angle = round((s.phase_rad % (2 * math.pi)) / (2 * math.pi) * 4096) % 4096  # radians -> 0..4095
        parts.append(_param("ImpinjRFPhaseAngle", angle))
    if impinj and spec.impinj_peak_rssi:
        parts.append(_param("ImpinjPeakRSSI", max(-32768, min(32767, round(s.rssi_dbm * 100)))))
    body = b"".join(parts)
    return TLV.pack(TAG_REPORT_DATA_TYPE, TLV.size + len(body)) + body


@functools.lru_cache(maxsize=1 << 16)
def _param(kind: str, value: int | str) -> bytes:
    """One TagReportData sub-parameter, packed by pyllrp."""
    if kind == "EPC":
        epc = bytes.fromhex(str(value))
        return pack(llrp.EPC_96_Parameter(EPC=int.from_bytes(epc, "big")) if len(epc) == 12
                    else llrp.EPCData_Parameter(EPC=epc))
    cls, field_name = PARAMS[kind]
    return pack(cls(**{field_name: value}))


PARAMS: dict[str, tuple[Any, str]] = {
    "ROSpecID": (llrp.ROSpecID_Parameter, "ROSpecID"),
    "AntennaID": (llrp.AntennaID_Parameter, "AntennaID"),
    "PeakRSSI": (llrp.PeakRSSI_Parameter, "PeakRSSI"),
    "ChannelIndex": (llrp.ChannelIndex_Parameter, "ChannelIndex"),
    "FirstSeenTimestampUTC": (llrp.FirstSeenTimestampUTC_Parameter, "Microseconds"),
    "LastSeenTimestampUTC": (llrp.LastSeenTimestampUTC_Parameter, "Microseconds"),
    "TagSeenCount": (llrp.TagSeenCount_Parameter, "TagCount"),
    "ImpinjRFPhaseAngle": (llrp.ImpinjRFPhaseAngle_Parameter, "PhaseAngle"),
    "ImpinjPeakRSSI": (llrp.ImpinjPeakRSSI_Parameter, "RSSI"),
}
