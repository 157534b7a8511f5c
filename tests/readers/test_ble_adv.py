"""Advertising-data decoding from raw hex: iBeacon, Eddystone UID/URL/TLM/EID, Minew info, bad structures."""

from __future__ import annotations

import pytest

from readers.adapters.ble_adv import (
    AdvError,
    battery_pct_from_mv,
    decode_adv,
    eddystone_tlm_adv,
    ibeacon_adv,
    minew_info_adv,
    norm_mac,
)
from readers.drops import DropReason

INGICS_IBEACON = "0201061AFF4C000215B9A5D27D56CC4E3AAB511F2153BCB9670001452ED6"
EDDYSTONE_UID = "0201060303AAFE1516AAFE00E800010203040506070809AABBCCDDEEFF0000"
EDDYSTONE_URL = "0201060303AAFE0D16AAFE10EE03676F6F676C6507"  # https:// google .com
EDDYSTONE_TLM = "0201060303AAFE1116AAFE20000BB81700000003E800000E10"  # 3000 mV, 23.0 °C, 1000 adv, 360 s
EDDYSTONE_EID = "0201060303AAFE0D16AAFE30F20102030405060708"


def test_it_decodes_the_ingics_readme_ibeacon() -> None:
    beacon = decode_adv(bytes.fromhex(INGICS_IBEACON)).ibeacon
    assert beacon is not None
    assert (beacon.uuid, beacon.major, beacon.minor, beacon.tx_power_dbm) == (
        "b9a5d27d-56cc-4e3a-ab51-1f2153bcb967",
        0x0001,
        0x452E,
        -42,
    )
    assert beacon.key == "b9a5d27d-56cc-4e3a-ab51-1f2153bcb967-1-17710"


@pytest.mark.parametrize(
    ("hex_adv", "key", "value"),
    [
        (EDDYSTONE_UID, "eddystone_uid", "00010203040506070809-aabbccddeeff"),
        (EDDYSTONE_URL, "eddystone_url", "https://google.com"),
        (EDDYSTONE_EID, "eddystone_eid", "0102030405060708"),
        (EDDYSTONE_TLM, "tlm", {"battery_mv": 3000, "temperature_c": 23.0, "adv_count": 1000, "uptime_s": 360.0}),
        ("1309696773206D65736820233220285445535429020106", "name", "igs mesh #2 (TEST)"),
    ],
)
def test_it_decodes_eddystone_frames_and_names(hex_adv: str, key: str, value: object) -> None:
    advert = decode_adv(bytes.fromhex(hex_adv))
    assert (advert.name if key == "name" else advert.beacon_ids[key]) == value


def test_it_estimates_battery_from_tlm_voltage_and_reads_minew_info_frames() -> None:
    assert decode_adv(bytes.fromhex(EDDYSTONE_TLM)).battery_pct == 100
    assert decode_adv(eddystone_tlm_adv(2700, -5.5, 1, 0.1)).battery_pct == 20
    assert decode_adv(bytes.fromhex("0201060303E1FF1316E1FFA10864001302E4CDAB504C5553303031")).battery_pct == 100
    assert decode_adv(minew_info_adv("AC233F000001", None)).battery_pct is None
    assert [battery_pct_from_mv(mv) for mv in (2000, 2400, 2650, 2850, 3000, 3600)] == [0, 0, 15, 55, 100, 100]


@pytest.mark.parametrize(
    ("hex_adv", "reason"),
    [
        (INGICS_IBEACON[:-4], DropReason.TRUNCATED),  # AD structure runs past the end
        ("0201061AFF4C000215B9A5D27D", DropReason.TRUNCATED),
        ("0201060303AAFE0816AAFE20000BB8", DropReason.TRUNCATED),  # TLM cut short
        ("0201060303AAFE0716AAFE10EE09FF", DropReason.GARBLED),  # URL scheme byte 0x09
    ],
)
def test_it_rejects_broken_advertising_data_with_a_reason(hex_adv: str, reason: DropReason) -> None:
    with pytest.raises(AdvError) as info:
        decode_adv(bytes.fromhex(hex_adv))
    assert info.value.reason is reason


def test_it_skips_unknown_structures_and_zero_padding() -> None:
    advert = decode_adv(bytes.fromhex("020106" + "03FF5900" + "0000000000"))
    assert advert.flags == 6 and advert.ibeacon is None and advert.beacon_ids == {}


def test_it_builds_what_it_decodes() -> None:
    beacon = decode_adv(ibeacon_adv("B9A5D27D-56CC-4E3A-AB51-1F2153BCB967", 1, 17710, -42)).ibeacon
    assert beacon is not None and beacon.key == "b9a5d27d-56cc-4e3a-ab51-1f2153bcb967-1-17710"
    assert bytes.fromhex(INGICS_IBEACON) == ibeacon_adv("b9a5d27d-56cc-4e3a-ab51-1f2153bcb967", 1, 0x452E, -42)


@pytest.mark.parametrize(
    ("text", "mac"),
    [
        ("ac:23:3f:00:00:01", "AC233F000001"),
        ("AC-23-3F-00-00-01", "AC233F000001"),
        ("ac233f000001", "AC233F000001"),
        ("ac233f00000", None),
        ("ac233f00000g", None),
        ("", None),
    ],
)
def test_it_normalizes_macs_to_the_canonical_tag_id(text: str, mac: str | None) -> None:
    assert norm_mac(text) == mac
