"""Where a tag has been (its trail from the partitioned history) and who is in each zone now."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce

from floorplans.models import Floor
from tracking.access import visible_only
from tracking.models import LocationHistory, Tag, ZonePresence
from tracking.selectors.locations import StX, StY, iso_utc

if TYPE_CHECKING:
    from tracking.access import AnyUser

UNASSIGNED = "unassigned"  # by_kind key of tags that no tracked object carries


def tag_trail(*, user: AnyUser, tag: Tag, since: datetime, until: datetime, limit: int) -> dict[str, Any]:
    """The tag's positions with since <= seen_at < until on floors the user may watch, oldest first.

    At most `limit` points: when there are more, the latest `limit` and `truncated` true. The seen_at
    range lets PostgreSQL read only the day partitions it covers.
    """
    rows = list(
        visible_only(LocationHistory.objects.filter(tag_id=tag.pk, seen_at__gte=since, seen_at__lt=until), user=user)
        .order_by("-seen_at")
        .values("floor_id", "zone_id", "accuracy_m", "seen_at", x=StX("position"), y=StY("position"))[: limit + 1]
    )
    truncated = len(rows) > limit
    points = [
        {"x_m": round(row["x"], 2), "y_m": round(row["y"], 2), "floor": row["floor_id"], "zone": row["zone_id"],
         "accuracy_m": round(row["accuracy_m"], 2), "seen_at": iso_utc(row["seen_at"])}
        for row in reversed(rows[:limit])
    ]
    return {"tag": tag.tag_id, "since": iso_utc(since), "until": iso_utc(until), "truncated": truncated,
            "points": points}


def zone_occupancy(*, floor: Floor) -> list[dict[str, Any]]:
    """Open stays per zone of the floor (occupied zones only, by zone code), counted by tracked-object kind."""
    counts = (
        ZonePresence.objects.filter(zone__floor=floor, exited_at__isnull=True)
        .values("zone_id", "zone__code", "zone__name",
                object_kind=Coalesce(F("tag__tracked_object__kind"), Value(UNASSIGNED)))
        .annotate(n=Count("id"))
        .order_by("zone__code", "object_kind")
    )
    zones: dict[int, dict[str, Any]] = {}
    by_kind: dict[int, dict[str, int]] = defaultdict(dict)
    for row in counts:
        zone = zones.setdefault(row["zone_id"], {"zone": row["zone_id"], "zone_name": row["zone__name"], "count": 0})
        zone["count"] += row["n"]
        by_kind[row["zone_id"]][row["object_kind"]] = row["n"]
    return [{**zone, "by_kind": by_kind[zone_id]} for zone_id, zone in zones.items()]
