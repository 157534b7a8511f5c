"""Windows: reads become arrays once, split by floor and technology; what cannot be used is counted by reason."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from readers.reads import TagRead, Tech
from tracking.pipeline.windows import BLE, RFID, ReadArrays, collect_window, route

from .synthetic import FLOOR, T0_S, at, config, layout

CONFIG = config(layout(), tags={"ble-1": "ble", "uwb-1": "uwb", "rfid-1": "rfid"})


def test_it_turns_reads_into_columns_with_nan_and_minus_one_for_what_a_read_does_not_carry() -> None:
    reads = [TagRead("ble-1", "BLE-0", Tech.BLE, at(T0_S), rssi_dbm=-70.5),
             TagRead("uwb-1", "UWB-2", Tech.UWB, at(T0_S) + timedelta(milliseconds=5), range_m=4.25),
             TagRead("rfid-1", "RF", Tech.RFID, at(T0_S), rssi_dbm=-51.0, antenna=2)]
    arrays = ReadArrays.from_reads(reads)
    assert arrays.tag_id.tolist() == ["ble-1", "uwb-1", "rfid-1"]
    assert arrays.tech.tolist() == [BLE, 2, RFID]
    np.testing.assert_allclose(arrays.t_s, [T0_S, T0_S + 0.005, T0_S])
    assert math.isnan(arrays.range_m[0]) and arrays.range_m[1] == 4.25 and math.isnan(arrays.rssi_dbm[1])
    assert arrays.antenna.tolist() == [-1, -1, 2]


@pytest.mark.parametrize(("read", "reason"), [
    (TagRead("ble-1", "BLE-0", Tech.BLE, at(T0_S), rssi_dbm=-70.0), None),
    (TagRead("ble-1", "BLE-99", Tech.BLE, at(T0_S), rssi_dbm=-70.0), "unknown_reader"),
    (TagRead("stranger", "BLE-0", Tech.BLE, at(T0_S), rssi_dbm=-70.0), "unregistered_tag"),
    (TagRead("ble-1", "BLE-0", Tech.BLE, at(T0_S)), "missing_value"),  # no RSSI
    (TagRead("uwb-1", "UWB-0", Tech.UWB, at(T0_S), rssi_dbm=-80.0), "missing_value"),  # no range
    (TagRead("ble-1", "UWB-0", Tech.BLE, at(T0_S), rssi_dbm=-70.0), "unknown_receiver"),  # an anchor, not a gateway
    (TagRead("rfid-1", "RF", Tech.RFID, at(T0_S), rssi_dbm=-50.0, antenna=9), "unknown_receiver"),  # no such port
    (TagRead("rfid-1", "RF", Tech.RFID, at(T0_S), rssi_dbm=-50.0, antenna=3), None),
])
def test_it_routes_usable_reads_and_counts_the_others_by_reason(read: TagRead, reason: str | None) -> None:
    routed, drops = route(ReadArrays.from_reads([read]), CONFIG)
    assert dict(drops) == ({reason: 1} if reason else {})
    assert sum(len(r) for r in routed.values()) == (0 if reason else 1)


def test_it_gives_each_read_the_index_of_its_receiver_on_its_floor() -> None:
    reads = [TagRead("ble-1", f"BLE-{k}", Tech.BLE, at(T0_S), rssi_dbm=-60.0 - k) for k in (5, 0, 3)]
    reads.append(TagRead("rfid-1", "RF", Tech.RFID, at(T0_S), rssi_dbm=-55.0, antenna=3))
    routed, _ = route(ReadArrays.from_reads(reads), CONFIG)
    assert routed[FLOOR].ble.receiver.tolist() == [5, 0, 3]
    assert routed[FLOOR].ble.value.tolist() == [-65.0, -60.0, -63.0]
    assert routed[FLOOR].rfid.receiver.tolist() == [2]  # antenna index on the floor, not the port


def test_it_leaves_out_floors_the_worker_does_not_own() -> None:
    other = layout(floor_id=8, prefix="F8-")
    config_two = config(layout(), other, tags={"ble-1": "ble"})
    reads = [TagRead("ble-1", "BLE-0", Tech.BLE, at(T0_S), rssi_dbm=-60.0),
             TagRead("ble-1", "F8-BLE-0", Tech.BLE, at(T0_S), rssi_dbm=-60.0)]
    routed, drops = route(ReadArrays.from_reads(reads), config_two, floors={8: other})
    assert list(routed) == [8] and dict(drops) == {"other_floor": 1}


class FakeBus:
    """Arrivals at fixed times on a fake clock: poll(timeout) returns what arrived by now + timeout."""

    def __init__(self, arrivals: list[tuple[float, str]]) -> None:
        self.arrivals, self.now = arrivals, 0.0

    def clock(self) -> float:
        return self.now

    def poll(self, timeout_s: float) -> list[str]:
        due = [a for a in self.arrivals if a[0] <= self.now + timeout_s]
        if not due:
            self.now += timeout_s
            return []
        self.now = max(self.now, due[0][0])
        got = [a for a in self.arrivals if a[0] <= self.now]
        self.arrivals = self.arrivals[len(got):]
        return [item for _, item in got]


@pytest.mark.parametrize(("arrivals", "expected"), [
    ([], []),
    ([(0.05, "a"), (0.10, "b"), (0.14, "c"), (0.16, "d")], ["a", "b", "c"]),  # 100 ms after the first
    ([(0.30, "late")], []),  # nothing within the window: an empty window, not a long wait
])
def test_it_closes_a_window_100_ms_after_its_first_read(arrivals: list[tuple[float, str]], expected: list[str]) -> None:
    bus = FakeBus(arrivals)
    assert collect_window(bus.poll, window_s=0.1, max_size=1000, clock=bus.clock) == expected


def test_it_counts_a_window_from_when_its_first_read_was_queued_not_from_when_the_worker_got_to_it() -> None:
    # the worker was busy until 0.08 s: "a" (queued at 0.0) and "b" waited; the window ends at 0.1, not 0.18
    bus = FakeBus([(0.0, "a"), (0.05, "b"), (0.09, "c"), (0.15, "d")])
    bus.now = 0.08
    queued = {"a": 0.0, "b": 0.05, "c": 0.09, "d": 0.15}
    assert collect_window(bus.poll, window_s=0.1, max_size=1000, queued_at_s=queued.get, clock=bus.clock) == [
        "a", "b", "c"]


@pytest.mark.parametrize(("arrivals", "expected"), [
    ([(0.0, "a"), (0.01, "b"), (0.02, "c"), (0.06, "d")], ["a", "b", "c"]),  # 40 ms of quiet after c: closed
    ([(0.0, "a"), (0.015, "b"), (0.03, "c"), (0.045, "d"), (0.06, "e"), (0.075, "f"), (0.09, "g"), (0.105, "h")],
     ["a", "b", "c", "d", "e", "f", "g"]),  # a steady trickle: the whole 100 ms
])
def test_it_closes_a_window_when_nothing_more_comes(arrivals: list[tuple[float, str]], expected: list[str]) -> None:
    bus = FakeBus(arrivals)
    assert collect_window(bus.poll, window_s=0.1, max_size=1000, quiet_s=0.02, clock=bus.clock) == expected


def test_it_closes_a_window_early_when_it_is_full() -> None:
    bus = FakeBus([(0.0, "a"), (0.01, "b"), (0.02, "c")])
    assert collect_window(bus.poll, window_s=0.1, max_size=2, clock=bus.clock) == ["a", "b"]


def test_it_hands_the_engine_windows_whose_tag_coding_is_made_once_for_the_whole_window() -> None:
    tags = {f"ble-{i}": "ble" for i in (3, 1, 2)} | {"uwb-1": "uwb"}
    reads = [TagRead(tag, f"BLE-{k}", Tech.BLE, at(T0_S + 0.01 * k), rssi_dbm=-60.0 - k)
             for tag in ("ble-3", "ble-1", "ble-3", "ble-2") for k in (1, 0)]
    reads += [TagRead("uwb-1", "UWB-1", Tech.UWB, at(T0_S), range_m=3.0),
              TagRead("stranger", "BLE-0", Tech.BLE, at(T0_S), rssi_dbm=-70.0)]
    routed, _ = route(ReadArrays.from_reads(reads), config(layout(), tags=tags))
    for window in (routed[FLOOR].ble, routed[FLOOR].uwb, routed[FLOOR].rfid):
        distinct, index = window.tag_codes  # as sorting this window's own tag ids would give
        want_distinct, want_index = np.unique(window.tag_id, return_inverse=True)
        assert distinct.tolist() == want_distinct.tolist() and index.tolist() == want_index.tolist()
    assert routed[FLOOR].ble.tag_codes[0].tolist() == ["ble-1", "ble-2", "ble-3"]
