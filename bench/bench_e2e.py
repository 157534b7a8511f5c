"""End to end on this machine: BLE tags -> MQTT broker -> adapter -> engine -> PostGIS -> websockets.

Run: `make bench-e2e` (or `.venv/bin/python -m bench.bench_e2e [--tags 5000 --clients 200 --duration 600]`).
The issue's goal: 5,000 tags at 1 Hz (several gateways per read) for 10 minutes with 200 connected
browsers: no read lost, read-to-browser latency p50 <= 150 ms and p99 <= 400 ms.

Everything is real: a scratch database `<POSTGRES_DB>_e2e` (made afresh: migrated, the demo hospital
loaded, the bench's tags registered, every BLE gateway set to speak Minew JSON on one topic), the
Mosquitto broker, `manage.py run_rtls` (adapters + pipeline, one process), daphne, and Redis (its own
database number, so a running demo is not disturbed). The load and the browsers run in processes of
their own (bench/e2e_load.py, bench/e2e_clients.py); CPU is reported per process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.bench_storage import database_recreate

ROOT = Path(__file__).resolve().parent.parent
GOAL_P50_MS, GOAL_P99_MS = 150.0, 400.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tags", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--sampled", type=int, default=20, help="clients that decode every message for latency")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between a tag's advertisements")
    parser.add_argument("--gateways-per-read", type=int, default=4)
    parser.add_argument("--tick-ms", type=float, default=100.0,
                        help="each gateway publishes what it heard every tick (all gateways in step)")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--window-ms", type=float, default=None, help="run_rtls --window-ms (default: its own)")
    parser.add_argument("--quiet-ms", type=float, default=None, help="run_rtls --quiet-ms (default: its own)")
    parser.add_argument("--split", action="store_true",
                        help="readers and the pipeline in two processes over Redis Streams (run_rtls --role reader / "
                             "--role locate) instead of one")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(args: argparse.Namespace, topic: str) -> dict[str, Any]:
    """Migrate and fill the scratch database; returns what the load and the clients need."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    from bench.e2e_world import bench_world

    return bench_world(tags=args.tags, topic=topic, seed=args.seed)


class Processes:
    """The processes under test and the bench's own, stopped together."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.running[name] = process
        return process

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    with suppress(OSError), open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def machine_ticks() -> tuple[int, int]:
    """(all, stolen) CPU ticks of the machine since boot: stolen is time the hypervisor gave this virtual
    machine's CPUs to someone else. A run with much steal is a run on a busy host, not a slower system."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    return sum(fields), fields[7]


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[0] - before[0]
    return (after[1] - before[1]) / total if total else 0.0


def cpu_model() -> str:
    with suppress(OSError), open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return "unknown CPU"


def server_cpu_s(name: str) -> dict[int, float]:
    """CPU seconds of every process whose name starts with `name` (a server and its workers/backends)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                if (entry / "comm").read_text().strip().startswith(name):
                    found[int(entry.name)] = cpu_s(int(entry.name))
    return found


def histogram_quantile(histograms: list[dict[str, Any]], q: float) -> float:
    """Upper bucket bound holding the q-quantile of the summed histograms (Prometheus style), in s."""
    usable = [h for h in histograms if h.get("le") and h.get("counts")]
    if not usable:
        return float("nan")
    bounds = [*usable[0]["le"], float("inf")]
    counts = [sum(h["counts"][i] for h in usable) for i in range(len(bounds))]
    if not counts[-1]:
        return float("nan")
    return next(float(bound) for bound, n in zip(bounds, counts, strict=True) if n >= q * counts[-1])


def wait_for(what: str, ready: Any, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_e2e: {what} not ready after {timeout_s:.0f} s (see var/bench/e2e/*.log)")
        time.sleep(0.5)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def pipeline_metrics(redis_url: str) -> list[dict[str, Any]]:
    import redis

    client = redis.Redis.from_url(redis_url)
    return [json.loads(client.get(key) or b"{}") for key in client.scan_iter("hospital_iot:metrics:rtls:*")]


def table_stats() -> dict[str, float]:
    """Dead rows and size of the tables a run rewrites, read from the scratch database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_dead_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables "
                       "WHERE relname IN ('tracking_currentlocation', 'tracking_zonepresence')")
        rows = {name: (dead, size) for name, dead, size in cursor.fetchall()}
    current_dead, current_bytes = rows.get("tracking_currentlocation", (0, 0))
    return {"current_dead_rows": float(current_dead), "current_mb": current_bytes / 1e6,
            "presence_mb": rows.get("tracking_zonepresence", (0, 0))[1] / 1e6}


