"""Frames keep to the websocket contract; metrics keep to the /metrics contract."""

from __future__ import annotations

import json

import numpy as np

from tracking.pipeline.engine import FloorFixes
from tracking.pipeline.frames import DESCRIBE_EVERY_S, heartbeat_text, iso_z, positions_text
from tracking.pipeline.layout import TagInfo
from tracking.pipeline.metrics import Histogram, PipelineMetrics

FIXES = FloorFixes(tag_id=np.array(["a", "ghost"]), x_m=np.array([1.234, 5.0]), y_m=np.array([2.0, 6.789]),
                   accuracy_m=np.array([0.456, 3.0]), method=np.array([2, 4]), stationary=np.array([True, False]),
                   zone_pk=np.array([12, -1]), seen_at_s=np.array([1_795_000_000.1234, 1_795_000_001.0]))
TAGS = {"a": TagInfo(1, "a", "ble", 10, "Pump 1", "asset", "infusion_pump")}


def test_it_writes_a_positions_message_as_the_contract_says() -> None:
    message = json.loads(positions_text(floor_id=3, seq=9, at_s=1_795_000_002.0, fixes=FIXES, left=["gone"], tags=TAGS))
    assert message == {
        "type": "positions", "floor": 3, "seq": 9, "at": "2026-11-18T11:06:42.000Z", "left": ["gone"],
        "fields": ["tag", "x_m", "y_m", "accuracy_m", "zone", "stationary", "age_ms"],
        "fixes": [["a", 1.23, 2.0, 0.46, 12, 1, 1877], ["ghost", 5.0, 6.79, 3.0, None, 0, 1000]],
        # only tags the directory knows are described; "ghost" is a tag id and nothing more
        "objects": {"a": {"object": 10, "name": "Pump 1", "kind": "asset", "category": "infusion_pump"}},
    }


def test_it_names_a_tag_in_a_floors_frames_once_per_describe_period() -> None:
    described: dict[str, float] = {}

    def objects(at_s: float) -> dict[str, object]:
        text = positions_text(floor_id=3, seq=1, at_s=at_s, fixes=FIXES, left=[], tags=TAGS, described=described)
        return dict(json.loads(text)["objects"])

    t0 = 1_795_000_002.0
    assert list(objects(t0)) == ["a"]
    assert objects(t0 + 1.0) == {}  # the browser has it from the frame before (or from its snapshot)
    assert objects(t0 + DESCRIBE_EVERY_S - 0.1) == {}
    assert list(objects(t0 + DESCRIBE_EVERY_S)) == ["a"]  # again, for whoever missed it


def test_it_writes_a_heartbeat() -> None:
    assert json.loads(heartbeat_text(floor_id=3, at_s=0.5, lag_s=0.12345)) == {
        "type": "heartbeat", "floor": 3, "at": "1970-01-01T00:00:00.500Z", "lag_s": 0.123}
    assert iso_z(1_795_000_000.9999) == "2026-11-18T11:06:40.999Z"


def test_it_counts_latencies_in_cumulative_buckets() -> None:
    one_by_one, at_once = Histogram(), Histogram()
    values = [0.001, 0.005, 0.02, 0.3, 7.0]
    for v in values:
        one_by_one.observe(v)
    at_once.observe_many(np.array(values))
    assert one_by_one.as_json() == at_once.as_json()
    assert at_once.as_json()["counts"] == [2, 2, 3, 3, 3, 3, 4, 4, 4, 5]  # <= le ..., then +Inf


def test_it_snapshots_every_field_the_metrics_endpoint_reads() -> None:
    snapshot = PipelineMetrics("w1").snapshot()
    assert set(snapshot) >= {"worker", "updated_at", "reads_total", "fixes_total", "windows_total", "frames_total",
                             "window_latency_s", "read_to_fix_latency_s", "lag_entries", "lag_s", "drops",
                             "buffered_fixes", "waited_fixes_total", "db_up", "floors"}
    assert snapshot["window_latency_s"]["le"] == [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
