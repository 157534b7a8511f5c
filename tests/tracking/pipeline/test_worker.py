"""The worker loop without a database: what waits for the commit, what a failing floor costs, silence, backlogs.
The store and the bus are stood in for at their seams (a committer that commits when told, a bus that records
acknowledgements); the engines, windows and outputs are the real ones."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from readers.reads import TagRead, Tech
from tracking.pipeline.bus import Delivery, FloorChanges
from tracking.pipeline.commit import WindowWrite
from tracking.pipeline.config import ConfigSource
from tracking.pipeline.engine import EngineConfig
from tracking.pipeline.frames import frame_fixes
from tracking.pipeline.layout import FloorLayout
from tracking.pipeline.metrics import PipelineMetrics
from tracking.pipeline.windows import BLE, RFID, UWB
from tracking.pipeline.worker import PipelineWorker, WorkerSettings

from .synthetic import FLOOR, T0_S, at, ble_reads, config, layout, rfid_read


class HeldCommitter:
    """Commits only when told to, like a database that is slow or away."""

    def __init__(self) -> None:
        self.waiting: list[WindowWrite] = []
        self.committed: list[WindowWrite] = []
        self.buffered_fixes = self.waited_fixes_total = 0
        self.db_up = True

    def submit(self, write: WindowWrite) -> None:
        self.waiting.append(write)

    def commit(self) -> None:
        while self.waiting:
            write = self.waiting.pop(0)
            write.after()
            self.committed.append(write)

    def retry(self) -> None:
        pass

    def flush(self, timeout_s: float) -> bool:
        self.commit()
        return True


class RecordingBus:
    def __init__(self) -> None:
        self.queue: list[Delivery] = []
        self.acked: list[Delivery] = []

    def poll(self, timeout_s: float) -> list[Delivery]:
        out, self.queue = self.queue, []
        return out

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        self.acked += deliveries

    def maintain(self, floors: Iterable[int]) -> FloorChanges:
        return FloorChanges()

    def owned(self) -> set[int] | None:
        return None

    def still_owns(self, floor_id: int) -> bool:
        return True

    def release(self, floor_ids: Iterable[int]) -> None:
        pass

    def lag(self) -> tuple[int, float]:
        return 0, 0.0

    def close(self) -> None:
        pass


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, group: str, text: str) -> None:
        self.sent.append((group, json.loads(text)))


TAGS = {"ble-1": "ble", "ble-2": "ble", "rfid-1": "rfid"}


def make_worker(*layouts_: FloorLayout, engine: EngineConfig | None = None,
                ) -> tuple[PipelineWorker, RecordingBus, HeldCommitter, RecordingSender]:
    directory = config(*(layouts_ or [layout()]), tags=TAGS)
    bus, committer, sender = RecordingBus(), HeldCommitter(), RecordingSender()
    worker = PipelineWorker(bus=bus, source=ConfigSource(load=lambda: directory), committer=committer,
                            metrics=PipelineMetrics("test"), sender=sender,
                            settings=WorkerSettings(engine=engine or EngineConfig()))
    worker.housekeeping()
    sender.sent.clear()  # the first heartbeats
    return worker, bus, committer, sender


def test_it_acknowledges_and_announces_a_window_only_after_its_commit() -> None:
    worker, bus, committer, sender = make_worker()
    delivery = Delivery(ble_reads("ble-1", (4.0, 5.0), T0_S, np.random.default_rng(1)))
    worker.run_window([delivery])
    assert bus.acked == [] and sender.sent == [] and len(committer.waiting) == 1
    committer.commit()
    assert bus.acked == [delivery]
    assert [(group, message["type"], message["seq"]) for group, message in sender.sent] == [
        (f"floor.{FLOOR}", "positions", 1)]
    assert worker.metrics.snapshot()["fixes_total"] == 1


def test_a_failing_floor_costs_only_its_own_reads() -> None:
    other = layout(floor_id=8, prefix="F8-")
    worker, _, committer, _ = make_worker(layout(), other)

    def broken(reads: object) -> None:
        raise RuntimeError("engine bug")

    worker.engines[FLOOR].step = broken  # type: ignore[method-assign,assignment]
    rng = np.random.default_rng(2)
    reads = ble_reads("ble-1", (4.0, 5.0), T0_S, rng) + ble_reads("ble-2", (4.0, 5.0), T0_S, rng, prefix="F8-")
    worker.run_window([Delivery(reads)])
    committer.commit()
    (write,) = committer.committed
    assert write.fixes.floor_id.tolist() == [8]
    assert worker.stage_failures == {f"engine:{FLOOR}": 1}


def test_it_steps_through_a_backlog_in_read_time_order() -> None:
    worker, _, committer, sender = make_worker()
    backlog = [rfid_read("rfid-1", 1 + i % 2, T0_S + 0.5 * i) for i in range(6)]  # 3 s of reads at once
    worker.run_window([Delivery(list(reversed(backlog)))])
    committer.commit()
    (write,) = committer.committed
    assert write.zone_events.entered.tolist() == [True] + [False, True] * 5  # every read moved it
    assert len(write.crossings) == 5
    (frame,) = [m for _, m in sender.sent if m["type"] == "positions"]
    assert [f["seen_at"] for f in frame_fixes(frame)] == ["2026-09-21T14:13:22.500Z"]  # one fix per tag: the latest


def test_it_lets_a_silent_tag_leave_with_a_frame_and_a_zone_exit() -> None:
    worker, _, committer, sender = make_worker(engine=EngineConfig(silence_s={BLE: 0.5, UWB: 0.5, RFID: None}))
    worker.run_window([Delivery(ble_reads("ble-1", (4.0, 5.0), T0_S, np.random.default_rng(3)))])  # long ago
    committer.commit()
    worker.housekeeping()
    worker.run_window([])
    committer.commit()
    last = committer.committed[-1]
    assert last.zone_events.entered.tolist() == [False]
    positions = [m for _, m in sender.sent if m["type"] == "positions"]
    assert positions[-1]["left"] == ["ble-1"] and positions[-1]["fixes"] == []
    assert "ble-1" not in worker.tag_floor


@pytest.mark.parametrize("unknown", [
    rfid_read("stranger", 1, T0_S),  # unregistered tag
    TagRead("rfid-1", "NOWHERE", Tech.RFID, at(T0_S), rssi_dbm=-50.0, antenna=1),  # unknown reader
])
def test_it_acknowledges_reads_it_cannot_use_and_counts_them(unknown: TagRead) -> None:
    worker, bus, committer, _ = make_worker()
    worker.run_window([Delivery([unknown])])
    assert committer.waiting == [] or not committer.waiting[0]
    committer.commit()
    assert len(bus.acked) == 1 and sum(worker.metrics.snapshot()["drops"].values()) == 1


def test_it_takes_up_new_tags_and_changed_floors_on_reload_without_a_restart() -> None:
    layouts = [layout()]
    tags = dict(TAGS)
    bus, committer = RecordingBus(), HeldCommitter()
    worker = PipelineWorker(bus=bus, committer=committer, metrics=PipelineMetrics("test"),
                            source=ConfigSource(reload_s=0.0, load=lambda: config(*layouts, tags=tags)))
    worker.housekeeping()
    engine = worker.engines[FLOOR]
    worker.run_window([Delivery([rfid_read("newcomer", 1, T0_S)])])
    assert worker.metrics.snapshot()["drops"] == {"unregistered_tag": 1}
    tags["newcomer"] = "rfid"
    worker.housekeeping()
    assert worker.engines[FLOOR] is engine  # same layout: its state is kept
    worker.run_window([Delivery([rfid_read("newcomer", 1, T0_S + 1)])])
    committer.commit()
    assert committer.committed[-1].fixes.tag_pk.tolist() == [4]
    layouts[0] = replace(layouts[0], fingerprint="a gateway moved")
    worker.housekeeping()
    assert worker.engines[FLOOR] is not engine
