"""The demo's emulated hardware, built from floor documents and tags: one movement scenario, one radio
model, and the emulators that speak each reader's real protocol. Infants and mothers wear band tags that
tell their status (readers/emulators/band.py). No Django (the command feeds it)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from readers.emulators.band import BandBook
from readers.emulators.ble_gateway import BleGatewayEmulator, GatewaySpec
from readers.emulators.control import Place, places_of
from readers.emulators.floorgraph import FloorGraph
from readers.emulators.handheld import HandheldRound
from readers.emulators.llrp_reader import LlrpReaderEmulator
from readers.emulators.radio import RadioWorld, receivers_of
from readers.emulators.scenario import Scenario, ScenarioTag
from readers.emulators.sightings import RfidSighting, RfidSource
from readers.emulators.uwb_anchor import UwbMqttEmulator

logger = logging.getLogger(__name__)

# ESPresense and OpenMQTTGateway gateways publish under their vendor's default prefix
_DEFAULT_TOPIC_PROTOCOLS = frozenset({"ble_espresense", "ble_omg"})
BAND_KINDS = frozenset({"infant", "mother"})  # who wears a band tag (strap, button, battery status)


class Emulator(Protocol):
    def stop(self) -> None: ...


@dataclass
class EmulatedHospital:
    scenario: Scenario
    radio: RadioWorld
    emulators: list[Emulator] = field(default_factory=list)
    bands: BandBook | None = None
    places: dict[str, Place] = field(default_factory=dict)  # where `carry` can take a tag (control.py)

    def stop(self) -> None:
        for emulator in self.emulators:
            try:
                emulator.stop()
            except OSError:
                logger.exception("emulator %r did not stop cleanly", emulator)


def build_world(documents: list[dict[str, Any]], tags: list[ScenarioTag], *, seed: int) -> tuple[Scenario, RadioWorld]:
    graphs = {doc["hospital_iot"]["floor"]["code"]: FloorGraph(doc) for doc in documents}
    receivers = [rx for doc in documents for rx in receivers_of(doc)]
    return Scenario(graphs, tags, seed=seed, start_s=time.time()), RadioWorld(graphs, receivers, seed=seed)


def gateway_specs(documents: list[dict[str, Any]]) -> list[GatewaySpec]:
    """Every enabled BLE gateway of the floors, as its emulator publishes: in its format, named by the identifier
    its payloads carry (hardware_id), on its topic (ESPresense and OpenMQTTGateway: their vendor's default)."""
    return [GatewaySpec(p["code"], p["protocol"], p.get("hardware_id") or p["code"],
                        "" if p["protocol"] in _DEFAULT_TOPIC_PROTOCOLS else p.get("topic", ""))
            for doc in documents for p in (f["properties"] for f in doc["features"])
            if p["feature"] == "reader" and p["kind"] == "ble_gateway" and p.get("enabled", True)]


def start_emulators(
    documents: list[dict[str, Any]], tags: list[ScenarioTag], *, seed: int, mqtt_host: str, mqtt_port: int,
    handhelds: frozenset[str] = frozenset(),
) -> EmulatedHospital:
    """Start an LLRP reader emulator per RFID reader (on its own address), one BLE gateway emulator for
    every gateway, and one UWB gateway emulator; all driven by one scenario, with one band book for the
    band tags (infants and mothers). An LLRP reader named in `handhelds` (a mobile reader) is carried round
    its floor's equipment places instead (HandheldRound)."""
    scenario, radio = build_world(documents, tags, seed=seed)
    bands = BandBook([t.tag_id for t in tags if t.kind in BAND_KINDS], seed=seed)
    hospital = EmulatedHospital(scenario, radio, bands=bands, places=places_of(documents, scenario.graphs))
    readers = [f["properties"] for doc in documents for f in doc["features"] if f["properties"]["feature"] == "reader"
               and f["properties"].get("enabled", True)]
    floor_of = {f["properties"]["code"]: doc["hospital_iot"]["floor"]["code"] for doc in documents
                for f in doc["features"] if f["properties"]["feature"] == "reader"}
    for props in (p for p in readers if p["kind"] == "llrp_reader" and p.get("address")):
        host, _, port = props["address"].rpartition(":")
        ports = [a["port"] for a in props.get("antennas", [])] or [1]

        def rfid(t_s: float, code: str = props["code"]) -> list[RfidSighting]:
            return radio.rfid(code, scenario.positions(t_s), t_s)

        source: RfidSource = rfid
        if props["code"] in handhelds:
            floor_code = floor_of[props["code"]]
            source = HandheldRound(scenario.graphs[floor_code], floor_code, scenario.positions, seed=seed)
        emulator = LlrpReaderEmulator(source, host=host or "127.0.0.1", port=int(port), antennas=max(ports))
        emulator.start()
        hospital.emulators.append(emulator)
    gateways = gateway_specs(documents)
    if gateways:
        ble = BleGatewayEmulator(gateways, lambda t_s: radio.ble(scenario.positions(t_s), t_s),
                                 host=mqtt_host, port=mqtt_port, interval_s=1.0, bands=bands)
        ble.start()
        hospital.emulators.append(ble)
    if any(p["kind"] == "uwb_anchor" for p in readers):
        uwb = UwbMqttEmulator(lambda t_s: radio.uwb(scenario.positions(t_s), t_s), host=mqtt_host, port=mqtt_port,
                              topic_prefix="uwb", interval_s=0.2, bands=bands)
        uwb.start()
        hospital.emulators.append(uwb)
    return hospital
