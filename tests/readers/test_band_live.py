"""Band status end to end over the real Mosquitto: the UWB emulator -> the real uwb_mqtt adapter, the control
topic driving running emulators, and `manage.py emulate_band` as an operator runs it."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from functools import cache

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from floorplans.demo.layout import demo_floors
from floorplans.models import Floor
from readers.adapters.base import ReaderSettings
from readers.adapters.uwb_mqtt import UwbMqttAdapter
from readers.drops import DropCounter
from readers.emulators.band import BandBook
from readers.emulators.control import ControlListener, places_of, send_command
from readers.emulators.scenario import ScenarioTag
from readers.emulators.sightings import UwbRange
from readers.emulators.uwb_anchor import UwbMqttEmulator
from readers.emulators.world import EmulatedHospital, build_world
from readers.management.commands.run_emulators import listen_for_control
from readers.reads import TagRead
from tests.readers.test_uwb_live import BROKER, Collected, running
from tracking.models import Tag, TrackedObject

ANCHOR = UwbRange("UWB-T-01", "0CA8", (0.0, 0.0, 2.5), "B001", 3.0)
WAIT_S = 5.0


@pytest.fixture(autouse=True)
def broker() -> None:
    """The real broker must be there (`make test` starts it): its absence fails, it does not skip."""
    socket.create_connection(BROKER, timeout=1).close()


def _adapter(topic: str, anchors: dict[str, str]) -> UwbMqttAdapter:
    settings = ReaderSettings(code="t-uwb-gw", protocol="uwb_mqtt", address=f"{BROKER[0]}:{BROKER[1]}", topic=topic,
                              options={"anchors": anchors})
    return UwbMqttAdapter(settings, drops=DropCounter())


def _first(collected: Collected, match: Callable[[TagRead], bool], *, timeout_s: float = WAIT_S) -> TagRead:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for read in collected.wait_for(1, timeout_s=max(0.05, deadline - time.monotonic())):
            if match(read):
                return read
    raise AssertionError(f"no matching read in {timeout_s} s")


def test_the_uwb_emulator_tells_band_status_to_the_real_adapter_through_the_broker() -> None:
    prefix = f"test-band-{uuid.uuid4().hex[:8]}"
    book = BandBook(["B001"], seed=3)
    emulator = UwbMqttEmulator(lambda _t: [ANCHOR], host=BROKER[0], port=BROKER[1], topic_prefix=prefix,
                               interval_s=0.05, bands=book)
    adapter = _adapter(f"{prefix}/+/ranges", {"0CA8": "UWB-T-01"})
    with running(adapter) as collected:
        emulator.start()
        try:
            collected.wait_for(1)  # the adapter has subscribed (the very first blink may have gone before)
            book.battery("B001", 55)
            first = _first(collected, lambda r: r.status is not None and r.status.battery_pct == 55)
            assert first.status is not None and first.status.tamper is False and first.status.battery_mv == 2850
            book.strap("B001", "cut")
            cut_at = time.monotonic()
            cut = _first(collected, lambda r: r.status is not None and bool(r.status.tamper))
            assert time.monotonic() - cut_at < 1.0  # told at once, not at the next heartbeat
            book.shield("B001", True)
            time.sleep(0.2)
            collected.drain()
            time.sleep(0.5)
            assert collected.reads.empty()  # a shielded tag sends nothing at all
        finally:
            emulator.stop()
    assert cut.tag_id == "B001" and cut.reader_id == "UWB-T-01" and adapter.drops.total() == 0


@cache
def _documents() -> list[dict[str, object]]:
    return [d for d in demo_floors() if d["hospital_iot"]["floor"]["code"] == "L2"]


def _hospital(prefix: str) -> tuple[EmulatedHospital, UwbMqttEmulator, dict[str, str]]:
    """The demo's L2 with one infant, and its UWB gateway emulator publishing under `prefix` (not started, and
    not yet among the hospital's emulators)."""
    documents: list[dict[str, object]] = _documents()
    scenario, radio = build_world(documents, [ScenarioTag("B001", "uwb", "infant", "L2", "2E-201")], seed=5)
    book = BandBook(["B001"], seed=5)
    uwb = UwbMqttEmulator(lambda t_s: radio.uwb(scenario.positions(t_s), t_s), host=BROKER[0], port=BROKER[1],
                          topic_prefix=prefix, interval_s=0.1, bands=book)
    anchors = {r.hardware_id: r.code for r in radio.receivers if r.kind == "uwb_anchor"}
    hospital = EmulatedHospital(scenario, radio, bands=book, places=places_of(documents, scenario.graphs))
    return hospital, uwb, anchors


@pytest.fixture
def hospital() -> Iterator[tuple[EmulatedHospital, str, dict[str, str]]]:
    prefix = f"test-ctl-{uuid.uuid4().hex[:8]}"
    hospital, uwb, anchors = _hospital(prefix)
    listener = ControlListener(hospital, host=BROKER[0], port=BROKER[1], topic=f"{prefix}/control")
    listener.start()
    uwb.start()
    hospital.emulators += [listener, uwb]
    yield hospital, prefix, anchors
    hospital.stop()


