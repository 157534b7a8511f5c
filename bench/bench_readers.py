"""Reads per CPU-second for every adapter: its parser alone, and end to end through a real socket and broker.

Run: `make bench-readers` (or `.venv/bin/python -m bench.bench_readers`). The issue's goal: one adapter
process keeps up with 30 readers of ~1,000 reads/s (30,000 reads/s) on under half a core, i.e. at least
60,000 reads per CPU-second; `vs goal` is each path's reads/CPU-s over that (>= 1 meets it).

End-to-end rows run the adapter alone in its own process and measure that process's CPU (getrusage: every
thread, user + system) from the moment the senders start to its last batch; `core` is the fraction of one
core it used. The senders run in other processes. The BLE rows are driven at the goal rate through the real
Mosquitto: 30 emulated gateways, each on its own MQTT connection, split over publisher processes, each
gateway sending 1,000 reads/s (ESPresense: one message per read; Minew: one JSON array of 1,000 a second).
`lost` is reads the gateways sent that never reached the adapter (counted, not inferred); LLRP sends
without end, so its loss is not counted. Each end-to-end path runs 3 times: its row is the run with the
least CPU per read (other work on the machine only ever adds to it); every run is listed under the table.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from readers.adapters.base import ReaderSettings
from readers.adapters.ble_mqtt import BleMqttAdapter, gateway_table, parser_for
from readers.adapters.mqtt_wire import DISCONNECT_PACKET, Message, PacketReader, encode_connect, encode_publish
from readers.adapters.registry import load_adapters
from readers.adapters.rfid_llrp import parse_tag_report
from readers.adapters.uwb_dwm1001 import parse_lec_line
from readers.adapters.uwb_mqtt import parse_uwb_json
from readers.drops import DropCounter
from readers.emulators.ble_gateway import GatewaySpec, gateway_messages
from readers.emulators.llrp_reader import LlrpReaderEmulator
from readers.emulators.sightings import BleSighting, RfidSighting, UwbRange
from readers.emulators.uwb_anchor import UwbMqttEmulator, format_lec

E2E_SECONDS, E2E_RUNS, PUBLISHERS = 5, 3, 2
GOAL_READERS, GOAL_READS_PER_READER_S = 30, 1_000
GOAL_READS_S = GOAL_READERS * GOAL_READS_PER_READER_S
GOAL_READS_PER_CPU_S = 2 * GOAL_READS_S  # 30,000 reads/s on half a core
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SEED = 11


@dataclass
class Row:
    path: str
    reads: int
    wall_s: float
    cpu_s: float
    lost: int | None = None  # end to end: reads sent that the adapter never got
    end_to_end: bool = False

    @property
    def per_cpu(self) -> float:
        return self.reads / max(self.cpu_s, 1e-9)

    def line(self) -> str:
        per_cpu, wall_s = self.per_cpu, max(self.wall_s, 1e-9)
        core = f"{self.cpu_s / wall_s:.2f}" if self.end_to_end else "-"
        lost = "-" if self.lost is None else f"{self.lost:,}"
        return (f"{self.path:<46}{self.reads:>9,}{self.reads / wall_s:>10,.0f}{self.cpu_s:>7.2f}{per_cpu:>12,.0f}"
                f"{core:>6}{GOAL_READS_S / per_cpu:>9.2f}{per_cpu / GOAL_READS_PER_CPU_S:>8.2f}x{lost:>8}")


HEADER = (f"{'path':<46}{'reads':>9}{'reads/s':>10}{'CPU-s':>7}{'reads/CPU-s':>12}{'core':>6}{'core@30k':>9}"
          f"{'vs goal':>9}{'lost':>8}")


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


def _espresense_window_work() -> Callable[[], int]:
    """One second of the 30-gateway ESPresense fleet as the broker interleaves it, through what the adapter runs
    on it: PacketReader on 256 KiB reads, then parse_batch per window of 1,500 messages."""
    fleet = Fleet("ble_espresense", "bench")
    per_gateway = [fleet.packets(k) for k in range(GOAL_READERS)]
    stream = b"".join(packets[i] for i in range(GOAL_READS_PER_READER_S) for packets in per_gateway)
    adapter = load_adapters()["ble_espresense"](fleet.settings())
    assert isinstance(adapter, BleMqttAdapter)

    def work() -> int:
        wire, reads, window = PacketReader(), 0, list[Message]()
        for i in range(0, len(stream), 256 * 1024):
            window += wire.feed(stream[i:i + 256 * 1024]).messages
            if len(window) >= 1_500 or i + 256 * 1024 >= len(stream):
                reads += len(adapter.parse_batch(window, now=NOW))
                window = []
        return reads

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
    rows.append(_timed("BLE ble_espresense adapter path, no sockets", _espresense_window_work()))
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


# --- end to end: the adapter alone in its own process -------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A moment in the adapter's process: reads so far, wall clock, CPU time of the whole process."""

    reads: int
    wall_s: float
    cpu_s: float

    @classmethod
    def now(cls, reads: int) -> Sample:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(reads, time.perf_counter(), usage.ru_utime + usage.ru_stime)


