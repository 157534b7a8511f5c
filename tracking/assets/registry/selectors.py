"""Reads of the registry: the filtered list (pages, API, export), PM due dates, one asset's histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from django.db.models import Q, QuerySet

from tracking.models import Asset, AssetStatusChange, AssetVerification

PM_DUE_SOON_DAYS: Final = 30
HISTORY_MAX: Final = 100


class Pm:
    """The PM filter's values."""

    OVERDUE: Final = "overdue"  # due before today
    DUE: Final = "due"  # due today or within PM_DUE_SOON_DAYS
    CHOICES: Final = ((OVERDUE, "overdue"), (DUE, f"due within {PM_DUE_SOON_DAYS} days"))


@dataclass(frozen=True, slots=True)
class AssetFilter:
    q: str = ""
    category: str = ""
    status: str = ""
    department: int | None = None  # a ward's zone pk
    pm: str = ""  # "", Pm.OVERDUE or Pm.DUE


def _words(q: str) -> Q:
    """Every word appears in the asset number, serial number, make, model, tag id or category."""
    match = Q()
    for word in q.lower().split():
        categories = [c.value for c in Asset.Category if word in c.label.lower() or word in c.value]
        match &= (Q(asset_number__icontains=word) | Q(serial_number__icontains=word) | Q(make__icontains=word)
                  | Q(model__icontains=word) | Q(tracked_object__tag__tag_id__icontains=word)
                  | Q(category__in=categories))
    return match


def assets_filtered(*, spec: AssetFilter, today: date) -> QuerySet[Asset]:
    """The assets matching the filter, by asset number, with what a list row shows joined in."""
    assets = Asset.objects.select_related("department", "home_zone", "tracked_object__tag")
    if spec.q.strip():
        assets = assets.filter(_words(spec.q))
    if spec.category:
        assets = assets.filter(category=spec.category)
    if spec.status:
        assets = assets.filter(status=spec.status)
    if spec.department is not None:
        assets = assets.filter(department_id=spec.department)
    if spec.pm == Pm.OVERDUE:
        assets = assets.filter(pm_due_on__lt=today)
    elif spec.pm == Pm.DUE:
        assets = assets.filter(pm_due_on__gte=today, pm_due_on__lte=today + timedelta(days=PM_DUE_SOON_DAYS))
    return assets.order_by("asset_number")


def pm_state(asset: Asset, *, today: date) -> str:
    """"overdue", "due" (within PM_DUE_SOON_DAYS) or "" for an asset's preventive maintenance."""
    if asset.pm_due_on is None:
        return ""
    if asset.pm_due_on < today:
        return Pm.OVERDUE
    return Pm.DUE if asset.pm_due_on <= today + timedelta(days=PM_DUE_SOON_DAYS) else ""


def asset_status_history(*, asset: Asset, limit: int = HISTORY_MAX) -> QuerySet[AssetStatusChange]:
    return asset.status_changes.select_related("zone", "user", "rule").order_by("-at", "-pk")[:limit]


def asset_verifications(*, asset: Asset, limit: int = HISTORY_MAX) -> QuerySet[AssetVerification]:
    return asset.verifications.select_related("zone", "user").order_by("-at", "-pk")[:limit]
