"""Builders for the rule tests (no tests here): the demo's maternity floor (L2) imported through the real
importer, its door controllers, two mothers and two enrolled infants with UWB bands, and the pipeline's
events built directly. A fixed clock T0; every call passes its time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from alerts.models import Alert
from floorplans.demo.layout import demo_floors
from floorplans.models import Floor, Zone
from floorplans.services import floor_file_check, floor_import
from readers.reads import TagStatus
from security.models import DoorController, Infant, Mother, TagState
from security.services import infant_enrol, mother_register
from tracking.models import Tag
from tracking.pipeline.events import FixesLocated, TagStatusChanged

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
T0_S = T0.timestamp()
CORRIDOR_W = (20.0, 11.1)  # the middle of the west corridor: on the ward, far from every exit
NURSERY = (30.0, 7.0)


def l2_document() -> dict[str, Any]:
    return next(d for d in demo_floors() if d["hospital_iot"]["floor"]["code"] == "L2")


@dataclass
class Maternity:
    floor: Floor
    ward: Zone
    mary: Infant  # Mother Mary's baby
    jane: Infant  # Mother Jane's baby
    mother_mary: Mother
    mother_jane: Mother
    tags: dict[str, Tag]  # tag id -> Tag: B001 (baby Mary), B002 (baby Jane), A001, A002 (mothers)

    def pk(self, tag_id: str) -> int:
        return self.tags[tag_id].pk


def maternity_setup(*, topic_prefix: str, readers: bool = False) -> Maternity:
    """L2 (its readers and anchors only if `readers`: the rule tests need none) with a controller for every
    lockable door (topics under topic_prefix) and the lifts, and the two pairs enrolled through the real
    services."""
    doc = l2_document()
    if not readers:
        doc["features"] = [f for f in doc["features"] if f["properties"]["feature"] != "reader"]
    floor = floor_import(floor_file=floor_file_check(doc)).floor
    for code, is_exit in {(d.lock_controller, d.is_exit) for d in floor.doors.exclude(lock_controller="")}:
        DoorController.objects.create(code=code, name=code, floor=floor, topic=f"{topic_prefix}/{code}",
                                      kind=DoorController.Kind.MAGLOCK if is_exit else DoorController.Kind.ACCESS)
    DoorController.objects.create(code="lifts-2E", name="Lifts at 2 East", floor=floor,
                                  kind=DoorController.Kind.ELEVATOR, topic=f"{topic_prefix}/lifts-2E")
    ward = Zone.objects.get(floor=floor, kind=Zone.Kind.WARD)
    tags = {}
    for tag_id in ("B001", "B002", "A001", "A002"):
        tags[tag_id] = Tag.objects.create(tag_id=tag_id, tech=Tag.Tech.UWB)
        TagState.objects.create(tag=tags[tag_id], strap=TagState.Strap.CLOSED, strap_closed_at=T0, updated_at=T0)
    mother_mary = mother_register(tag_id="A001", name="Mary Mother", ward_id=ward.pk, user=None)
    mother_jane = mother_register(tag_id="A002", name="Jane Mother", ward_id=ward.pk, user=None)
    mary = infant_enrol(tag_id="B001", name="Baby Mary", ward_id=ward.pk, mother_id=mother_mary.pk, born_at=None,
                        user=None, at=T0)
    jane = infant_enrol(tag_id="B002", name="Baby Jane", ward_id=ward.pk, mother_id=mother_jane.pk, born_at=None,
                        user=None, at=T0)
    return Maternity(floor, ward, mary, jane, mother_mary, mother_jane, tags)


def fixes(floor_id: int, rows: list[tuple[Tag, float, float, float]], *, zone_pk: int = -1) -> FixesLocated:
    """A window's fixes from rows (tag, x_m, y_m, seconds after T0)."""
    n = len(rows)
    return FixesLocated(
        floor_id, np.array([t.pk for t, *_ in rows], np.int64), np.array([t.tag_id for t, *_ in rows]),
        np.array([r[1] for r in rows], np.float64), np.array([r[2] for r in rows], np.float64),
        np.full(n, 0.3), np.full(n, zone_pk, np.int64), np.array([T0_S + r[3] for r in rows], np.float64))


def status(tag: Tag, dt_s: float, previous: TagStatus | None = None, **fields: Any) -> TagStatusChanged:
    """The tag says `fields` (TagStatus fields) dt_s after T0; previous: what it said before."""
    return TagStatusChanged(tag.pk, tag.tag_id, TagStatus(**fields), previous,
                            datetime.fromtimestamp(T0_S + dt_s, UTC))


def open_alert(kind: str, infant: Infant) -> Alert | None:
    """The infant's open alert of this kind whose condition is still on."""
    return Alert.objects.filter(kind=kind, subject_id=str(infant.pk), state__in=Alert.OPEN_STATES,
                                condition_active=True).first()