def _run_adapter(settings: ReaderSettings, ready: Any, go: Any, expected_reads: int | None, max_s: float,
                 results: Any) -> None:
    """Run the adapter until it has `expected_reads` reads after `go` (or `max_s` passed); report the
    reads, wall and CPU time between `go` and its last batch, and its drops. `ready`: its first batch came."""
    adapter = load_adapters()[settings.protocol](settings)
    marks: dict[str, Sample] = {}
    done = threading.Event()

    def watch() -> None:
        go.wait()
        marks["go"] = marks["last"] = Sample.now(marks["seen"].reads if "seen" in marks else 0)
        if not done.wait(max_s):
            adapter.stop()

    threading.Thread(target=watch, daemon=True).start()
    reads = 0
    batches = adapter.batches()
    for batch in batches:
        if not reads:
            ready.set()
        reads += len(batch)
        marks["seen"] = marks["last"] = Sample.now(reads)
        if "go" in marks and expected_reads is not None and reads - marks["go"].reads >= expected_reads:
            break
    done.set()
    adapter.stop()
    for _ in batches:  # let it wind down
        pass
    first, last = marks["go"], marks["last"]
    results.put((last.reads - first.reads, last.wall_s - first.wall_s, last.cpu_s - first.cpu_s,
                 adapter.drops.counts()))


