"""The single write path for an asset's status.

Everything that changes `Asset.status` — a person on a page or the API, the CSV import, a zone status rule —
calls `asset_status_set`, so every change has its `AssetStatusChange` row (what utilization is computed from)
and, once committed, the PAR levels of the asset's category are checked again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tracking.models import Asset, AssetStatusChange

logger = logging.getLogger(__name__)

STATUSES: frozenset[str] = frozenset(Asset.Status.values)
SOURCES: frozenset[str] = frozenset(AssetStatusChange.Source.values)


@transaction.atomic
def asset_status_set(
    *,
    asset_id: int,
    status: str,
    source: str,
    user: Any = None,
    rule_id: int | None = None,
    zone_id: int | None = None,
    at: datetime | None = None,
    only_from: Collection[str] | None = None,
) -> AssetStatusChange | None:
    """Set an asset's status and record the change; None when it already had that status.

    `source` is one of AssetStatusChange.Source (manual, rule, import, audit); `user` the person for a
    manual change, `rule_id` / `zone_id` the rule and the zone for a rule's change. `at` defaults to now.
    `only_from`: change only an asset whose status (read under the row lock) is one of these, else None —
    a rule's "from" condition, checked where a concurrent manual change cannot slip in between.
    Raises ValueError for an unknown status or source, Asset.DoesNotExist for an unknown asset.
    """
    if status not in STATUSES:
        raise ValueError(f"status {status!r}: expected one of {', '.join(sorted(STATUSES))}")
    if source not in SOURCES:
        raise ValueError(f"source {source!r}: expected one of {', '.join(sorted(SOURCES))}")
    at = at or timezone.now()
    asset = Asset.objects.select_for_update().get(pk=asset_id)
    if asset.status == status or (only_from is not None and asset.status not in only_from):
        return None
    change = AssetStatusChange.objects.create(
        asset=asset, at=at, from_status=asset.status, to_status=status, source=source,
        rule_id=rule_id, zone_id=zone_id, user=user if user is not None and user.is_authenticated else None,
    )
    asset.status, asset.status_changed_at = status, at
    asset.save(update_fields=["status", "status_changed_at"])
    logger.info("asset %s: %s -> %s (%s)", asset.asset_number, change.from_status, status, source)
    _par_check_queue(asset.category, at)
    return change


# The PAR levels of the changed categories are counted once the change is committed. A transaction that
# changes many assets (a CSV import) counts each category once: every change queues a callback, the first
# to run counts all that are pending, the others find nothing left. (Pending entries of a rolled-back
# transaction are counted with the next commit: one harmless extra count.)
_pending = threading.local()


def _par_check_queue(category: str, at: datetime) -> None:
    pending: dict[str, datetime] = _pending.__dict__.setdefault("categories", {})
    pending[category] = max(at, pending.get(category, at))
    transaction.on_commit(_par_check_pending)


def _par_check_pending() -> None:
    """Count the PAR levels of the pending categories (a failure is logged: the status change stands)."""
    pending: dict[str, datetime] = _pending.__dict__.get("categories", {})
    batch = dict(pending)
    pending.clear()
    for category, at in batch.items():
        try:
            from tracking.assets import rules  # lazy: rules imports this module

            rules.par_check(category=category, now=at)
        except Exception:  # a PAR check must not undo or block a committed status change
            logger.exception("PAR check after a %s status change failed", category)