def test_the_control_topic_drives_the_running_emulators(hospital: tuple[EmulatedHospital, str, dict[str, str]]) -> None:
    emulated, prefix, anchors = hospital
    control = {"host": BROKER[0], "port": BROKER[1], "topic": f"{prefix}/control"}
    adapter = _adapter(f"{prefix}/+/ranges", anchors)
    with running(adapter) as collected:
        _first(collected, lambda r: r.tag_id == "B001")
        answer = send_command({"cmd": "strap", "tag": "B001", "state": "loose"}, **control)  # type: ignore[arg-type]
        assert answer is not None and answer["ok"] and answer["message"] == "B001: strap loose"
        _first(collected, lambda r: r.status is not None and bool(r.status.strap_loose))
        answer = send_command({"cmd": "carry", "tag": "B001", "to": "D-L2-STAIR-A", "speed_m_s": 3.0}, **control)  # type: ignore[arg-type]
        assert answer is not None and answer["ok"], answer
        refused = send_command({"cmd": "press", "tag": "Q7"}, **control)  # type: ignore[arg-type]
        assert refused is not None and not refused["ok"] and "'Q7' is not a band tag" in refused["message"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # room 201 to stair A: a few metres at 3 m/s
        where = next(p for p in emulated.scenario.positions(time.time()) if p.tag_id == "B001")
        if where.zone == "L2-STAIR-A":
            break
        time.sleep(0.2)
    assert where.zone == "L2-STAIR-A"


def test_run_emulators_listens_on_the_control_topic_until_stopped() -> None:
    emulated, _uwb, _anchors = _hospital(f"test-run-{uuid.uuid4().hex[:8]}")
    listen_for_control(emulated)
    (listener,) = emulated.emulators
    assert isinstance(listener, ControlListener) and listener.topic == "hospital_iot/emulator/control"
    emulated.stop()


@pytest.fixture
def band_tags(floor: Floor) -> None:
    for tag_id, kind in (("B001", "infant"), ("M001", "mother"), ("AC233F000001", "staff")):
        tag = Tag.objects.create(tag_id=tag_id, tech="uwb" if kind != "staff" else "ble")
        TrackedObject.objects.create(kind=kind, name=f"{kind} {tag_id}", tag=tag)
    Tag.objects.create(tag_id="B777", tech="uwb")


@pytest.mark.django_db
@pytest.mark.parametrize(("argv", "message"), [
    (["cut", "B404"], "no tag 'B404'"),
    (["press", "AC233F000001"], "AC233F000001 is worn by a staff: only infant and mother bands"),
    (["press", "B777"], "B777 is not worn by anyone"),
    (["battery", "B001"], "battery needs a value"),
    (["battery", "B001", "lots"], "'lots' is not a percentage"),
    (["battery", "B001", "120"], "120 % is not within 0..100"),
    (["shield", "B001", "maybe"], "want on or off"),
    (["press", "M001", "twice"], "press takes no value"),
    (["carry", "B001"], "carry needs --to"),
    (["carry", "B001", "--to", "D-L9-NOWHERE"], "no door or zone 'D-L9-NOWHERE'"),
])
def test_emulate_band_refuses_what_it_cannot_do_in_a_sentence(band_tags: None, argv: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("emulate_band", *argv, "--topic", f"test-nobody-{uuid.uuid4().hex[:8]}", "--wait", "0.2")


@pytest.mark.django_db
def test_emulate_band_says_when_no_emulator_answers(band_tags: None) -> None:
    with pytest.raises(CommandError, match=r"no answer from the emulators in 0\.3 s: is `manage\.py run_emulators`"):
        call_command("emulate_band", "cut", "b001", "--topic", f"test-nobody-{uuid.uuid4().hex[:8]}", "--wait", "0.3")


@pytest.mark.django_db
def test_emulate_band_drives_a_running_band_book(band_tags: None, capsys: pytest.CaptureFixture[str]) -> None:
    topic = f"test-cli-{uuid.uuid4().hex[:8]}/control"
    emulated, _uwb, _anchors = _hospital(topic)
    assert emulated.bands is not None
    listener = ControlListener(emulated, host=BROKER[0], port=BROKER[1], topic=topic)
    listener.start()
    try:
        call_command("emulate_band", "battery", "b001", "8%", "--topic", topic)
        call_command("emulate_band", "shield", "B001", "ON", "--topic", topic)
        with pytest.raises(CommandError, match="'M001' is not a band tag"):  # known here, not in the emulators
            call_command("emulate_band", "press", "M001", "--topic", topic)
    finally:
        listener.stop()
    assert capsys.readouterr().out.splitlines() == ["B001: battery at 8 %", "B001: shielded (silent)"]
    assert emulated.bands.shielded("B001") and listener.handled == 3