class MinuteLog:
    """What the system under test did minute by minute: CPU per process, window processing, table bloat.

    With the clients' latency by minute it shows whether a long run drifts (latency growing with the
    run) or scatters."""

    def __init__(self, mine: dict[str, subprocess.Popen[bytes]], servers: dict[str, str]) -> None:
        self.mine, self.servers = mine, servers
        self.rows: list[dict[str, float]] = []
        self._last = self._sample([])

    def _sample(self, metrics: list[dict[str, Any]]) -> dict[str, Any]:
        windows = [m.get("window_latency_s", {}) for m in metrics]
        return {"t": time.monotonic(), "own": {name: cpu_s(p.pid) for name, p in self.mine.items()},
                "servers": {name: server_cpu_s(comm) for name, comm in self.servers.items()},
                "window_sum_s": sum(w.get("sum", 0.0) for w in windows),
                "windows": sum(w.get("count", 0) for w in windows),
                "fixes": sum(m.get("fixes_total", 0) for m in metrics), "ticks": machine_ticks()}

    def tick(self, metrics: list[dict[str, Any]], *, final: bool = False) -> None:
        """Log a row once a minute has passed since the last (or, at the end, the part minute left over)."""
        if time.monotonic() - self._last["t"] < (5.0 if final else 60.0):
            return
        now, last = self._sample(metrics), self._last
        span_s = now["t"] - last["t"]
        row: dict[str, float] = {"minute": float(len(self.rows))}
        for name in self.mine:
            row[f"{name} cores"] = (now["own"][name] - last["own"][name]) / span_s
        for name in self.servers:
            row[f"{name} cores"] = sum(t - last["servers"][name].get(pid, 0.0)
                                       for pid, t in now["servers"][name].items()) / span_s
        windows = now["windows"] - last["windows"]
        row["window mean ms"] = 1000.0 * (now["window_sum_s"] - last["window_sum_s"]) / windows if windows else 0.0
        row["fixes/s"] = (now["fixes"] - last["fixes"]) / span_s
        row["steal"] = steal_share(last["ticks"], now["ticks"])
        row |= table_stats()
        self.rows.append(row)
        self._last = now


