"""Emulated UWB hardware speaking the real formats: a DWM1001 module's `lec`/`les` lines over TCP (as
ser2net would serve its UART), and JSON ranges published to a real MQTT broker.

Both take a UwbSource (t_s -> ranges) from the movement scenario. The emulated lines carry no `POS` /
`est[…]` estimate (a module with its location engine off prints exactly that). The MQTT gateway also
carries band tags' status (`bands`, readers/emulators/band.py): a blink adds `"status"` when the band's
heartbeat or a change is due, and a shielded band is not heard at all.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from readers.emulators.band import BandBook
from readers.emulators.sightings import UwbRange, UwbSource

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 0.5  # a client that does not read for this long is dropped


def format_lec(ranges: list[UwbRange]) -> str:
    """`DIST,<n>,AN0,<id>,<x>,<y>,<z>,<range>,…` for one tag's ranges (no POS tail)."""
    blocks = [
        f"AN{i},{r.anchor_short_id},{r.anchor_xyz_m[0]:.2f},{r.anchor_xyz_m[1]:.2f},{r.anchor_xyz_m[2]:.2f},"
        f"{r.range_m:.2f}"
        for i, r in enumerate(ranges)
    ]
    return ",".join([f"DIST,{len(ranges)}", *blocks])


def format_les(ranges: list[UwbRange]) -> str:
    """`<id>[<x>,<y>,<z>]=<range> …` for one tag's ranges (no le_us / est)."""
    return " ".join(
        f"{r.anchor_short_id}[{r.anchor_xyz_m[0]:.2f},{r.anchor_xyz_m[1]:.2f},{r.anchor_xyz_m[2]:.2f}]={r.range_m:.2f}"
        for r in ranges
    )


def by_tag(ranges: list[UwbRange]) -> dict[str, list[UwbRange]]:
    grouped: dict[str, list[UwbRange]] = defaultdict(list)
    for r in ranges:
        grouped[r.tag_id].append(r)
    return dict(grouped)


class Dwm1001Emulator:
    """A TCP server writing one `lec` (or `les`) line per tag every `interval_s` to every client.

    A real module prints lines for itself only: give `tag_id` to emulate one module per tag; without it
    every tag of the source is written to the same stream (only meaningful with a one-tag source).
    """

    def __init__(
        self, source: UwbSource, *, host: str = "127.0.0.1", port: int = 0, interval_s: float = 0.1,
        mode: Literal["lec", "les"] = "lec", tag_id: str | None = None,
    ) -> None:
        self.source, self.host, self.port, self.interval_s = source, host, port, interval_s
        self._format = format_lec if mode == "lec" else format_les
        self.tag_id = tag_id
        self._clients: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None

    def start(self) -> int:
        """Listen and start writing; returns the bound port (the same one again after restart())."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name=f"dwm1001-emulator-{self.port}", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Close the listener and every client (they see the connection drop)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for sock in [*self._clients, *([self._listener] if self._listener else [])]:
            sock.close()
        self._clients, self._listener, self._thread = [], None, None

    def restart(self, down_s: float) -> int:
        """Go away for `down_s` seconds (clients dropped, connections refused), then come back. Blocks."""
        self.stop()
        time.sleep(down_s)
        return self.start()

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def lines(self, t_s: float) -> list[str]:
        grouped = by_tag(self.source(t_s))
        tags = [self.tag_id] if self.tag_id is not None else list(grouped)
        return [self._format(grouped[tag]) for tag in tags if grouped.get(tag)]

    def _serve(self) -> None:
        assert self._listener is not None
        next_tick = time.monotonic()
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._listener], [], [], max(0.0, min(next_tick - time.monotonic(), 0.1)))
            if ready:
                client, _addr = self._listener.accept()
                client.settimeout(SEND_TIMEOUT_S)
                self._clients.append(client)
            if time.monotonic() >= next_tick:
                self._broadcast()
                next_tick = max(next_tick + self.interval_s, time.monotonic())

    def _broadcast(self) -> None:
        try:
            lines = self.lines(time.time())
        except Exception:  # a broken scenario must not kill the emulated module
            logger.exception("dwm1001 emulator: source failed")
            return
        if not lines:
            return
        data = "".join(f"{line}\r\n" for line in lines).encode("ascii")
        for client in list(self._clients):
            try:
                client.sendall(data)
            except OSError:
                self._clients.remove(client)
                client.close()


class UwbMqttEmulator:
    """Publishes `{"tag", "ranges": [{"anchor", "range_m", "ts"}]}` per tag to `<topic_prefix>/<tag>/ranges`,
    with `"status": {"flags", "battery_mv", "seq"}` for a band tag whose status is due (`bands`)."""

    def __init__(
        self, source: UwbSource, *, host: str = "127.0.0.1", port: int = 1883, topic_prefix: str = "uwb",
        interval_s: float = 0.1, bands: BandBook | None = None,
    ) -> None:
        self.source, self.host, self.port, self.bands = source, host, port, bands
        self.topic_prefix, self.interval_s = topic_prefix, interval_s
        self.published = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"uwb-emulator-{id(self):x}")
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect (raises OSError if the broker is not there) and start publishing."""
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="uwb-mqtt-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._client.disconnect()
        self._client.loop_stop()

    def payloads(self, t_s: float) -> dict[str, bytes]:
        """Topic -> JSON payload for every tag the source sees at t_s. A band's status goes out when due
        (and counts as sent: call this once per publish)."""
        ts = datetime.fromtimestamp(t_s, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        bands = self.bands
        out: dict[str, bytes] = {}
        for tag, ranges in by_tag(self.source(t_s)).items():
            doc: dict[str, object] = {
                "tag": tag,
                "ranges": [{"anchor": r.anchor_short_id, "range_m": round(r.range_m, 3), "ts": ts} for r in ranges],
            }
            if bands is not None and tag in bands:
                if bands.shielded(tag):
                    continue
                if bands.due(tag, t_s):
                    frame = bands.take(tag, t_s)
                    doc["status"] = {"flags": frame.flags, "battery_mv": frame.battery_mv, "seq": frame.seq}
            out[f"{self.topic_prefix}/{tag}/ranges"] = json.dumps(doc).encode()
        return out

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                payloads = self.payloads(time.time())
            except Exception:  # a broken scenario must not kill the emulated gateway
                logger.exception("uwb mqtt emulator: source failed")
                continue
            for topic, payload in payloads.items():
                self._client.publish(topic, payload, qos=0)
                self.published += 1
