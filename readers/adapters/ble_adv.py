"""BLE advertising data: AD structures, iBeacon, Eddystone (UID/URL/TLM/EID), Minew info frames. Pure.

**Tag identity (every BLE parser uses it):** `tag_id` is the tag's Bluetooth MAC address as 12 upper-case
hex digits without separators, e.g. `AC233F000001` (`norm_mac`). Every gateway format we read carries
the MAC; our demo tags and `BleSighting.tag_mac` use it. What a beacon *says* about itself goes into
`TagRead.raw` under fixed keys, so a tag can still be matched by its beacon ids if needed:
`"ibeacon"` = `"<uuid lower-case with dashes>-<major>-<minor>"`, `"eddystone_uid"` =
`"<namespace hex>-<instance hex>"`, `"eddystone_url"`, `"eddystone_eid"`, `"tlm"` (dict). Tags with
rotating private addresses are out of scope: they need the resolving key, not the MAC.

An advertisement is a sequence of AD structures `length(1) | type(1) | data(length-1)`; a length byte
of 0 ends the significant part (some stacks pad to 31 bytes with zeros).
"""

from __future__ import annotations

import functools
import itertools
import re
import struct
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from readers.drops import DropReason
from readers.reads import TagStatus

AD_FLAGS = 0x01
AD_NAME_SHORT = 0x08
AD_NAME_COMPLETE = 0x09
AD_TX_POWER = 0x0A
AD_SERVICE_DATA_16 = 0x16
AD_MANUFACTURER = 0xFF

IBEACON_PREFIX = b"\x4c\x00\x02\x15"  # Apple company id 0x004C (little-endian), type 0x02, length 0x15
EDDYSTONE_UUID = 0xFEAA
MINEW_UUID = 0xFFE1  # Minew "info" frame: A1 08 <battery %> <MAC, little-endian> <name>

# Band frame (docs/tags.md): manufacturer data `FF FF | B1 | version | flags | battery mV (LE) | seq (LE)`.
# 0xFFFF is the Bluetooth SIG's company id for tests before an id is assigned (never in shipped products):
# a product would put its own assigned id here. The frame-type byte B1 keeps other test frames apart.
BAND_COMPANY_ID = 0xFFFF
BAND_FRAME_TYPE = 0xB1
BAND_PREFIX = struct.pack("<HB", BAND_COMPANY_ID, BAND_FRAME_TYPE)
BAND_VERSION = 1  # later versions keep these fields and may only append: a decoder reads any version >= 1
BAND_FRAME_LEN = 9  # bytes of manufacturer data in version 1, company id included
BAND_STRAP_CUT = 0x01  # strap cut or case opened (tamper)
BAND_STRAP_LOOSE = 0x02  # strap closed but not snug: the skin sensor lost contact
BAND_BUTTON = 0x04  # button pressed since the last heartbeat (mother tags: the match-check button)
BAND_LOW_BATTERY = 0x08  # the tag's own low-battery verdict (it sets it below BAND_LOW_BATTERY_MV)
BAND_MOVING = 0x10  # the accelerometer senses motion (tags without one leave it 0)
BAND_LOW_BATTERY_MV = 2700  # where a band tag raises its low-battery flag (20 % on the coin-cell curve)
BAND_LOW_FLAG_PCT = 10  # battery % read from a low-battery flag when the tag gives no voltage

_URL_SCHEMES = ("http://www.", "https://www.", "http://", "https://")
_URL_CODES = (
    ".com/",
    ".org/",
    ".edu/",
    ".net/",
    ".info/",
    ".biz/",
    ".gov/",
    ".com",
    ".org",
    ".edu",
    ".net",
    ".info",
    ".biz",
    ".gov",
)

# Lithium coin cell (CR2032 / CR2477, 3 V nominal) under a light beacon load: ~3.0 V fresh, a long
# plateau, a knee near 2.7 V, collapse below 2.4 V. Battery % is piecewise-linear through these points:
# an estimate only (cold and pulse load move it by ~10 %); above 3.0 V (2×AA, Li-SOCl2 cells) reads 100.
COIN_CELL_MV_PCT = ((2400, 0), (2600, 10), (2700, 20), (2800, 40), (2900, 70), (3000, 100))

_MAC_RE = re.compile(r"[0-9A-F]{12}")
MAC_CACHE_SIZE = 16_384  # MAC spellings remembered by norm_mac: more than the tags and gateways of one site


