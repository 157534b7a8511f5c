"""Reads for audits: the area and expected assets of an audit, what the RTLS knows of them, an audit's items
and live progress, and an asset's audit history."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.db.models.functions import Upper

from floorplans.models import Zone
from tracking.assets.audit_classify import AssetFacts, result_label
from tracking.models import Asset, AssetVerification, Audit, AuditItem

FACTS_CHUNK = 500  # assets per query while gathering facts (the command's progress bar steps by this)
PROGRESS_LIST = 200  # newest found / unexpected assets a progress answer lists
RESULT_ORDER = (AuditItem.Result.MISSING, AuditItem.Result.MISPLACED, AuditItem.Result.NOT_SEEN,
                AuditItem.Result.UNEXPECTED, AuditItem.Result.FOUND)  # how reports list them: worst first


@dataclass(frozen=True)
class AuditScope:
    """Where an audit looks (area: zone ids) and what it expects there (the asset filter)."""

    department_id: int | None
    zone_ids: tuple[int, ...]
    area: frozenset[int]

    @property
    def expected_q(self) -> Q:
        """Not retired, and home zone in the area; with no zones chosen, every asset of the department too."""
        q = Q(home_zone_id__in=self.area)
        if not self.zone_ids and self.department_id is not None:
            q |= Q(department_id=self.department_id)
        return q & ~Q(status=Asset.Status.RETIRED)


def zones_within(roots: Iterable[int]) -> frozenset[int]:
    """The zones and every zone inside them: children (Zone.parent, at any depth) and a ward's members."""
    found = set(roots)
    frontier = set(found)
    while frontier:
        inner = set(Zone.objects.filter(Q(parent_id__in=frontier) | Q(ward_id__in=frontier))
                    .values_list("pk", flat=True)) - found
        found |= inner
        frontier = inner
    return frozenset(found)


def audit_scope(*, department_id: int | None, zone_ids: Sequence[int]) -> AuditScope:
    roots = list(zone_ids) if zone_ids else ([department_id] if department_id is not None else [])
    return AuditScope(department_id, tuple(zone_ids), zones_within(roots))


def audit_scope_of(audit: Audit) -> AuditScope:
    zone_ids = sorted(audit.zones.values_list("pk", flat=True))
    return audit_scope(department_id=audit.department_id, zone_ids=zone_ids)


def _facts_rows(scope: AuditScope) -> QuerySet[Any, Any]:
    expected = scope.expected_q
    seen_here = Q(tracked_object__tag__location__zone_id__in=scope.area) & ~Q(status=Asset.Status.RETIRED)
    return (Asset.objects.filter(expected | seen_here)
            .annotate(is_expected=Case(When(expected, then=Value(True)), default=Value(False),
                                       output_field=BooleanField()))
            .order_by("pk")
            .values("pk", "is_expected", "pm_due_on", "tracked_object__tag__location__zone_id",
                    "tracked_object__tag__location__seen_at"))


def audit_facts_count(scope: AuditScope) -> int:
    return _facts_rows(scope).count()


def audit_facts(scope: AuditScope, *, chunk: int = FACTS_CHUNK) -> Iterator[list[AssetFacts]]:
    """The expected assets and those seen in the area, with their last sighting (CurrentLocation), in chunks
    of `chunk` assets (keyset-paged by pk)."""
    last_pk = 0
    while True:
        rows = list(_facts_rows(scope).filter(pk__gt=last_pk)[:chunk])
        if not rows:
            return
        last_pk = rows[-1]["pk"]
        yield [AssetFacts(asset_id=r["pk"], expected=r["is_expected"],
                          zone_id=r["tracked_object__tag__location__zone_id"],
                          seen_at=r["tracked_object__tag__location__seen_at"], pm_due_on=r["pm_due_on"]) for r in rows]


def expected_asset_ids(scope: AuditScope) -> set[int]:
    return set(Asset.objects.filter(scope.expected_q).values_list("pk", flat=True))


def assets_by_tag(tag_ids: Iterable[str]) -> dict[str, int]:
    """Tag id (EPC hex, upper case) -> asset id, for the tags that carry an asset."""
    wanted = {t.upper() for t in tag_ids}
    rows = (Asset.objects.annotate(tag_upper=Upper("tracked_object__tag__tag_id")).filter(tag_upper__in=wanted)
            .values_list("tag_upper", "pk"))  # a tag registered in lower case is found too
    return dict(rows)