def main() -> None:
    args = parse_args()
    base_db = os.environ.get("POSTGRES_DB", "hospital_iot")
    db_name = f"{base_db}_e2e"
    redis_url = f"redis://{os.environ.get('REDIS_HOST', '127.0.0.1')}:6379/{args.redis_db}"
    topic = f"bench/e2e/{os.getpid()}/minew"
    run_dir = ROOT / "var" / "bench" / "e2e"
    run_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(POSTGRES_DB=db_name, REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="hospital_iot.settings")
    print(f"bench_e2e: preparing database {db_name} ({args.tags:,} tags) ...", flush=True)
    database_recreate(db_name)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    world = prepare(args, topic)
    port = free_port()
    env = dict(os.environ, HOSPITAL_IOT_LOG_LEVEL="WARNING")
    procs = Processes(env, run_dir)
    py = sys.executable
    load_plan = {"mqtt_host": os.environ.get("MQTT_HOST", "127.0.0.1"),
                 "mqtt_port": int(os.environ.get("MQTT_PORT", "1883")),
                 "topic": topic, "duration_s": args.duration, "period_s": args.period, "tick_s": args.tick_ms / 1000.0,
                 "seed": args.seed, "gateways_per_read": args.gateways_per_read, "floors": world["floors"],
                 "tags": world["tags"]}
    client_plan = {"url": f"ws://127.0.0.1:{port}", "origin": f"http://127.0.0.1:{port}", "cookie": world["cookie"],
                   "floors": [f["id"] for f in world["floors"]], "clients": args.clients, "sampled": args.sampled,
                   "duration_s": args.duration + 5.0, "warmup_s": 15.0}
    (run_dir / "load.json").write_text(json.dumps(load_plan))
    (run_dir / "clients.json").write_text(json.dumps(client_plan))
    try:
        daphne = procs.start("daphne", [py, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                        "hospital_iot.asgi:application"])
        window = [] if args.window_ms is None else ["--window-ms", str(args.window_ms)]
        window += [] if args.quiet_ms is None else ["--quiet-ms", str(args.quiet_ms)]
        if args.split:
            reader = procs.start("run_rtls_reader", [py, "manage.py", "run_rtls", "--role", "reader"])
            rtls = procs.start("run_rtls", [py, "manage.py", "run_rtls", "--role", "locate", "--name", "bench",
                                            *window])
        else:
            reader = rtls = procs.start("run_rtls", [py, "manage.py", "run_rtls", *window])
        wait_for("daphne", lambda: port_open(port))
        wait_for("run_rtls", lambda: bool(pipeline_metrics(redis_url)))
        clients = procs.start("clients", [py, "-m", "bench.e2e_clients", str(run_dir / "clients.json")])
        time.sleep(3.0)  # let the browsers connect and take their snapshots
        load = procs.start("load", [py, "-m", "bench.e2e_load", str(run_dir / "load.json")])
        servers = {"postgres": "postgres", "redis": "redis-server", "mosquitto": "mosquitto"}
        cpu0 = {name: server_cpu_s(comm) for name, comm in servers.items()}
        mine = {"run_rtls": rtls, "daphne": daphne} | ({"run_rtls reader": reader} if args.split else {})
        own0 = {name: cpu_s(p.pid) for name, p in mine.items()}
        ticks0 = machine_ticks()
        t0 = time.monotonic()
        lag_seen: list[float] = []
        minutes = MinuteLog(mine, {"postgres": "postgres"})
        with tqdm(total=int(args.duration), unit="s", desc="load", file=sys.stdout) as bar:
            while load.poll() is None:
                time.sleep(1.0)
                bar.n = min(int(time.monotonic() - t0), int(args.duration))
                metrics = pipeline_metrics(redis_url)
                lag = max((m.get("lag_s", 0.0) for m in metrics), default=0.0)
                lag_seen.append(lag)
                minutes.tick(metrics)
                bar.set_postfix(fixes=sum(m.get("fixes_total", 0) for m in metrics), lag_s=f"{lag:.2f}")
        wall_s = time.monotonic() - t0
        minutes.tick(pipeline_metrics(redis_url), final=True)
        steal = steal_share(ticks0, machine_ticks())
        cpu = {name: cpu_s(p.pid) - own0[name] for name, p in mine.items()}
        for name, comm in servers.items():  # backends started during the run count whole
            cpu[name] = sum(t - cpu0[name].get(pid, 0.0) for pid, t in server_cpu_s(comm).items())
        clients.wait(timeout=args.duration + 120)
        time.sleep(3.0)  # the last windows
        metrics = pipeline_metrics(redis_url)
    finally:
        procs.stop()
    load_result = json.loads((run_dir / "load.log").read_text().strip().splitlines()[-1])
    client_result = json.loads((run_dir / "clients.log").read_text().strip().splitlines()[-1])
    cpu["load (bench)"] = load_result["cpu_s"]
    cpu["browsers (bench)"] = client_result["cpu_s"]
    report(args, wall_s, cpu, load_result, client_result, metrics, lag_seen, world)
    print(f"machine: {os.cpu_count()} x {cpu_model()}; CPU time stolen by the host during the load: {steal:.1%}")
    report_minutes(minutes.rows, client_result.get("latency_by_minute_ms", []))
    (run_dir / "minutes.json").write_text(json.dumps({"system": minutes.rows,
                                                      "latency": client_result.get("latency_by_minute_ms", [])}))