class AdvError(ValueError):
    """The advertising data cannot be read; `reason` is the drop reason to count."""

    def __init__(self, reason: DropReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IBeacon:
    uuid: str  # lower-case with dashes
    major: int
    minor: int
    tx_power_dbm: int  # measured power: RSSI at 1 m

    @property
    def key(self) -> str:
        return f"{self.uuid}-{self.major}-{self.minor}"


@dataclass(frozen=True, slots=True)
class Tlm:
    """Eddystone telemetry (unencrypted, version 0)."""

    battery_mv: int | None  # 0 on the air means "not battery powered"
    temperature_c: float | None  # 8.8 fixed point; 0x8000 means "not supported"
    adv_count: int
    uptime_s: float  # 0.1 s resolution since power-up

    def as_dict(self) -> dict[str, Any]:
        return {
            "battery_mv": self.battery_mv,
            "temperature_c": self.temperature_c,
            "adv_count": self.adv_count,
            "uptime_s": self.uptime_s,
        }


@dataclass(frozen=True, slots=True)
class Advert:
    """What one advertisement says (None: it does not say)."""

    flags: int | None = None
    name: str | None = None
    tx_power_dbm: int | None = None
    ibeacon: IBeacon | None = None
    eddystone_uid: str | None = None
    eddystone_url: str | None = None
    eddystone_eid: str | None = None
    tlm: Tlm | None = None
    battery_pct: int | None = None  # Minew info frame, or estimated from TLM / band battery voltage
    band: BandFrame | None = None  # an infant/mother band's status frame
    status: TagStatus | None = None  # what the advertisement says about the tag, ready for TagRead.status
    beacon_ids: dict[str, Any] = field(default_factory=dict)  # the keys documented above, for TagRead.raw


@dataclass(frozen=True, slots=True)
class BandFrame:
    """A band tag's status frame (docs/tags.md), as sent in BLE manufacturer data or a UWB blink's JSON.

    flags: the BAND_* bits; battery_mv: cell voltage, 0 = not measured; seq: heartbeat counter (16 bits,
    rolling: it steps once per frame the tag sends, so a gap in it is a missed heartbeat)."""

    flags: int
    battery_mv: int
    seq: int
    version: int = BAND_VERSION

    @property
    def status(self) -> TagStatus:
        flags, battery_mv = self.flags, self.battery_mv
        if battery_mv:
            battery_pct: int | None = battery_pct_from_mv(battery_mv)
        else:
            battery_pct = BAND_LOW_FLAG_PCT if flags & BAND_LOW_BATTERY else None
        return TagStatus(
            battery_pct=battery_pct,
            tamper=bool(flags & BAND_STRAP_CUT),
            button=bool(flags & BAND_BUTTON),
            moving=bool(flags & BAND_MOVING),
            strap_loose=bool(flags & BAND_STRAP_LOOSE),
            battery_mv=battery_mv or None,
        )

    def manufacturer_data(self) -> bytes:
        """The AD type 0xFF value: company id, frame type, version, flags, battery mV, seq."""
        return BAND_PREFIX + struct.pack("<BBHH", self.version, self.flags, self.battery_mv, self.seq)


def norm_mac(value: object) -> str | None:
    """'ac:23:3f:00:00:01', 'AC-23-3F-00-00-01', 'ac233f000001' -> 'AC233F000001'; anything else -> None."""
    if not isinstance(value, str):
        return None
    return _norm_mac_text(value)


@functools.lru_cache(maxsize=MAC_CACHE_SIZE)
def _norm_mac_text(text: str) -> str | None:
    """Remembered: the same tag and gateway MACs come back in every message (a lookup is ~5x cheaper)."""
    mac = text.replace(":", "").replace("-", "").strip().upper()
    return mac if _MAC_RE.fullmatch(mac) else None


def ibeacon_key(uuid: object, major: object, minor: object) -> str | None:
    """A vendor's decoded iBeacon fields -> '<uuid lower-case with dashes>-<major>-<minor>' (None if unusable)."""
    if not isinstance(uuid, str) or not isinstance(major, int | str) or not isinstance(minor, int | str):
        return None
    u = uuid.replace("-", "").lower()
    if len(u) != 32:
        return None
    return f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}-{major}-{minor}"


