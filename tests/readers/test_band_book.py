"""BandBook: when emulated band tags speak and what they say; the UWB and BLE emulators carrying it (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from readers.adapters.ble_adv import BAND_BUTTON, BAND_LOW_BATTERY, BAND_STRAP_CUT, decode_adv
from readers.adapters.ble_minew import parse_minew
from readers.adapters.ble_mqtt import gateway_table
from readers.adapters.uwb_mqtt import parse_uwb_json
from readers.drops import DropCounter
from readers.emulators.band import BandBook, UnknownBand, mv_from_battery_pct
from readers.emulators.ble_gateway import GatewaySpec, band_sightings, gateway_messages
from readers.emulators.sightings import BleSighting, UwbRange
from readers.emulators.uwb_anchor import UwbMqttEmulator
from readers.reads import TagStatus

T0 = 1_772_442_900.0  # 2026-03-02 09:15:00 UTC


def _book(*tags: str, **kwargs: float) -> BandBook:
    return BandBook(tags or ("B001",), seed=7, clock=lambda: T0, **kwargs)


def _sent_at(book: BandBook, tag: str, times: list[float]) -> list[float]:
    """The moments among `times` at which the tag sends (taking the frame, as an emulator does)."""
    sent = []
    for t_s in times:
        if book.due(tag, t_s):
            book.take(tag, t_s)
            sent.append(t_s)
    return sent


def _ticks(start_s: float, end_s: float, step_s: float = 0.2) -> list[float]:
    return [round(start_s + i * step_s, 3) for i in range(int((end_s - start_s) / step_s))]


def test_it_speaks_at_once_then_every_heartbeat() -> None:
    book = _book()
    assert _sent_at(book, "B001", _ticks(T0, T0 + 35)) == [T0, T0 + 10, T0 + 20, T0 + 30]


def test_a_change_is_told_at_once_and_the_heartbeat_goes_on_from_it() -> None:
    book = _book()
    _sent_at(book, "B001", _ticks(T0, T0 + 3.4))
    book.strap("B001", "cut")
    frame = book.take("B001", T0 + 3.4) if book.due("B001", T0 + 3.4) else None
    assert frame is not None and frame.flags & BAND_STRAP_CUT and frame.seq == 1
    assert _sent_at(book, "B001", _ticks(T0 + 3.6, T0 + 25)) == [T0 + 13.4, T0 + 23.4]
    status = book.status("B001", T0 + 25)
    assert status is not None and status.tamper and not status.strap_loose


@pytest.mark.parametrize(("state", "tamper", "loose"), [("closed", False, False), ("loose", False, True),
                                                         ("cut", True, False)])
def test_the_strap_states_are_the_documented_bits(state: str, tamper: bool, loose: bool) -> None:
    book = _book()
    book.strap("B001", state)
    status = book.status("B001", T0)
    assert status is not None and (status.tamper, status.strap_loose, status.button) == (tamper, loose, False)


def test_a_press_shows_for_one_heartbeat_and_is_never_missed() -> None:
    book = _book("M001")
    book.take("M001", T0)
    book.press("M001")
    assert book.due("M001", T0 + 2.0)
    pressed = book.take("M001", T0 + 2.0)
    assert pressed.flags & BAND_BUTTON
    assert not book.due("M001", T0 + 11.8)  # the button shows for one heartbeat, then goes with it
    assert (book.status("M001", T0 + 11.8) or TagStatus()).button
    after = book.take("M001", T0 + 12.0)
    assert not after.flags & BAND_BUTTON and after.seq == pressed.seq + 1


def test_the_battery_starts_seeded_and_plausible_and_drains_slowly() -> None:
    tags = [f"B{i:03d}" for i in range(1, 30)]
    first, again = BandBook(tags, seed=7), BandBook(list(reversed(tags)), seed=7)
    levels = {tag: (first.status(tag, T0) or TagStatus()).battery_pct for tag in tags}
    assert levels == {tag: (again.status(tag, T0) or TagStatus()).battery_pct for tag in tags}
    assert all(level is not None and 40 <= level <= 100 for level in levels.values())
    assert len(set(levels.values())) > 5
    day = first.status("B001", T0 + 86_400)
    start = first.status("B001", T0)
    assert day is not None and start is not None and start.battery_mv is not None and day.battery_mv is not None
    assert 0 < start.battery_mv - day.battery_mv < 40  # a day costs about 1 %: a few millivolts


def test_a_draining_battery_turns_the_low_flag_on_by_itself_and_that_is_news() -> None:
    book = _book(drain_pct_per_h=360.0)  # 0.1 % a second
    book.battery("B001", 20.5, at_s=T0)
    assert not book.take("B001", T0).flags & BAND_LOW_BATTERY
    sent = _sent_at(book, "B001", _ticks(T0 + 0.2, T0 + 9.0))
    assert len(sent) == 1 and T0 + 4 < sent[0] < T0 + 7  # crossed 2700 mV (20 %) between heartbeats
    assert book.take("B001", T0 + 9.0).flags & BAND_LOW_BATTERY


def test_a_battery_command_is_told_at_once_with_the_voltage_of_that_level() -> None:
    book = _book()
    book.take("B001", T0)
    book.battery("B001", 8)
    assert book.due("B001", T0 + 0.2)
    frame = book.take("B001", T0 + 0.2)
    assert frame.battery_mv == mv_from_battery_pct(8) == 2560 and frame.flags & BAND_LOW_BATTERY
    assert frame.status.battery_pct == 8


def test_a_shielded_tag_says_nothing_and_speaks_again_when_unwrapped() -> None:
    book = _book()
    book.take("B001", T0)
    book.shield("B001", True)
    book.strap("B001", "cut")
    assert not book.due("B001", T0 + 30) and book.status("B001", T0 + 30) is None and book.shielded("B001")
    book.shield("B001", False)
    assert book.due("B001", T0 + 30) and book.take("B001", T0 + 30).flags & BAND_STRAP_CUT


def test_it_refuses_unknown_tags_and_states_in_plain_words() -> None:
    book = _book()
    with pytest.raises(UnknownBand, match="'X9' is not a band tag"):
        book.strap("X9", "cut")
    with pytest.raises(ValueError, match="closed, loose, cut"):
        book.strap("B001", "open")
    with pytest.raises(ValueError, match=r"0\.\.100"):
        book.battery("B001", 120)
    assert book.status("X9", T0) is None and not book.due("X9", T0) and "X9" not in book


def _ranges(tags: tuple[str, ...]) -> list[UwbRange]:
    return [UwbRange("UWB-2E-01", "0CA8", (0.0, 0.0, 2.5), tag, 3.0) for tag in tags]


def test_the_uwb_emulator_adds_status_when_due_and_the_adapter_reads_it() -> None:
    book = _book("B001")
    emulator = UwbMqttEmulator(lambda _t: _ranges(("B001", "1A2B")), bands=book)
    docs = {t: {topic: json.loads(payload) for topic, payload in emulator.payloads(t).items()}
            for t in (T0, T0 + 0.2, T0 + 10.0)}
    assert [("status" in docs[t]["uwb/B001/ranges"]) for t in docs] == [True, False, True]
    assert all("status" not in docs[t]["uwb/1A2B/ranges"] for t in docs)  # not a band tag
    book.strap("B001", "loose")
    (payload,) = [p for topic, p in emulator.payloads(T0 + 10.4).items() if "B001" in topic]
    (read,) = parse_uwb_json("uwb/B001/ranges", payload, anchors={"0CA8": "UWB-2E-01"}, reader_id="gw",
                             drops=DropCounter(), now=datetime.fromtimestamp(T0 + 11, tz=UTC))
    assert read.status is not None and read.status.strap_loose and not read.status.tamper
    assert json.loads(payload)["status"]["seq"] == 2


def test_a_shielded_tag_sends_no_ranges_and_no_adverts() -> None:
    book = _book("B001", "AC233FB00001")
    book.shield("B001", True)
    book.shield("AC233FB00001", True)
    emulator = UwbMqttEmulator(lambda _t: _ranges(("B001", "1A2B")), bands=book)
    assert list(emulator.payloads(T0)) == ["uwb/1A2B/ranges"]
    seen = [BleSighting("gw", "AC233FB00001", -60.0), BleSighting("gw", "AC233F000001", -60.0)]
    heard, frames = band_sightings(book, seen, T0)
    assert [s.tag_mac for s in heard] == ["AC233F000001"] and frames == {}


def test_a_ble_band_advertises_its_frame_and_a_fresh_one_only_when_due() -> None:
    book = _book("AC233FB00001")
    spec = GatewaySpec("gw-minew", "ble_minew", "AC233FC001EA", "gw/minew")
    seen = [BleSighting("gw-minew", "AC233FB00001", -60.0)]
    seqs = []
    for t_s in (T0, T0 + 1, T0 + 2, T0 + 10, T0 + 11):
        _heard, frames = band_sightings(book, seen, t_s)
        band = decode_adv(frames["AC233FB00001"]).band
        assert band is not None
        seqs.append(band.seq)
    assert seqs == [0, 0, 0, 1, 1]  # the same frame between heartbeats, as a real tag repeats it
    book.press("AC233FB00001")
    heard, frames = band_sightings(book, seen, T0 + 12)
    ((_topic, payload),) = gateway_messages([spec], heard, T0 + 12, frames)
    (read,) = parse_minew(payload, topic="gw/minew", gateways=gateway_table({"AC233FC001EA": "gw-minew"}),
                          drops=DropCounter(), now=datetime.fromtimestamp(T0 + 13, tz=UTC))
    assert read.status is not None and read.status.button and not read.status.tamper
    assert read.raw["band_seq"] == 2 and read.status.battery_mv == book.take("AC233FB00001", T0 + 12).battery_mv
