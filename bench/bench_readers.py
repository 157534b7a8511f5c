"""Reads parsed per CPU-second for every adapter, and end to end through a real socket and broker.

Run: `make bench-readers` (or `.venv/bin/python -m bench.bench_readers`). The issue's goal: one adapter
process keeps up with 30 readers of ~1,000 reads/s (30,000 reads/s) on under half a core, i.e. at least
60,000 reads per CPU-second; the last column is each path's figure over that goal (>= 1 meets it).
End-to-end rows run the sending side (emulator) in another process, so the CPU measured is the
receiving adapter's alone (all its threads: sllurp's or paho's network thread included).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from readers.adapters.base import ReaderAdapter, ReaderSettings
from readers.adapters.ble_mqtt import ble_adapter_for, gateway_table, parser_for
from readers.adapters.rfid_llrp import LlrpAdapter, parse_tag_report
from readers.adapters.uwb_dwm1001 import parse_lec_line
from readers.adapters.uwb_mqtt import parse_uwb_json
from readers.drops import DropCounter
from readers.emulators.ble_gateway import BleGatewayEmulator, GatewaySpec, gateway_messages
from readers.emulators.llrp_reader import LlrpReaderEmulator
from readers.emulators.sightings import BleSighting, RfidSighting, UwbRange
from readers.emulators.uwb_anchor import UwbMqttEmulator, format_lec

GOAL_READS_PER_CPU_S = 60_000  # 30,000 reads/s on half a core
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SEED = 11


@dataclass
class Row:
    path: str
    reads: int
    wall_s: float
    cpu_s: float

    def line(self) -> str:
        per_cpu = self.reads / max(self.cpu_s, 1e-9)
        core_at_30k = 30_000 / per_cpu
        return (f"{self.path:<44}{self.reads:>9,}{self.reads / self.wall_s:>12,.0f}{per_cpu:>14,.0f}"
                f"{core_at_30k:>10.2f}{per_cpu / GOAL_READS_PER_CPU_S:>9.2f}x")


def _timed(path: str, work: Callable[[], int], repeats: int = 3) -> Row:
    work()  # warm-up
    best: Row | None = None
    for _ in range(repeats):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        reads = work()
        row = Row(path, reads, time.perf_counter() - wall0, time.process_time() - cpu0)
        if best is None or row.cpu_s / max(row.reads, 1) < best.cpu_s / max(best.reads, 1):
            best = row
    assert best is not None
    return best


def _llrp_tags(n: int) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    t_us = int(NOW.timestamp() * 1e6)
    return [{"EPC-96": b"300833b2ddd90140%08x" % i, "AntennaID": rng.randint(1, 4), "PeakRSSI": -rng.randint(40, 80),
             "FirstSeenTimestampUTC": t_us, "LastSeenTimestampUTC": t_us, "TagSeenCount": 1,
             "ImpinjRFPhaseAngle": rng.randrange(4096), "ImpinjPeakRSSI": -rng.randint(4000, 8000)} for i in range(n)]


def _ble_sightings(n: int, gateways: list[GatewaySpec]) -> list[BleSighting]:
    rng = random.Random(SEED)
    return [BleSighting(gateways[i % len(gateways)].code, f"AC233F{i:06X}", float(-rng.randint(50, 95)),
                        battery_pct=90) for i in range(n)]


BLE_GATEWAYS = {
    "ble_espresense": GatewaySpec("GW-ESP", "ble_espresense", "room-101"),
    "ble_omg": GatewaySpec("GW-OMG", "ble_omg", "omg-101"),
    "ble_minew": GatewaySpec("GW-MINEW", "ble_minew", "AC233FC00101", "gw/minew"),
    "ble_ingics": GatewaySpec("GW-INGICS", "ble_ingics", "E7DAE08E6FC3", "gw/ingics"),
    "ble_aprilbrother": GatewaySpec("GW-AB", "ble_aprilbrother", "AC233FC00202", "gw/ab"),
    "ble_kontakt": GatewaySpec("GW-KONTAKT", "ble_kontakt", "12Bh000T", "kontakt/telemetry"),
}


def _ble_work(protocol: str, spec: GatewaySpec, messages: list[tuple[str, bytes]]) -> Callable[[], int]:
    parse, table = parser_for(protocol), gateway_table({spec.gateway_id: spec.code})

    def work() -> int:
        return sum(len(parse(payload, topic=topic, gateways=table, drops=DropCounter(), now=NOW))
                   for topic, payload in messages)

    return work


def parser_rows() -> list[Row]:
    rows = []
    tags = _llrp_tags(20_000)
    rows.append(_timed("LLRP tag reports (100 tags each)", lambda: sum(
        len(parse_tag_report(tags[i:i + 100], reader_id="R", drops=DropCounter(), now=NOW))
        for i in range(0, len(tags), 100))))
    for protocol, spec in BLE_GATEWAYS.items():
        messages = gateway_messages([spec], _ble_sightings(5_000, [spec]), NOW.timestamp())
        rows.append(_timed(f"BLE {protocol} ({len(messages)} messages)", _ble_work(protocol, spec, messages)))
    ranges = [UwbRange(f"A{k}", f"{0x1150 + k:04X}", (float(k), 0.0, 2.4), f"{t:04X}", 3.0 + k) for t in range(2_000)
              for k in range(4)]
    anchors = {f"{0x1150 + k:04X}": f"A{k}" for k in range(4)}
    lines = [format_lec(ranges[i:i + 4]) for i in range(0, len(ranges), 4)]
    rows.append(_timed("UWB DWM1001 lec lines (4 ranges)", lambda: sum(
        len(parse_lec_line(line, tag_id="1A2B", anchors=anchors, drops=DropCounter(), now=NOW)) for line in lines)))
    payloads = UwbMqttEmulator(lambda t: ranges, host="127.0.0.1").payloads(NOW.timestamp())
    rows.append(_timed("UWB JSON ranges over MQTT (per tag)", lambda: sum(
        len(parse_uwb_json(topic, body, anchors=anchors, reader_id="U", drops=DropCounter(), now=NOW))
        for topic, body in payloads.items())))
    return rows


def _run_llrp_reader(port_queue: Any, stop: Any, tags_per_report: int) -> None:
    sightings = [RfidSighting(f"3008{i:020X}", antenna=1 + i % 4, rssi_dbm=-60.0, phase_rad=1.0)
                 for i in range(tags_per_report)]
    reader = LlrpReaderEmulator(lambda t: sightings, report_interval_s=0.01)
    port_queue.put(reader.start())
    stop.wait(60)
    reader.stop()


def _run_ble_gateways(spec: GatewaySpec, stop: Any, per_publish: int) -> None:
    sightings = _ble_sightings(per_publish, [spec])
    emulator = BleGatewayEmulator([spec], lambda t: sightings, host="127.0.0.1", port=1883, interval_s=0.02)
    emulator.start()
    stop.wait(60)
    emulator.stop()


def _drain(adapter: ReaderAdapter, seconds: float) -> Row:
    """Count the adapter's reads for `seconds` after its first batch, with this process's CPU time."""
    batches = adapter.batches()
    next(batches)
    wall0, cpu0, reads = time.perf_counter(), time.process_time(), 0
    for batch in batches:
        reads += len(batch)
        if time.perf_counter() - wall0 >= seconds:
            break
    row = Row("", reads, time.perf_counter() - wall0, time.process_time() - cpu0)
    adapter.stop()
    for _ in batches:  # let it wind down
        pass
    return row


def _private_topic(spec: GatewaySpec) -> tuple[GatewaySpec, str]:
    """The gateway publishing under a topic of this run's own, and the adapter's subscription to it: the broker
    is shared, and other publishers on the vendor's default topic would cost the adapter CPU but add no reads."""
    prefix = f"bench-{os.getpid()}"
    if spec.protocol == "ble_espresense":
        return replace(spec, topic=f"{prefix}/espresense/devices"), f"{prefix}/espresense/devices/#"
    return replace(spec, topic=f"{prefix}/{spec.topic}"), f"{prefix}/{spec.topic}"