def _measure(path: str, settings: ReaderSettings, senders: list[Callable[[Any, Any, Any], Any]], *,
             expected_reads: int | None, max_s: float) -> tuple[Row, list[Any], dict[str, int]]:
    """Start the adapter's process and the senders' (each `sender(ready, go, results)` -> a Process);
    go once the adapter has its first batch. Returns its row, what the senders reported, its drops."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, results, sent = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
    adapter = ctx.Process(target=_run_adapter, args=(settings, ready, go, expected_reads, max_s, results))
    adapter.start()
    processes = [sender(ready, go, sent) for sender in senders]
    deadline = time.monotonic() + 60
    while not ready.wait(0.2):
        if time.monotonic() > deadline or not all(p.is_alive() for p in [adapter, *processes]):
            for process in [adapter, *processes]:
                process.terminate()
            raise RuntimeError(f"{path}: a process died, or the adapter got nothing in 60 s")
    time.sleep(0.5)  # the warm-up messages are all in before the clock starts
    go.set()
    reads, wall_s, cpu_s, drops = results.get(timeout=max_s + 60)
    reports = [sent.get(timeout=60) for process in processes if process.name.startswith("publisher")]
    for process in [adapter, *processes]:
        process.join(10)
        if process.is_alive():
            process.terminate()
    row = Row(path, reads, wall_s, cpu_s, end_to_end=True)
    if expected_reads is not None:
        row.lost = expected_reads - reads
    return row, reports, drops


def _run_llrp_reader(port_queue: Any, stop: Any, tags_per_report: int) -> None:
    sightings = [RfidSighting(f"3008{i:020X}", antenna=1 + i % 4, rssi_dbm=-60.0, phase_rad=1.0)
                 for i in range(tags_per_report)]
    reader = LlrpReaderEmulator(lambda t: sightings, report_interval_s=0.01)
    port_queue.put(reader.start())
    stop.wait(120)
    reader.stop()


def llrp_row(seconds: float) -> Row:
    ctx = multiprocessing.get_context("spawn")
    stop, ports = ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=_run_llrp_reader, args=(ports, stop, 300), daemon=True, name="llrp-reader")
    reader.start()
    port = ports.get(timeout=30)
    settings = ReaderSettings(code="bench", protocol="rfid_llrp", address=f"127.0.0.1:{port}",
                              options={"report_every_n_tags": 300, "report_timeout_ms": 10})
    row, _, _ = _measure("LLRP end to end: pyllrp reader -> TCP -> sllurp", settings, [], expected_reads=None,
                         max_s=seconds)
    stop.set()
    reader.join(10)
    return row


# --- BLE gateways at the goal rate through Mosquitto ----------------------------------------------------


@dataclass(frozen=True)
class Fleet:
    """GOAL_READERS emulated gateways of one format, on topics of this run's own (the broker is shared)."""

    protocol: str
    prefix: str

    def spec(self, k: int) -> GatewaySpec:
        if self.protocol == "ble_espresense":
            return GatewaySpec(f"GW-{k:02}", self.protocol, f"room-{k:02}", f"{self.prefix}/espresense/devices")
        mac = f"AC233FC0{k:04X}"
        return GatewaySpec(f"GW-{k:02}", self.protocol, mac, f"{self.prefix}/gw/{mac.lower()}")

    def probe(self) -> GatewaySpec:
        return self.spec(0xFFFF)

    def subscription(self) -> str:
        return f"{self.prefix}/espresense/devices/#" if self.protocol == "ble_espresense" else f"{self.prefix}/gw/#"

    def settings(self) -> ReaderSettings:
        gateways = {spec.gateway_id: spec.code for spec in map(self.spec, [*range(GOAL_READERS), 0xFFFF])}
        return ReaderSettings(code="bench", protocol=self.protocol, topic=self.subscription(),
                              options={"mqtt_host": "127.0.0.1", "mqtt_port": 1883, "gateways": gateways})

    def packets(self, k: int) -> list[bytes]:
        """What gateway k publishes in one second: 1,000 different tags (of 5,000), as MQTT PUBLISH packets."""
        rng = random.Random(SEED + k)
        spec = self.spec(k)
        tags = [f"AC233F{(k * 167 + i) % 5000:06X}" for i in range(GOAL_READS_PER_READER_S)]
        sightings = [BleSighting(spec.code, tag, float(-rng.randint(50, 95)), battery_pct=90) for tag in tags]
        return [encode_publish(topic, payload) for topic, payload in gateway_messages([spec], sightings, time.time())]


