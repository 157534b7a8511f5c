"""Domain events of the location pipeline, and the registry workflow apps subscribe through.

    # infusion/apps.py
    def ready(self) -> None:
        from tracking.pipeline.events import ZoneEntered, subscribe
        subscribe(ZoneEntered, bag_zone_entered)

Events are published after the window that produced them committed (a rolled-back or buffered write
is not announced until it is in the database). Handlers run in the pipeline's writing thread, in subscription
order; one that raises is logged and counted, and the others still run. Handlers must be quick (queue
slow work); they see every event of the worker's floors. No Django import.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import numpy as np

from readers.reads import TagStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ZoneEntered:
    tag_pk: int
    tag_id: str
    floor_id: int
    zone_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ZoneExited:
    tag_pk: int
    tag_id: str
    floor_id: int
    zone_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class PortalCrossed:
    """direction as PortalCrossing stores it: "in" = from the door's from_zone to its to_zone."""

    tag_pk: int
    tag_id: str
    floor_id: int
    door_id: int
    direction: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TagSilent:
    """No read of the tag for the silence period of its technology; `since` = its last sighting."""

    tag_pk: int
    tag_id: str
    floor_id: int
    since: datetime


@dataclass(frozen=True, slots=True)
class TagStatusChanged:
    """The tag reported a different tamper / button / low-battery / loose-strap state than before (or, the
    first time this worker hears it, an alarm or any strap state: a band tag's "strap closed" is news)."""

    tag_pk: int
    tag_id: str
    status: TagStatus
    previous: TagStatus | None
    at: datetime


@dataclass(frozen=True, slots=True, eq=False)
class FixesLocated:
    """Every fix of one floor in one window, as arrays (row i is one tag). Published only while someone
    subscribes (`wanted`): a workflow that must react to a position at once, not after a zone's dwell
    (infant exits), filters the rows of its own tags, e.g. `np.isin(event.tag_pk, watched)`.
    zone_pk -1: in no zone; seen_at_s: unix time of the estimate."""

    floor_id: int
    tag_pk: np.ndarray
    tag_id: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    accuracy_m: np.ndarray
    zone_pk: np.ndarray
    seen_at_s: np.ndarray

    def __len__(self) -> int:
        return len(self.tag_pk)


DomainEvent = ZoneEntered | ZoneExited | PortalCrossed | TagSilent | TagStatusChanged | FixesLocated
E = TypeVar("E", ZoneEntered, ZoneExited, PortalCrossed, TagSilent, TagStatusChanged, FixesLocated)
Handler = Callable[[Any], None]

_handlers: dict[type, list[Handler]] = {}
_failures: Counter[str] = Counter()
_lock = threading.Lock()


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Call handler(event) for every event of event_type (after commit). Subscribing twice is a no-op."""
    with _lock:
        handlers = _handlers.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)


def wanted(event_type: type) -> bool:
    """Whether any handler subscribes to event_type (so a costly event is built only when heard)."""
    with _lock:
        return bool(_handlers.get(event_type))


def unsubscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    with _lock:
        if handler in _handlers.get(event_type, []):
            _handlers[event_type].remove(handler)


def publish(events: Iterable[DomainEvent]) -> int:
    """Run the subscribed handlers on each event; returns how many handler calls failed."""
    failed = 0
    for event in events:
        with _lock:
            handlers = list(_handlers.get(type(event), ()))
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # one workflow's bug must not stop the others or the pipeline
                failed += 1
                name = getattr(handler, "__qualname__", repr(handler))
                with _lock:
                    _failures[name] += 1
                logger.exception("event handler %s failed on %s", name, type(event).__name__)
    return failed


def handler_failures() -> dict[str, int]:
    with _lock:
        return dict(_failures)


LOW_BATTERY_PCT = 20


class StatusWatch:
    """Turns the status a tag reports with its reads into TagStatusChanged events (per worker). A field
    a read does not carry (None) keeps its previous value: only what the tag says can change."""

    def __init__(self) -> None:
        self.last: dict[str, TagStatus] = {}

    def update(self, tag_id: str, tag_pk: int, status: TagStatus, at: datetime) -> TagStatusChanged | None:
        previous = self.last.get(tag_id)
        merged = status if previous is None else TagStatus(
            battery_pct=_pick(status.battery_pct, previous.battery_pct), tamper=_pick(status.tamper, previous.tamper),
            button=_pick(status.button, previous.button), moving=_pick(status.moving, previous.moving),
            strap_loose=_pick(status.strap_loose, previous.strap_loose),
            battery_mv=_pick(status.battery_mv, previous.battery_mv))
        self.last[tag_id] = merged
        if previous is None:
            # an alarm, or a band tag's first word on its strap (closed: the prompt to enrol the wearer)
            said = bool(merged.tamper) or bool(merged.button) or _low(merged) or merged.tamper is not None
            return TagStatusChanged(tag_pk, tag_id, merged, None, at) if said else None
        if _flags(merged) == _flags(previous):
            return None
        return TagStatusChanged(tag_pk, tag_id, merged, previous, at)


def _pick(value: Any, previous: Any) -> Any:
    return previous if value is None else value


def _flags(status: TagStatus) -> tuple[bool, bool, bool, bool]:
    return bool(status.tamper), bool(status.button), _low(status), bool(status.strap_loose)


def _low(status: TagStatus) -> bool:
    return status.battery_pct is not None and status.battery_pct < LOW_BATTERY_PCT
