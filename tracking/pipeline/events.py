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
    """The tag reported a different tamper / button / low-battery state than before (or, the first time
    it is heard by this worker, a tamper or button alarm)."""

    tag_pk: int
    tag_id: str
    status: TagStatus
    previous: TagStatus | None
    at: datetime


DomainEvent = ZoneEntered | ZoneExited | PortalCrossed | TagSilent | TagStatusChanged
E = TypeVar("E", ZoneEntered, ZoneExited, PortalCrossed, TagSilent, TagStatusChanged)
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
            button=_pick(status.button, previous.button), moving=_pick(status.moving, previous.moving))
        self.last[tag_id] = merged
        if previous is None:
            alarm = bool(merged.tamper) or bool(merged.button) or _low(merged)
            return TagStatusChanged(tag_pk, tag_id, merged, None, at) if alarm else None
        if _flags(merged) == _flags(previous):
            return None
        return TagStatusChanged(tag_pk, tag_id, merged, previous, at)


def _pick(value: Any, previous: Any) -> Any:
    return previous if value is None else value


def _flags(status: TagStatus) -> tuple[bool, bool, bool]:
    return bool(status.tamper), bool(status.button), _low(status)


def _low(status: TagStatus) -> bool:
    return status.battery_pct is not None and status.battery_pct < LOW_BATTERY_PCT