def _connect(client_id: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", 1883), timeout=10)
    sock.sendall(encode_connect(client_id, keepalive_s=60))
    connack = b""
    while len(connack) < 4:
        connack += sock.recv(4 - len(connack))
    if connack[3]:
        raise ConnectionError(f"broker refused {client_id}: {connack.hex()}")
    return sock


def _publish(fleet: Fleet, gateways: list[int], seconds: int, ready: Any, go: Any, sent: Any) -> None:
    """Publisher process: one MQTT connection per gateway; warm-up probes until the adapter is ready, then
    each gateway sends `seconds` worth of its packets, paced every ~5 ms, phases spread over the fleet."""
    packets = [fleet.packets(k) for k in gateways]
    socks = [_connect(f"bench-gw-{os.getpid()}-{k}") for k in gateways]
    probe_spec = fleet.probe()
    probe = encode_publish(*gateway_messages([probe_spec], [BleSighting(probe_spec.code, "AC233FFFFFFF", -60.0)],
                                             time.time())[0])
    while not ready.is_set():
        socks[0].sendall(probe)
        ready.wait(0.05)
    go.wait()
    totals = [len(p) * seconds for p in packets]
    done = [0] * len(socks)
    t0, cpu0 = time.perf_counter(), time.process_time()
    while done != totals:
        t_s = time.perf_counter() - t0
        for j, k in enumerate(gateways):
            rate = len(packets[j])  # packets per second
            due = min(totals[j], max(0, int(t_s * rate - k / GOAL_READERS) + 1))
            if due > done[j]:
                socks[j].sendall(b"".join(packets[j][i % rate] for i in range(done[j], due)))
                done[j] = due
        time.sleep(0.005)
    wall_s = time.perf_counter() - t0
    for sock in socks:
        sock.sendall(DISCONNECT_PACKET)
        sock.close()
    sent.put((sum(done), wall_s, time.process_time() - cpu0))


def ble_goal_row(protocol: str, *, seconds: int, publishers: int) -> tuple[Row, str]:
    """One run: the fleet sends GOAL_READS_S reads/s for `seconds`; the row, and what was sent and lost."""
    fleet = Fleet(protocol, f"bench-{os.getpid()}-{protocol}-{time.monotonic_ns()}")
    ctx = multiprocessing.get_context("spawn")

    def publisher(part: int) -> Callable[[Any, Any, Any], Any]:
        def start(ready: Any, go: Any, sent: Any) -> Any:
            gateways = list(range(part, GOAL_READERS, publishers))
            process = ctx.Process(target=_publish, args=(fleet, gateways, seconds, ready, go, sent), daemon=True,
                                  name=f"publisher-{part}")
            process.start()
            return process
        return start

    expected = GOAL_READS_S * seconds
    row, reports, drops = _measure(f"BLE {protocol} 30 gateways x 1,000 reads/s", fleet.settings(),
                                   [publisher(part) for part in range(publishers)], expected_reads=expected,
                                   max_s=seconds + 10)
    send_s = max(wall for _, wall, _ in reports)
    note = (f"sent {sum(n for n, _, _ in reports):,} messages at {expected / send_s:,.0f} reads/s "
            f"(publishers' CPU {sum(cpu for _, _, cpu in reports):.2f} s), got {row.reads:,} reads, lost {row.lost:,}, "
            f"{row.per_cpu:,.0f} reads/CPU-s, drops: {drops or 'none'}")
    return row, note


def end_to_end_rows(seconds: int = E2E_SECONDS, runs: int = E2E_RUNS,
                    publishers: int = PUBLISHERS) -> tuple[list[Row], list[str]]:
    """Each path `runs` times; its row is the run with the least CPU per read (other work on the machine only
    ever adds to it), and the notes list every run, losses included."""
    llrp = [llrp_row(seconds) for _ in range(runs)]
    rows = [min(llrp, key=lambda row: row.cpu_s / max(row.reads, 1))]
    notes = ["LLRP runs: " + ", ".join(f"{row.per_cpu:,.0f} reads/CPU-s" for row in llrp)]
    for protocol in ("ble_minew", "ble_espresense"):
        results = [ble_goal_row(protocol, seconds=seconds, publishers=publishers) for _ in range(runs)]
        rows.append(min((row for row, _ in results), key=lambda row: row.cpu_s / max(row.reads, 1)))
        notes.append(f"{protocol}: {GOAL_READERS} gateways, each its own MQTT connection, in {publishers} publisher "
                     f"processes; {GOAL_READS_S * seconds:,} reads a run:")
        notes += [f"  run {i + 1}: {note}" for i, (_, note) in enumerate(results)]
    return rows, notes


def main() -> None:
    print(__doc__.split("\n\n")[1].replace("\n", " "))
    print(HEADER)
    print("-" * len(HEADER))
    for row in parser_rows():
        print(row.line())
    rows, notes = end_to_end_rows()
    for row in rows:
        print(row.line())
    print()
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