def battery_pct_from_mv(battery_mv: int) -> int:
    """Coin-cell battery voltage -> estimated % (see COIN_CELL_MV_PCT)."""
    points = COIN_CELL_MV_PCT
    if battery_mv <= points[0][0]:
        return 0
    for (mv0, pct0), (mv1, pct1) in itertools.pairwise(points):
        if battery_mv <= mv1:
            return round(pct0 + (pct1 - pct0) * (battery_mv - mv0) / (mv1 - mv0))
    return 100


def ad_structures(data: bytes) -> list[tuple[int, bytes]]:
    """Raw advertising data -> [(AD type, value)]. Raises AdvError when a structure runs past the end."""
    out: list[tuple[int, bytes]] = []
    i, n = 0, len(data)
    while i < n:
        length = data[i]
        if length == 0:
            break
        end = i + 1 + length
        if end > n:
            raise AdvError(DropReason.TRUNCATED, f"AD structure at byte {i} needs {length} bytes, {n - i - 1} left")
        out.append((data[i + 1], data[i + 2 : end]))
        i = end
    return out


def decode_adv(data: bytes) -> Advert:
    """Raw advertising data -> Advert. Raises AdvError (garbled / truncated); unknown structures are skipped."""
    fields: dict[str, Any] = {}
    for ad_type, value in ad_structures(data):
        if ad_type == AD_FLAGS and value:
            fields["flags"] = value[0]
        elif ad_type in (AD_NAME_SHORT, AD_NAME_COMPLETE):
            fields["name"] = value.decode("utf-8", errors="replace")
        elif ad_type == AD_TX_POWER and value:
            fields["tx_power_dbm"] = _int8(value[0])
        elif ad_type == AD_MANUFACTURER and value.startswith(IBEACON_PREFIX):
            fields["ibeacon"] = _ibeacon(value)
        elif ad_type == AD_MANUFACTURER and value[:3] == BAND_PREFIX:
            fields["band"] = decode_band(value)
        elif ad_type == AD_SERVICE_DATA_16 and len(value) >= 2:
            _service_data(value, fields)
    return _advert(fields)


def _advert(fields: dict[str, Any]) -> Advert:
    ids: dict[str, Any] = {}
    if fields.get("ibeacon") is not None:
        ids["ibeacon"] = fields["ibeacon"].key
    for key in ("eddystone_uid", "eddystone_url", "eddystone_eid"):
        if key in fields:
            ids[key] = fields[key]
    tlm = fields.get("tlm")
    if tlm is not None:
        ids["tlm"] = tlm.as_dict()
        if "battery_pct" not in fields and tlm.battery_mv is not None:
            fields["battery_pct"] = battery_pct_from_mv(tlm.battery_mv)
    band = fields.get("band")
    if band is not None:  # the band's own word on its battery wins over any other frame's
        ids["band_seq"] = band.seq
        status = band.status
        fields["battery_pct"] = status.battery_pct
    elif fields.get("battery_pct") is not None:
        status = TagStatus(battery_pct=fields["battery_pct"])
    else:
        status = None
    return Advert(**fields, status=status, beacon_ids=ids)


def decode_band(value: bytes) -> BandFrame:
    """Band manufacturer data (starting with BAND_PREFIX) -> BandFrame. Raises AdvError if cut short or
    of version 0; bytes a later version appends are skipped."""
    if len(value) < BAND_FRAME_LEN:
        raise AdvError(DropReason.TRUNCATED, f"band frame has {len(value)} of {BAND_FRAME_LEN} bytes")
    version, flags, battery_mv, seq = struct.unpack_from("<BBHH", value, 3)
    if version == 0:
        raise AdvError(DropReason.GARBLED, "band frame version 0")
    return BandFrame(flags=flags, battery_mv=battery_mv, seq=seq, version=version)


