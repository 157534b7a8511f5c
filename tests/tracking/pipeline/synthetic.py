"""A synthetic floor for the engine tests (no database) and seeded reads of tags standing or walking on it.

    y 20 +-----------------------------------+
         |            corridor 103           |
      10 +-----------------+--------+--------+
         |   room A 101    | room B |        |
         |       [door 501 at x=10] 102      |
       0 +-----------------+--------+--------+
         0                 10      20       30
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from shapely.geometry import box

from readers.reads import TagRead, Tech
from tracking.localization.floormap import Door, FloorMap
from tracking.localization.models import PathLossModel, RangeModel
from tracking.pipeline.layout import INSIDE, OUTSIDE, AntennaSet, FloorLayout, Portal, ReceiverSet, RtlsConfig, TagInfo

FLOOR = 7
ROOM_A, ROOM_B, CORRIDOR = 101, 102, 103
DOOR = 501
T0_S = 1_790_000_000.0
TAG_HEIGHT_M = 1.2
GATEWAYS = np.array([[3.0, 3.0, 2.7], [8.0, 7.0, 2.7], [13.0, 3.0, 2.7], [18.0, 7.0, 2.7], [5.0, 15.0, 2.7],
                     [15.0, 15.0, 2.7], [25.0, 15.0, 2.7], [25.0, 5.0, 2.7]])
ANCHORS = np.array([[0.5, 0.5, 2.4], [19.5, 0.5, 2.4], [19.5, 9.5, 2.4], [0.5, 9.5, 2.4], [10.0, 19.5, 2.4]])
RSSI_1M_DBM, EXPONENT = -59.0, 2.0


def layout(*, floor_id: int = FLOOR, gateways: np.ndarray = GATEWAYS, prefix: str = "") -> FloorLayout:
    zones = [box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 10, 30, 20)]
    floor_map = FloorMap(outline=box(0, 0, 30, 20), zones=zones, doors=[Door(0, 1, (10.0, 5.0)),
                                                                        Door(0, 2, (5.0, 10.0))])
    k = len(gateways)
    ble = ReceiverSet(codes=tuple(f"{prefix}BLE-{i}" for i in range(k)), model=PathLossModel(
        anchors_m=gateways, rssi_1m_dbm=RSSI_1M_DBM, offset_db=np.zeros(k), exponent=np.full(k, EXPONENT),
        sigma=np.full(k, 3.0), tag_height_m=TAG_HEIGHT_M, window_sigma_db=1.0))
    uwb = ReceiverSet(codes=tuple(f"{prefix}UWB-{i}" for i in range(len(ANCHORS))), model=RangeModel(
        anchors_m=ANCHORS, bias_m=np.zeros(len(ANCHORS)), sigma=np.full(len(ANCHORS), 0.1),
        tag_height_m=TAG_HEIGHT_M))
    rfid = AntennaSet(keys=((f"{prefix}RF", 1), (f"{prefix}RF", 2), (f"{prefix}RF", 3)),
                      xy_m=np.array([[9.0, 5.0], [11.0, 5.0], [15.0, 15.0]]),
                      zone=np.array([0, 1, 2]), door=np.array([DOOR, DOOR, -1]), side=np.array([INSIDE, OUTSIDE, -1]))
    return FloorLayout(floor_id=floor_id, width_m=30.0, height_m=20.0, floor_map=floor_map,
                       zone_pk=np.array([ROOM_A, ROOM_B, CORRIDOR]), ble=ble, uwb=uwb, rfid=rfid,
                       portals=(Portal(DOOR, 0, 1),), fingerprint=f"synthetic-{floor_id}")


def config(*layouts: FloorLayout, tags: dict[str, str]) -> RtlsConfig:
    """tags: tag id -> tech; pks 1.. in order."""
    floors = {lay.floor_id: lay for lay in layouts} or {FLOOR: layout()}
    reader_floor = {}
    for lay in floors.values():
        codes = [*(lay.ble.codes if lay.ble else ()), *(lay.uwb.codes if lay.uwb else ()),
                 *(code for code, _ in lay.rfid.keys)]
        reader_floor.update({code: lay.floor_id for code in codes})
    directory = {tag: TagInfo(i + 1, tag, tech, 1000 + i, f"Thing {i}", "asset", "infusion_pump")
                 for i, (tag, tech) in enumerate(tags.items())}
    return RtlsConfig(floors=floors, reader_floor=reader_floor, tags=directory)


def at(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, UTC)


def ble_reads(tag: str, xy: tuple[float, float], t_s: float, rng: np.random.Generator, *,
              gateways: np.ndarray = GATEWAYS, prefix: str = "", shift_db: float = 0.0) -> list[TagRead]:
    """One advertisement heard by every gateway within 25 m (log-distance + 2 dB shadowing)."""
    d = np.linalg.norm(gateways - np.array([xy[0], xy[1], TAG_HEIGHT_M]), axis=1)
    rssi = RSSI_1M_DBM - 10 * EXPONENT * np.log10(d) + rng.normal(0, 2.0, len(d)) + shift_db
    return [TagRead(tag, f"{prefix}BLE-{k}", Tech.BLE, at(t_s + 0.001 * k), rssi_dbm=round(float(rssi[k]), 1))
            for k in range(len(d)) if d[k] < 25.0]


def uwb_reads(tag: str, xy: tuple[float, float], t_s: float, rng: np.random.Generator) -> list[TagRead]:
    d = np.linalg.norm(ANCHORS - np.array([xy[0], xy[1], TAG_HEIGHT_M]), axis=1) + rng.normal(0, 0.05, len(ANCHORS))
    return [TagRead(tag, f"UWB-{k}", Tech.UWB, at(t_s + 0.002 * k), range_m=round(float(d[k]), 3))
            for k in range(len(ANCHORS))]


def rfid_read(tag: str, port: int, t_s: float, rssi_dbm: float = -50.0) -> TagRead:
    return TagRead(tag, "RF", Tech.RFID, at(t_s), rssi_dbm=rssi_dbm, antenna=port)
