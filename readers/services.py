"""Writes for readers: their health as the supervisor sees it, and the reader-offline condition."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone

from readers.health import OFFLINE, HealthChange, HealthState
from readers.models import Reader, ReaderHealth

logger = logging.getLogger(__name__)

# Who wants to hear that a reader went offline or came back (the alerts app subscribes here).
ReaderConditionListener = Callable[[HealthChange], None]
reader_condition_listeners: list[ReaderConditionListener] = []


@transaction.atomic
def reader_health_record(
    *, states: Sequence[HealthState], drops: dict[str, dict[str, int]], changes: Sequence[HealthChange] = ()
) -> int:
    """Upsert one ReaderHealth row per reader (one statement), then announce online/offline changes
    after commit. Returns the rows written."""
    ids = dict(Reader.objects.filter(code__in=[s.reader_id for s in states]).values_list("code", "pk"))
    now = timezone.now()
    rows = [
        ReaderHealth(
            reader_id=ids[s.reader_id], state=s.state, state_since=s.state_since, last_read_at=s.last_read_at,
            reads_per_s=round(s.reads_per_s, 3), reads_total=s.reads_total, drops=drops.get(s.reader_id, {}),
            last_error=s.last_error, updated_at=now,
        )
        for s in states if s.reader_id in ids
    ]
    fields = ["state", "state_since", "last_read_at", "reads_per_s", "reads_total", "drops", "last_error", "updated_at"]
    ReaderHealth.objects.bulk_create(rows, update_conflicts=True, unique_fields=["reader"], update_fields=fields)
    for change in changes:
        transaction.on_commit(lambda change=change: _announce(change))  # type: ignore[misc]
    return len(rows)


def _announce(change: HealthChange) -> None:
    if change.state == OFFLINE:
        logger.warning("reader %s is offline (last read %s)", change.reader_id, change.last_read_at or "never")
    else:
        logger.info("reader %s is online", change.reader_id)
    for listener in reader_condition_listeners:
        try:
            listener(change)
        except Exception:  # a broken listener must not stop health recording
            logger.exception("reader condition listener %r failed", listener)