def audit_items(audit_id: int) -> QuerySet[AuditItem]:
    """The audit's items in report order (result, then asset number), with what a report shows."""
    order = Case(*(When(result=r, then=Value(i)) for i, r in enumerate(RESULT_ORDER)), default=Value(99))
    return (AuditItem.objects.filter(audit_id=audit_id)
            .select_related("asset", "asset__home_zone", "asset__department", "asset__tracked_object",
                            "seen_zone", "seen_zone__floor")
            .annotate(result_order=order).order_by("result_order", "asset__asset_number"))


def audits_list(*, limit: int = 100) -> QuerySet[Audit]:
    return Audit.objects.select_related("department", "started_by").prefetch_related("zones")[:limit]


def audit_get(audit_id: int) -> Audit:
    return Audit.objects.select_related("department", "started_by").prefetch_related("zones").get(pk=audit_id)


def audit_place(audit: Audit) -> str:
    """What the audit covers, in words: "3 North" or "Equipment store, Dirty utility"."""
    zones = sorted(z.name for z in audit.zones.all())
    if zones:
        return ", ".join(zones)
    return audit.department.name if audit.department is not None else "(nowhere)"


def _item_row(item: AuditItem) -> dict[str, Any]:
    asset = item.asset
    return {"asset_id": asset.pk, "asset_number": asset.asset_number, "category": asset.get_category_display(),
            "name": asset.tracked_object.name, "result": item.result,
            "seen_at": item.seen_at, "seen_zone": item.seen_zone.name if item.seen_zone else ""}


def audit_progress(audit: Audit, *, limit: int = PROGRESS_LIST) -> dict[str, Any]:
    """A running (or ended) audit's progress: seen / expected, the newest found and unexpected assets."""
    summary = audit.summary or {}
    items = (AuditItem.objects.filter(audit=audit).select_related("asset", "asset__tracked_object", "seen_zone")
             .order_by("-seen_at", "-pk"))
    found = items.filter(result=AuditItem.Result.FOUND)
    unexpected = items.filter(result=AuditItem.Result.UNEXPECTED)
    expected = int(summary.get("expected", 0))
    found_count = found.count()
    return {
        "id": audit.pk, "kind": audit.kind, "state": audit.state, "expected": expected, "found": found_count,
        "unexpected": unexpected.count(), "remaining": max(expected - found_count, 0),
        "fraction": round(found_count / expected, 4) if expected else 0.0,
        "reads": int(summary.get("reads", 0)), "unknown_tags": int(summary.get("unknown_tags", 0)),
        "dropped": int(summary.get("dropped", 0)), "last_read_at": summary.get("last_read_at"),
        "started_at": audit.started_at, "ended_at": audit.ended_at, "counts": summary.get("counts"),
        "found_assets": [_item_row(i) for i in found[:limit]],
        "unexpected_assets": [_item_row(i) for i in unexpected[:limit]],
    }


def asset_audit_history(asset_id: int, *, limit: int = 100) -> dict[str, Any]:
    """When the asset was last verified and how, its verifications and the audits that listed it."""
    verifications = list(AssetVerification.objects.filter(asset_id=asset_id)
                         .select_related("zone", "user").order_by("-at", "-pk")[:limit])
    items = list(AuditItem.objects.filter(asset_id=asset_id).select_related("audit", "seen_zone")
                 .order_by("-audit__started_at", "-pk")[:limit])
    last = verifications[0] if verifications else None
    return {
        "asset_id": asset_id,
        "last_verified_at": last.at if last else None,
        "last_verified_how": last.how if last else None,
        "verifications": [{"at": v.at, "how": v.how, "how_label": v.get_how_display(), "audit_id": v.audit_id,
                           "zone": v.zone.name if v.zone else "", "user": v.user.username if v.user else ""}
                          for v in verifications],
        "audits": [{"audit_id": i.audit_id, "kind": i.audit.kind, "started_at": i.audit.started_at, "result": i.result,
                    "result_label": result_label(i.result, sweep=i.audit.kind == Audit.Kind.HANDHELD),
                    "seen_zone": i.seen_zone.name if i.seen_zone else "", "seen_at": i.seen_at,
                    "pm_due": i.pm_due, "pm_overdue": i.pm_overdue} for i in items],
    }


def last_read_at(summary: dict[str, Any]) -> datetime | None:
    value = summary.get("last_read_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else None