def end_to_end_rows(seconds: float = 4.0) -> list[Row]:
    ctx = multiprocessing.get_context("spawn")
    rows = []
    stop, ports = ctx.Event(), ctx.Queue()
    sender = ctx.Process(target=_run_llrp_reader, args=(ports, stop, 300), daemon=True)
    sender.start()
    port = ports.get(timeout=30)
    settings = ReaderSettings(code="bench", protocol="rfid_llrp", address=f"127.0.0.1:{port}",
                              options={"report_every_n_tags": 300, "report_timeout_ms": 10})
    row = _drain(LlrpAdapter(settings), seconds)
    row.path = "LLRP end to end: pyllrp reader -> TCP -> sllurp"
    rows.append(row)
    stop.set()
    sender.join(10)
    for protocol, per_publish in (("ble_minew", 500), ("ble_espresense", 40)):
        stop = ctx.Event()
        spec, topic = _private_topic(BLE_GATEWAYS[protocol])
        sender = ctx.Process(target=_run_ble_gateways, args=(spec, stop, per_publish), daemon=True)
        options = {"mqtt_host": "127.0.0.1", "mqtt_port": 1883, "gateways": {spec.gateway_id: spec.code}}
        adapter = ble_adapter_for(protocol)(ReaderSettings(code="bench", protocol=protocol, topic=topic,
                                                           options=options))
        sender.start()
        row = _drain(adapter, seconds)
        row.path = f"BLE {protocol} end to end through Mosquitto"
        rows.append(row)
        stop.set()
        sender.join(10)
    return rows


def main() -> None:
    print(__doc__.split("\n\n")[1].replace("\n", " "))
    header = (f"{'path':<44}{'reads':>9}{'reads/s':>12}{'reads/CPU-s':>14}{'core@30k':>10}{'vs goal':>10}")
    print(header)
    print("-" * len(header))
    for row in parser_rows() + end_to_end_rows():
        print(row.line())


if __name__ == "__main__":
    main()
