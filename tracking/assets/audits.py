"""Asset audits: hands-free (from what the RTLS saw) and handheld sweeps (reads of a mobile reader or an
uploaded reads file). Writes AuditItems and, for assets seen in place, AssetVerifications; never changes an
asset's status.

    audit_run_hands_free     classify every expected asset at once; the audit is finished when it returns
    audit_start_handheld     open a sweep session (expected count known, no items yet)
    handheld_reads_record    a batch of reads -> found / unexpected items as they come (the live progress)
    audit_finish             classify what the sweep did not read, write verifications, finish
    audit_cancel             stop a running sweep; its items stay, no verifications are written

The rules are tracking.assets.audit_classify (pure); the area and the expected assets are
tracking.assets.audit_selectors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from floorplans.models import Zone
from readers.reads import TagRead
from tracking.assets.audit_classify import SweepRead, Thresholds, Verdict, classify, counts, pm_flags
from tracking.assets.audit_exceptions import AuditNotRunning, AuditScopeInvalid
from tracking.assets.audit_selectors import (
    AuditScope,
    assets_by_tag,
    audit_facts,
    audit_facts_count,
    audit_scope,
    audit_scope_of,
    expected_asset_ids,
)
from tracking.assets.mobile_readers import mobile_reader_get
from tracking.models import Asset, AssetVerification, Audit, AuditItem

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (assets done in this step, assets in all)
MAX_UNKNOWN_LISTED = 200
HOW = {Audit.Kind.HANDS_FREE: AssetVerification.How.HANDS_FREE, Audit.Kind.HANDHELD: AssetVerification.How.HANDHELD}


@dataclass(frozen=True)
class ReadsRecorded:
    reads: int
    found: int  # expected assets read for the first time in this batch
    unexpected: int  # assets of elsewhere read for the first time in this batch
    unknown_tags: int  # tags of this batch that carry no asset (distinct)


def _scope_checked(*, department_id: int | None, zone_ids: Sequence[int], seen_within_h: int,
                   missing_after_days: int, now: datetime) -> tuple[AuditScope, Thresholds]:
    if department_id is None and not zone_ids:
        raise AuditScopeInvalid("choose a department or at least one zone to audit")
    if department_id is not None and not Zone.objects.filter(pk=department_id, kind=Zone.Kind.WARD).exists():
        raise AuditScopeInvalid(f"zone {department_id} is not a ward (a department)")
    missing = set(zone_ids) - set(Zone.objects.filter(pk__in=zone_ids).values_list("pk", flat=True))
    if missing:
        raise AuditScopeInvalid(f"no zone {', '.join(map(str, sorted(missing)))}")
    try:
        limits = Thresholds(now=now, seen_within_h=seen_within_h, missing_after_days=missing_after_days)
    except ValueError as exc:
        raise AuditScopeInvalid(str(exc)) from exc
    return audit_scope(department_id=department_id, zone_ids=zone_ids), limits


def _limits(audit: Audit, now: datetime) -> Thresholds:
    return Thresholds(now=now, seen_within_h=audit.seen_within_h, missing_after_days=audit.missing_after_days)


def _audit_create(*, kind: str, department_id: int | None, zone_ids: Sequence[int], seen_within_h: int,
                  missing_after_days: int, reader: str, user: User | None, now: datetime) -> Audit:
    audit = Audit.objects.create(kind=kind, department_id=department_id, seen_within_h=seen_within_h,
                                 missing_after_days=missing_after_days, reader=reader, started_by=user, started_at=now)
    audit.zones.set(zone_ids)
    return audit


def _items_write(audit: Audit, verdicts: Sequence[Verdict], *, user: User | None) -> None:
    AuditItem.objects.bulk_create([
        AuditItem(audit=audit, asset_id=v.asset_id, result=v.result.value, seen_zone_id=v.seen_zone_id,
                  seen_at=v.seen_at, pm_due=v.pm_due, pm_overdue=v.pm_overdue) for v in verdicts
    ], batch_size=1000)
    AssetVerification.objects.bulk_create([
        AssetVerification(asset_id=v.asset_id, at=v.seen_at, how=HOW[Audit.Kind(audit.kind)], audit=audit,
                          zone_id=v.seen_zone_id, user=user) for v in verdicts if v.verified and v.seen_at is not None
    ], batch_size=1000)


def _summary(scope: AuditScope, verdicts: Sequence[Verdict], *, expected: int) -> dict[str, Any]:
    return {"expected": expected, "counts": counts(verdicts), "area_zones": len(scope.area)}


@transaction.atomic
def audit_run_hands_free(*, department_id: int | None = None, zone_ids: Sequence[int] = (), seen_within_h: int = 24,
                         missing_after_days: int = 3, user: User | None = None, now: datetime | None = None,
                         progress: Progress | None = None) -> Audit:
    """Audit a department or a zone set from the RTLS's last sightings; returns the finished audit."""
    now = now or timezone.now()
    scope, limits = _scope_checked(department_id=department_id, zone_ids=zone_ids, seen_within_h=seen_within_h,
                                   missing_after_days=missing_after_days, now=now)
    audit = _audit_create(kind=Audit.Kind.HANDS_FREE, department_id=department_id, zone_ids=zone_ids,
                          seen_within_h=seen_within_h, missing_after_days=missing_after_days, reader="", user=user,
                          now=now)
    total = audit_facts_count(scope)
    verdicts: list[Verdict] = []
    expected = 0
    for chunk in audit_facts(scope):
        verdicts += classify(chunk, area=scope.area, limits=limits)
        expected += sum(fact.expected for fact in chunk)
        if progress is not None:
            progress(len(chunk), total)
    _items_write(audit, verdicts, user=user)
    audit.summary = _summary(scope, verdicts, expected=expected)
    audit.state, audit.ended_at = Audit.State.FINISHED, now
    audit.save(update_fields=["summary", "state", "ended_at"])
    logger.info("hands-free audit %s: %s", audit.pk, audit.summary["counts"])
    return audit


