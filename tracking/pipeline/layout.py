"""What the pipeline knows about the hospital, as plain frozen data: no Django, no ORM objects.

`tracking.pipeline.config` builds it from the database; the engine and the window code only read it.
A floor's layout holds its receivers by technology (each with its measurement model), its RFID antennas
and portals, and its zones as a FloorMap (zone index -> Zone pk through `zone_pk`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tracking.localization._arrays import Float, Int
from tracking.localization.floormap import NO_ZONE, FloorMap
from tracking.localization.models import PathLossModel, RangeModel
from tracking.localization.rfid import INSIDE, NO_SIDE, OUTSIDE

__all__ = [
    "INSIDE",
    "NO_SIDE",
    "NO_ZONE",
    "OUTSIDE",
    "TECH_CODES",
    "AntennaSet",
    "FloorLayout",
    "Portal",
    "ReceiverSet",
    "RtlsConfig",
    "TagInfo",
]

TECH_CODES = {"rfid": 0, "ble": 1, "uwb": 2}  # reads carry their technology as a small int in arrays


@dataclass(frozen=True)
class ReceiverSet:
    """BLE gateways or UWB anchors of one floor: codes[k] is receiver k of `model`."""

    codes: tuple[str, ...]
    model: PathLossModel | RangeModel
    index: Mapping[str, int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.codes) != len(self.model.anchors_m):
            raise ValueError(f"{len(self.codes)} codes for {len(self.model.anchors_m)} anchors")
        object.__setattr__(self, "index", {code: k for k, code in enumerate(self.codes)})


@dataclass(frozen=True)
class AntennaSet:
    """RFID antennas of one floor: keys[a] = (reader code, port); xy_m (A, 2); zone (A,) zone index
    or NO_ZONE; door (A,) Door pk or -1; side (A,) INSIDE / OUTSIDE / NO_SIDE."""

    keys: tuple[tuple[str, int], ...]
    xy_m: Float
    zone: Int
    door: Int
    side: Int
    index: Mapping[tuple[str, int], int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.keys)
        for name in ("zone", "door", "side"):
            if np.shape(getattr(self, name)) != (n,):
                raise ValueError(f"{name}: expected ({n},), got {np.shape(getattr(self, name))}")
        object.__setattr__(self, "index", {key: a for a, key in enumerate(self.keys)})

    @classmethod
    def empty(cls) -> AntennaSet:
        return cls((), np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


@dataclass(frozen=True)
class Portal:
    """A door watched by an inside and an outside antenna (indices into the floor's AntennaSet)."""

    door_pk: int
    inside: int
    outside: int


@dataclass(frozen=True)
class FloorLayout:
    floor_id: int
    width_m: float
    height_m: float
    floor_map: FloorMap
    zone_pk: Int  # (z,) Zone pk of each FloorMap zone, smallest zone first (beds before rooms before wards)
    ble: ReceiverSet | None = None
    uwb: ReceiverSet | None = None
    rfid: AntennaSet = field(default_factory=AntennaSet.empty)
    portals: tuple[Portal, ...] = ()
    fingerprint: str = ""  # changes when anything the engine depends on changes

    def zone_index(self) -> dict[int, int]:
        """Zone pk -> FloorMap zone index."""
        return {int(pk): i for i, pk in enumerate(self.zone_pk.tolist())}


@dataclass(frozen=True)
class TagInfo:
    """A registered tag and what carries it (shown in every fix sent to browsers)."""

    pk: int
    tag_id: str
    tech: str
    object_pk: int | None = None
    name: str = ""
    kind: str = ""
    category: str = ""


@dataclass(frozen=True)
class RtlsConfig:
    floors: Mapping[int, FloorLayout]
    reader_floor: Mapping[str, int]  # Reader.code -> floor id
    tags: Mapping[str, TagInfo]  # Tag.tag_id -> what it is
    tag_pk: Mapping[str, int] = field(init=False, compare=False)  # Tag.tag_id -> Tag pk

    def __post_init__(self) -> None:
        object.__setattr__(self, "tag_pk", {tag: info.pk for tag, info in self.tags.items()})

    @classmethod
    def empty(cls) -> RtlsConfig:
        return cls(floors={}, reader_floor={}, tags={})


def fingerprint(*parts: object) -> str:
    """A short stable digest of the values a layout was built from."""
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]
