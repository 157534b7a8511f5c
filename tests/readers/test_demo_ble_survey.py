"""The demo's BLE calibration is what a site survey of the emulated building finds, walls included.

A surveyor holds a tag at known points in every zone of every floor; the gateways that hear it report their
RSSI; a log-distance fit of those reads is what an installer types in. The emulated radio loses 4 dB per wall
on top of its free-space law (-59 dBm at 1 m, exponent 2.2), so the survey finds a steeper law. Calibrated with
the free-space law, the demo pushed every BLE fix out onto the window wall (the bag of bed 4W-412-A was shown
in room 411: tests/infusion/test_demo_bag_place.py)."""

from __future__ import annotations

from functools import cache

import numpy as np

from floorplans.demo.devices import BLE_CALIBRATION
from floorplans.demo.layout import demo_floors
from readers.emulators.floorgraph import FloorGraph
from readers.emulators.radio import BLE_PATH_LOSS_EXPONENT, TAG_HEIGHT_M, RadioWorld, receivers_of
from readers.emulators.scenario import TagPosition
from tracking.localization.models import PathLossModel, fit_path_loss

POINTS_PER_ZONE = 2
READS_PER_POINT = 5


@cache
def survey(seed: int) -> PathLossModel:
    """One log-distance law for all gateways, fitted to the reads of a survey of every zone of the demo."""
    documents = demo_floors()
    graphs = {doc["hospital_iot"]["floor"]["code"]: FloorGraph(doc) for doc in documents}
    gateways = [rx for doc in documents for rx in receivers_of(doc) if rx.kind == "ble_gateway"]
    index = {rx.code: k for k, rx in enumerate(gateways)}
    anchors_m = np.array([rx.xyz_m for rx in gateways])
    rng = np.random.default_rng(seed)
    points = [TagPosition(f"{floor}/{zone}/{i}", "ble", floor, *graph.random_point(zone, rng), zone)
              for floor, graph in graphs.items() for zone in sorted(graph.zones) for i in range(POINTS_PER_ZONE)]
    where = {p.tag_id: np.array([p.x_m, p.y_m, TAG_HEIGHT_M]) for p in points}
    world = RadioWorld(graphs, gateways, seed=seed)
    reads = [s for t_s in range(READS_PER_POINT) for s in world.ble(points, float(t_s))]
    receiver = np.array([index[s.gateway_code] for s in reads])
    distance_m = np.linalg.norm(anchors_m[receiver] - np.array([where[s.tag_mac] for s in reads]), axis=1)
    rssi_dbm = np.array([s.rssi_dbm for s in reads])
    # a very strong prior: every gateway keeps the global fit (the demo gives all of them one calibration)
    return fit_path_loss(distance_m=distance_m, rssi_dbm=rssi_dbm, receiver=receiver, anchors_m=anchors_m,
                         tag_height_m=TAG_HEIGHT_M, prior_reads=1e9)


def test_every_demo_gateway_carries_the_calibration_a_survey_of_the_emulated_building_finds() -> None:
    calibrations = [f["properties"]["calibration"] for doc in demo_floors() for f in doc["features"]
                    if f["properties"]["feature"] == "reader" and f["properties"]["kind"] == "ble_gateway"]
    assert len(calibrations) >= 80 and all(c == BLE_CALIBRATION for c in calibrations)
    for seed in (1, 2, 3):
        fit = survey(seed)
        assert abs(fit.rssi_1m_dbm - BLE_CALIBRATION["rssi_at_1m_dbm"]) < 1.0, fit.rssi_1m_dbm
        assert np.allclose(fit.exponent, BLE_CALIBRATION["path_loss_exponent"], atol=0.1), fit.exponent[0]


def test_the_survey_finds_the_walls_a_free_space_calibration_leaves_out() -> None:
    assert survey(1).exponent[0] > BLE_PATH_LOSS_EXPONENT + 0.4  # the emulated radio's law without its walls