@transaction.atomic
def audit_start_handheld(*, department_id: int | None = None, zone_ids: Sequence[int] = (), reader_code: str = "",
                         seen_within_h: int = 24, missing_after_days: int = 3, user: User | None = None,
                         now: datetime | None = None) -> Audit:
    """Open a handheld sweep. With a reader code, the mobile reader's adapter feeds it
    (tracking.assets.handheld); without, reads come from uploaded files."""
    now = now or timezone.now()
    if reader_code:
        mobile_reader_get(reader_code)
    scope, _ = _scope_checked(department_id=department_id, zone_ids=zone_ids, seen_within_h=seen_within_h,
                              missing_after_days=missing_after_days, now=now)
    audit = _audit_create(kind=Audit.Kind.HANDHELD, department_id=department_id, zone_ids=zone_ids,
                          seen_within_h=seen_within_h, missing_after_days=missing_after_days, reader=reader_code,
                          user=user, now=now)
    audit.summary = {"expected": len(expected_asset_ids(scope)), "reads": 0, "unknown_tags": 0, "dropped": 0,
                     "unknown_tag_ids": [], "last_read_at": None, "area_zones": len(scope.area)}
    audit.save(update_fields=["summary"])
    return audit


def _running_handheld(audit_id: int) -> Audit:
    audit = Audit.objects.select_for_update().get(pk=audit_id)
    if audit.kind != Audit.Kind.HANDHELD:
        raise AuditNotRunning(f"audit {audit_id} is a hands-free audit; it takes no reads")
    if audit.state != Audit.State.RUNNING:
        raise AuditNotRunning(f"audit {audit_id} is {audit.state}")
    return audit


def sweep_zone_id(audit: Audit) -> int | None:
    """The zone a handheld read is credited to: the one zone swept, or the department; None for several zones."""
    zone_ids = list(audit.zones.values_list("pk", flat=True))
    if len(zone_ids) == 1:
        return zone_ids[0]
    return audit.department_id if not zone_ids else None


