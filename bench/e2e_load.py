"""Load for the end-to-end benchmark: thousands of BLE tags walking a hospital, heard by its gateways,
published to the real MQTT broker as Minew gateways do (one JSON array per gateway per publish).

Runs as its own process (`python -m bench.e2e_load PLAN.json`) so its CPU is not counted against the
system under test. No Django. Every tag advertises once per `period_s`, spread evenly over the period
(tags do not advertise in lock-step); each advertisement is heard by the `gateways_per_read` strongest
gateways of its floor above the sensitivity. Movement: walk at 0.5-1.2 m/s to a random point of the
floor's rooms and corridors, stay 5-120 s, go on. RSSI: log-distance path loss with log-normal
shadowing. Seeded.

PLAN.json: {"mqtt_host", "mqtt_port", "topic", "duration_s", "period_s", "tick_s", "seed",
            "gateways_per_read", "floors": [{"id", "gateways": [{"mac", "xyz_m": [x, y, z]}],
                                              "waypoints_m": [[x, y], ...]}],
            "tags": [{"mac", "floor"}]}
Prints one JSON line at the end: {"published_reads", "published_messages", "late_ticks", "duration_s", "cpu_s"}.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

TX_1M_DBM = -59.0
PATH_LOSS_EXPONENT = 2.2
SHADOWING_DB = 3.0
SENSITIVITY_DBM = -95.0
TAG_HEIGHT_M = 1.2


@dataclass
class FloorLoad:
    """The tags of one floor as arrays: where they are, where they go, when they leave."""

    gateway_mac: list[str]
    gateway_xyz_m: np.ndarray  # (g, 3)
    waypoints_m: np.ndarray  # (w, 2)
    tag_mac: list[str]
    slot: np.ndarray  # (n,) which tick of the period each tag advertises in
    xy_m: np.ndarray  # (n, 2)
    goal_m: np.ndarray  # (n, 2)
    speed_mps: np.ndarray  # (n,)
    wait_until_s: np.ndarray  # (n,)

    def move(self, dt_s: float, now_s: float, rng: np.random.Generator) -> None:
        step = self.goal_m - self.xy_m
        left_m = np.linalg.norm(step, axis=1)
        walking = now_s >= self.wait_until_s
        stride_m = np.minimum(self.speed_mps * dt_s, left_m)
        unit = np.divide(step, left_m[:, None], out=np.zeros_like(step), where=left_m[:, None] > 0)
        self.xy_m += np.where(walking[:, None], unit * stride_m[:, None], 0.0)
        arrived = walking & (left_m <= self.speed_mps * dt_s)
        if arrived.any():
            k = int(arrived.sum())
            self.goal_m[arrived] = self.waypoints_m[rng.integers(0, len(self.waypoints_m), k)]
            self.wait_until_s[arrived] = now_s + rng.uniform(5.0, 120.0, k)

    def heard(self, due: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tag index, gateway index, rssi) of the k strongest gateways hearing each due tag."""
        tags = np.nonzero(due)[0]
        xyz = np.column_stack([self.xy_m[tags], np.full(len(tags), TAG_HEIGHT_M)])
        d_m = np.linalg.norm(xyz[:, None, :] - self.gateway_xyz_m[None, :, :], axis=2)
        rssi = TX_1M_DBM - 10 * PATH_LOSS_EXPONENT * np.log10(np.maximum(d_m, 0.1))
        rssi += rng.normal(0.0, SHADOWING_DB, rssi.shape)
        k = min(k, rssi.shape[1])
        best = np.argpartition(-rssi, k - 1, axis=1)[:, :k]
        best_rssi = np.take_along_axis(rssi, best, axis=1)
        keep = best_rssi >= SENSITIVITY_DBM
        rows = np.repeat(tags, k).reshape(len(tags), k)
        return rows[keep], best[keep], best_rssi[keep]


def floors_from_plan(plan: dict[str, Any], rng: np.random.Generator, ticks_per_period: int) -> list[FloorLoad]:
    floors = []
    for floor in plan["floors"]:
        macs = [t["mac"] for t in plan["tags"] if t["floor"] == floor["id"]]
        waypoints = np.asarray(floor["waypoints_m"], dtype=float)
        n = len(macs)
        floors.append(FloorLoad(
            gateway_mac=[g["mac"] for g in floor["gateways"]],
            gateway_xyz_m=np.asarray([g["xyz_m"] for g in floor["gateways"]], dtype=float),
            waypoints_m=waypoints, tag_mac=macs,
            slot=np.arange(n) % ticks_per_period,
            xy_m=waypoints[rng.integers(0, len(waypoints), n)].copy(),
            goal_m=waypoints[rng.integers(0, len(waypoints), n)].copy(),
            speed_mps=rng.uniform(0.5, 1.2, n),
            wait_until_s=time.time() + rng.uniform(0.0, 60.0, n),
        ))
    return floors


def messages(floor: FloorLoad, rows: np.ndarray, gateways: np.ndarray, rssi: np.ndarray, now_s: float) -> list[bytes]:
    """One Minew JSON array per gateway that heard something."""
    stamp = datetime.fromtimestamp(now_s, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    out = []
    for g in np.unique(gateways):
        mine = gateways == g
        records = [{"timestamp": stamp, "type": "Gateway", "mac": floor.gateway_mac[g]}]
        records += [{"timestamp": stamp, "type": "Unknown", "mac": floor.tag_mac[t], "rssi": round(r)}
                    for t, r in zip(rows[mine].tolist(), rssi[mine].tolist(), strict=True)]
        out.append(json.dumps(records, separators=(",", ":")).encode())
    return out


def run(plan: dict[str, Any]) -> dict[str, Any]:
    rng = np.random.default_rng(plan["seed"])
    tick_s, period_s = plan["tick_s"], plan["period_s"]
    ticks_per_period = max(1, round(period_s / tick_s))
    floors = floors_from_plan(plan, rng, ticks_per_period)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hospital_iot-bench-load-{plan['seed']}")
    client.max_queued_messages_set(0)
    client.connect(plan["mqtt_host"], plan["mqtt_port"], keepalive=30)
    client.loop_start()
    published_reads = published_messages = late_ticks = 0
    start_s = time.time()
    tick = 0
    while (now_s := time.time()) < start_s + plan["duration_s"]:
        for floor in floors:
            floor.move(tick_s, now_s, rng)
            rows, gateways, rssi = floor.heard(floor.slot == tick % ticks_per_period, plan["gateways_per_read"], rng)
            for payload in messages(floor, rows, gateways, rssi, now_s):
                client.publish(plan["topic"], payload)
                published_messages += 1
            published_reads += len(rows)
        tick += 1
        sleep_s = start_s + tick * tick_s - time.time()
        if sleep_s > 0:
            time.sleep(sleep_s)
        else:
            late_ticks += 1
    time.sleep(0.5)  # let the network thread send what is queued
    client.loop_stop()
    client.disconnect()
    return {"published_reads": published_reads, "published_messages": published_messages,
            "late_ticks": late_ticks, "duration_s": round(time.time() - start_s, 3), "cpu_s": time.process_time()}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        result = run(json.load(f))
    sys.stdout.write(json.dumps(result) + "\n")