def _int8(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def _ibeacon(value: bytes) -> IBeacon:
    if len(value) < 25:
        raise AdvError(DropReason.TRUNCATED, f"iBeacon manufacturer data has {len(value)} of 25 bytes")
    uuid = str(UUID(bytes=value[4:20]))
    major, minor = struct.unpack_from(">HH", value, 20)
    return IBeacon(uuid=uuid, major=major, minor=minor, tx_power_dbm=_int8(value[24]))


def _service_data(value: bytes, fields: dict[str, Any]) -> None:
    uuid16 = value[0] | value[1] << 8
    if uuid16 == EDDYSTONE_UUID and len(value) >= 3:
        _eddystone(value[2], value[3:], fields)
    elif uuid16 == MINEW_UUID and len(value) >= 5 and value[2] == 0xA1 and value[3] == 0x08:
        if value[4] <= 100:
            fields["battery_pct"] = value[4]


def _eddystone(frame: int, body: bytes, fields: dict[str, Any]) -> None:
    """Eddystone frame body (after the frame-type byte): UID 0x00, URL 0x10, TLM 0x20, EID 0x30."""
    need = {0x00: 17, 0x10: 2, 0x20: 13, 0x30: 9}.get(frame)
    if need is None:
        return  # a frame type we do not read
    if len(body) < need:
        raise AdvError(DropReason.TRUNCATED, f"Eddystone frame 0x{frame:02x} has {len(body)} of {need} bytes")
    if frame == 0x00:
        fields["eddystone_uid"] = f"{body[1:11].hex()}-{body[11:17].hex()}"
        fields.setdefault("tx_power_dbm", _int8(body[0]))
    elif frame == 0x10:
        fields["eddystone_url"] = _url(body[1], body[2:])
    elif frame == 0x20 and body[0] == 0x00:  # version 1 is encrypted TLM: not readable without the key
        fields["tlm"] = _tlm(body)
    elif frame == 0x30:
        fields["eddystone_eid"] = body[1:9].hex()


def _url(scheme: int, encoded: bytes) -> str:
    if scheme >= len(_URL_SCHEMES):
        raise AdvError(DropReason.GARBLED, f"Eddystone-URL scheme byte 0x{scheme:02x}")
    parts = [_URL_SCHEMES[scheme]]
    for byte in encoded:
        if byte < len(_URL_CODES):
            parts.append(_URL_CODES[byte])
        elif 0x20 < byte < 0x7F:
            parts.append(chr(byte))
        else:
            raise AdvError(DropReason.GARBLED, f"Eddystone-URL byte 0x{byte:02x}")
    return "".join(parts)


def _tlm(body: bytes) -> Tlm:
    battery_mv, temp_raw, adv_count, uptime_ds = struct.unpack_from(">HhII", body, 1)
    temperature_c = None if temp_raw == -0x8000 else temp_raw / 256
    return Tlm(battery_mv=battery_mv or None, temperature_c=temperature_c, adv_count=adv_count, uptime_s=uptime_ds / 10)


# --- builders (emulator and tests): the inverse of the decoders above -------------------------------


def _ad(ad_type: int, value: bytes) -> bytes:
    return bytes((len(value) + 1, ad_type)) + value


FLAGS_LE_GENERAL = _ad(AD_FLAGS, b"\x06")  # LE general discoverable, BR/EDR not supported


def ibeacon_adv(uuid: str, major: int, minor: int, tx_power_dbm: int = -59) -> bytes:
    body = IBEACON_PREFIX + bytes.fromhex(uuid.replace("-", "")) + struct.pack(">HHb", major, minor, tx_power_dbm)
    return FLAGS_LE_GENERAL + _ad(AD_MANUFACTURER, body)


def minew_info_adv(mac: str, battery_pct: int | None, name: str = "PLUS001") -> bytes:
    mac_le = bytes.fromhex(mac)[::-1]
    body = struct.pack("<HBBB", MINEW_UUID, 0xA1, 0x08, 0xFF if battery_pct is None else battery_pct)
    return (
        FLAGS_LE_GENERAL
        + _ad(0x03, struct.pack("<H", MINEW_UUID))
        + _ad(AD_SERVICE_DATA_16, body + mac_le + name.encode())
    )


def band_adv(frame: BandFrame) -> bytes:
    """A band tag's advertisement: flags, then its status frame as manufacturer data."""
    return FLAGS_LE_GENERAL + _ad(AD_MANUFACTURER, frame.manufacturer_data())


def eddystone_tlm_adv(battery_mv: int, temperature_c: float, adv_count: int, uptime_s: float) -> bytes:
    body = struct.pack(
        ">HBBHhII", EDDYSTONE_UUID, 0x20, 0x00, battery_mv, round(temperature_c * 256), adv_count, round(uptime_s * 10)
    )
    body = body[1::-1] + body[2:]  # the 16-bit service UUID goes little-endian
    return FLAGS_LE_GENERAL + _ad(0x03, b"\xaa\xfe") + _ad(AD_SERVICE_DATA_16, body)