def report(args: argparse.Namespace, wall_s: float, cpu: dict[str, float], load: dict[str, Any],
           clients: dict[str, Any], metrics: list[dict[str, Any]], lag_seen: list[float],
           world: dict[str, Any]) -> None:
    reads_in = sum(m.get("reads_total", 0) for m in metrics)
    drops: dict[str, int] = {}
    for m in metrics:
        for reason, n in m.get("drops", {}).items():
            drops[reason] = drops.get(reason, 0) + n
    fixes = sum(m.get("fixes_total", 0) for m in metrics)
    latency, delivery = clients["latency_ms"], clients.get("delivery_ms", {})
    lost = load["published_reads"] - reads_in
    p50, p99 = latency.get("p50", float("nan")), latency.get("p99", float("nan"))
    print()
    print(f"{args.tags:,} tags every {args.period:g} s, {args.gateways_per_read} gateways per read at most, "
          f"{args.clients} browsers on {len(world['floors'])} floors, {wall_s:.0f} s")
    print(f"{'measure':<44}{'value':>16}{'goal (measured/goal)':>24}")
    print("-" * 84)
    rows = [
        ("reads published (MQTT)", f"{load['published_reads']:,}", ""),
        ("reads received by the pipeline", f"{reads_in:,}", ""),
        ("reads lost", f"{lost:,}", "0"),
        ("reads dropped with a reason", ", ".join(f"{k}={v}" for k, v in drops.items()) or "0", ""),
        ("reads/s", f"{reads_in / wall_s:,.0f}", ""),
        ("fixes/s (sustained)", f"{fixes / wall_s:,.0f}", ""),
        ("browsers connected / failed", f"{clients['connected']} / {clients['failed']}", f"{args.clients} / 0"),
        ("messages to browsers", f"{clients['messages']:,}", ""),
        ("MB to browsers", f"{clients['bytes'] / 1e6:,.1f}", ""),
        ("frames missed (seq gaps, sampled)", f"{clients['seq_gaps']:,}", "0"),
        ("read-to-browser latency p50 ms", f"{p50:,.0f}", f"<= {GOAL_P50_MS:.0f} ({p50 / GOAL_P50_MS:.2f}x)"),
        ("read-to-browser latency p90 ms", f"{latency.get('p90', float('nan')):,.0f}", ""),
        ("read-to-browser latency p99 ms", f"{p99:,.0f}", f"<= {GOAL_P99_MS:.0f} ({p99 / GOAL_P99_MS:.2f}x)"),
        ("read-to-browser latency max ms", f"{latency.get('max', float('nan')):,.0f}", ""),
        ("latency samples (fixes)", f"{latency.get('n', 0):,}", ""),
        ("  of which window output -> browser p50 ms", f"{delivery.get('p50', float('nan')):,.0f}", ""),
        ("  of which window output -> browser p99 ms", f"{delivery.get('p99', float('nan')):,.0f}", ""),
        ("  of which read -> fix stored, p50 ms (<=)",
         f"{histogram_quantile([m.get('read_to_fix_latency_s', {}) for m in metrics], 0.5) * 1000:,.0f}", ""),
        ("  of which read -> fix stored, p99 ms (<=)",
         f"{histogram_quantile([m.get('read_to_fix_latency_s', {}) for m in metrics], 0.99) * 1000:,.0f}", ""),
        ("pipeline window processing p50 ms (<=)",
         f"{histogram_quantile([m.get('window_latency_s', {}) for m in metrics], 0.5) * 1000:,.0f}", ""),
        ("pipeline window processing p99 ms (<=)",
         f"{histogram_quantile([m.get('window_latency_s', {}) for m in metrics], 0.99) * 1000:,.0f}", ""),
        ("pipeline lag max s", f"{max(lag_seen, default=0.0):.2f}", ""),
        ("load ticks late", f"{load['late_ticks']:,}", ""),
    ]
    rows += [(f"CPU {name} (cores)", f"{seconds / wall_s:.2f}", "") for name, seconds in cpu.items()]
    for name, value, goal in rows:
        print(f"{name:<44}{value:>16}{goal:>24}")
    met = lost == 0 and latency.get("p50", 1e9) <= GOAL_P50_MS and latency.get("p99", 1e9) <= GOAL_P99_MS
    print("-" * 84)
    print(f"goal {'met' if met else 'NOT met'}: no read lost, p50 <= {GOAL_P50_MS:.0f} ms, p99 <= {GOAL_P99_MS:.0f} ms")
    print("logs: var/bench/e2e/")


def report_minutes(system: list[dict[str, float]], latency: list[dict[str, float]]) -> None:
    """One line a minute: the browsers' latency beside what the servers did in that minute."""
    by_minute = {int(row["minute"]): row for row in latency}
    print()
    print("minute by minute (latency: the browsers' minutes after the warm-up; the rest: the bench's minutes)")
    header = ["min", "p50 ms", "p99 ms", "fixes/s", "window ms", "run_rtls", "daphne", "postgres", "steal",
              "current dead", "current MB"]
    print("".join(f"{h:>13}" for h in header))
    for row in system:
        minute = int(row["minute"])
        lat = by_minute.get(minute, {})
        cells = [f"{minute}", f"{lat.get('p50', float('nan')):.0f}", f"{lat.get('p99', float('nan')):.0f}",
                 f"{row['fixes/s']:,.0f}", f"{row['window mean ms']:.1f}", f"{row['run_rtls cores']:.2f}",
                 f"{row['daphne cores']:.2f}", f"{row['postgres cores']:.2f}", f"{row['steal']:.1%}",
                 f"{row['current_dead_rows']:,.0f}",
                 f"{row['current_mb']:.1f}"]
        print("".join(f"{c:>13}" for c in cells))


if __name__ == "__main__":
    main()