@transaction.atomic
def handheld_reads_record(*, audit_id: int, reads: Sequence[TagRead], dropped: int = 0) -> ReadsRecorded:
    """Record a batch of a sweep's reads: each asset read for the first time becomes a found (expected) or
    unexpected item at its first read's time. Tags that carry no asset are counted (and the first few kept)."""
    audit = _running_handheld(audit_id)
    first: dict[str, datetime] = {}
    for read in reads:
        tag = read.tag_id.upper()
        if tag not in first or read.seen_at < first[tag]:
            first[tag] = read.seen_at
    asset_of = assets_by_tag(first)
    recorded = set(AuditItem.objects.filter(audit=audit, asset_id__in=asset_of.values())
                   .values_list("asset_id", flat=True))
    new = {asset_id: first[tag] for tag, asset_id in asset_of.items() if asset_id not in recorded}
    scope = audit_scope_of(audit)
    expected = set(Asset.objects.filter(scope.expected_q, pk__in=new).values_list("pk", flat=True))
    pm = dict(Asset.objects.filter(pk__in=new).values_list("pk", "pm_due_on"))
    zone_id = sweep_zone_id(audit)
    items = []
    for asset_id, seen_at in sorted(new.items(), key=lambda kv: kv[1]):
        due, overdue = pm_flags(pm.get(asset_id), today=seen_at.date())  # UTC days, as classify
        result = AuditItem.Result.FOUND if asset_id in expected else AuditItem.Result.UNEXPECTED
        items.append(AuditItem(audit=audit, asset_id=asset_id, result=result, seen_zone_id=zone_id, seen_at=seen_at,
                               pm_due=due, pm_overdue=overdue))
    AuditItem.objects.bulk_create(items)
    unknown = sorted(set(first) - set(asset_of))
    summary = audit.summary
    listed = summary.get("unknown_tag_ids", [])
    fresh_unknown = [tag for tag in unknown if tag not in listed]
    summary["unknown_tag_ids"] = (listed + fresh_unknown)[:MAX_UNKNOWN_LISTED]
    summary["unknown_tags"] = int(summary.get("unknown_tags", 0)) + len(fresh_unknown)
    summary["reads"] = int(summary.get("reads", 0)) + len(reads)
    summary["dropped"] = int(summary.get("dropped", 0)) + dropped
    if reads:
        latest = max(read.seen_at for read in reads).isoformat()
        summary["last_read_at"] = max(latest, summary.get("last_read_at") or latest)
    audit.save(update_fields=["summary"])
    return ReadsRecorded(reads=len(reads), found=len(expected), unexpected=len(new) - len(expected),
                         unknown_tags=len(fresh_unknown))


@transaction.atomic
def audit_finish(*, audit_id: int, user: User | None = None, now: datetime | None = None) -> Audit:
    """End a sweep with the same report as a hands-free audit: what it read is found (or unexpected);
    the expected assets it did not read are classified from the RTLS (misplaced / missing, or not_seen:
    "not reached by the sweep" although the RTLS places it here, kept with that last place and time)."""
    now = now or timezone.now()
    audit = _running_handheld(audit_id)
    scope = audit_scope_of(audit)
    items = list(AuditItem.objects.filter(audit=audit))
    reads = {item.asset_id: SweepRead(item.seen_at or now, item.seen_zone_id) for item in items}
    verdicts: list[Verdict] = []
    expected = 0
    for chunk in audit_facts(scope):
        verdicts += classify(chunk, area=scope.area, limits=_limits(audit, now), reads=reads)
        expected += sum(fact.expected for fact in chunk)
    judged = {v.asset_id for v in verdicts}
    kept = [item for item in items if item.asset_id not in judged]  # read here, belongs elsewhere, not placed here
    AuditItem.objects.filter(audit=audit).exclude(pk__in=[item.pk for item in kept]).delete()
    _items_write(audit, verdicts, user=user)
    _verify_kept(audit, kept, user=user)
    summary = audit.summary | _summary(scope, verdicts, expected=expected)
    summary["counts"] = counts(verdicts)
    summary["counts"]["unexpected"] += len(kept)
    audit.summary, audit.state, audit.ended_at = summary, Audit.State.FINISHED, now
    audit.save(update_fields=["summary", "state", "ended_at"])
    logger.info("handheld audit %s finished: %s", audit.pk, summary["counts"])
    return audit


def _verify_kept(audit: Audit, items: Sequence[AuditItem], *, user: User | None) -> None:
    AssetVerification.objects.bulk_create([
        AssetVerification(asset_id=item.asset_id, at=item.seen_at, how=AssetVerification.How.HANDHELD, audit=audit,
                          zone_id=item.seen_zone_id, user=user) for item in items if item.seen_at is not None
    ])


@transaction.atomic
def audit_cancel(*, audit_id: int, user: User | None = None, now: datetime | None = None) -> Audit:
    """Stop a running sweep without a report: its items stay as they were, no verification is written."""
    audit = _running_handheld(audit_id)
    audit.state, audit.ended_at = Audit.State.CANCELLED, now or timezone.now()
    audit.summary = audit.summary | {"cancelled_by": user.username if user is not None else ""}
    audit.save(update_fields=["state", "ended_at", "summary"])
    return audit
