"""Writes for the asset rules: status rules, PAR levels and forbidden zones (biomedical engineering edits
them on /assets/rules/, /assets/par/ and the API). Each is validated with the model's own checks (a
ValidationError names the field), logged with who did it, and takes effect at once: the rules' directory
reloads on the save, and a PAR level is counted as soon as it is committed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerts.services import alert_condition_clear
from floorplans.models import Zone
from tracking.assets import rules
from tracking.models import Asset, ForbiddenZone, ParLevel, StatusRule

logger = logging.getLogger(__name__)


def _who(user: Any) -> str:
    return getattr(user, "username", "") or "system"


def from_statuses_clean(values: Iterable[str]) -> list[str]:
    """The statuses a rule changes from, de-duplicated in the model's order; ValidationError on an unknown one."""
    given = [str(v) for v in values]
    unknown = sorted(set(given) - set(Asset.Status.values))
    if unknown:
        raise ValidationError({"from_statuses": f"unknown status {', '.join(unknown)}; "
                                                f"one of {', '.join(Asset.Status.values)}"})
    return [s for s in Asset.Status.values if s in given]


def _zone_or_kind(zone: Zone | None, zone_kind: str) -> None:
    if zone is not None and zone_kind:
        raise ValidationError({"zone_kind": "choose a zone or a zone kind, not both"})
    if zone is None and not zone_kind:
        raise ValidationError({"zone_kind": "choose a zone or a zone kind"})


@transaction.atomic
def statusrule_save(
    *, rule_id: int | None = None, name: str, status: str, zone_kind: str = "", zone: Zone | None = None,
    category: str = "", from_statuses: Iterable[str] = (), after_s: int = 0, enabled: bool = True,
    priority: int = 0, user: Any = None,
) -> StatusRule:
    """Create (rule_id None) or replace a status rule. A rule names a zone or a zone kind, not both."""
    rule = StatusRule() if rule_id is None else StatusRule.objects.select_for_update().get(pk=rule_id)
    _zone_or_kind(zone, zone_kind)
    rule.name, rule.status, rule.zone_kind, rule.zone, rule.category = name, status, zone_kind, zone, category
    rule.from_statuses = from_statuses_clean(from_statuses)
    rule.after_s, rule.enabled, rule.priority = after_s, enabled, priority
    if rule.status in rule.from_statuses:
        raise ValidationError({"from_statuses": f"a rule that sets {rule.status} cannot start from it"})
    rule.full_clean()
    rule.save()
    logger.info("status rule %s '%s' saved by %s", rule.pk, rule.name, _who(user))
    return rule


@transaction.atomic
def statusrule_delete(*, rule_id: int, user: Any = None) -> None:
    deleted, _ = StatusRule.objects.filter(pk=rule_id).delete()
    if not deleted:
        raise StatusRule.DoesNotExist(f"no status rule {rule_id}")
    logger.info("status rule %s deleted by %s", rule_id, _who(user))


@transaction.atomic
def parlevel_save(
    *, par_id: int | None = None, zone: Zone, category: str, target_count: int, critical_count: int,
    ward: Zone | None = None, user: Any = None,
) -> ParLevel:
    """Create (par_id None) or replace a PAR level; it is counted (and alerted) once committed."""
    par = ParLevel() if par_id is None else ParLevel.objects.select_for_update().get(pk=par_id)
    par.zone, par.category, par.target_count, par.critical_count, par.ward = (
        zone, category, target_count, critical_count, ward)
    if ward is not None and ward.kind != Zone.Kind.WARD:
        raise ValidationError({"ward": f"{ward.name} is not a ward"})
    if critical_count > target_count:
        raise ValidationError({"critical_count": "the critical count cannot be above the target"})
    par.full_clean()
    par.save()
    logger.info("PAR level %s (%s) saved by %s", par.pk, par, _who(user))
    pk = par.pk
    transaction.on_commit(lambda: _par_check_guarded(pk))
    return par


def _par_check_guarded(par_id: int) -> None:
    try:
        rules.par_check(par_ids=[par_id], now=timezone.now())
    except Exception:  # the level is saved; the periodic check will count it
        logger.exception("PAR check of level %s failed", par_id)


@transaction.atomic
def parlevel_delete(*, par_id: int, user: Any = None) -> None:
    """Delete a PAR level and resolve its open alert."""
    deleted, _ = ParLevel.objects.filter(pk=par_id).delete()
    if not deleted:
        raise ParLevel.DoesNotExist(f"no PAR level {par_id}")
    alert_condition_clear(key=rules.par_key(par_id), resolve=True, note="PAR level removed")
    logger.info("PAR level %s deleted by %s", par_id, _who(user))


@transaction.atomic
def forbiddenzone_save(
    *, forbidden_id: int | None = None, zone: Zone | None = None, zone_kind: str = "", category: str = "",
    note: str = "", user: Any = None,
) -> ForbiddenZone:
    """Create or replace a forbidden zone (one zone or every zone of a kind; one category or all)."""
    spec = ForbiddenZone() if forbidden_id is None else ForbiddenZone.objects.select_for_update().get(pk=forbidden_id)
    _zone_or_kind(zone, zone_kind)
    spec.zone, spec.zone_kind, spec.category, spec.note = zone, zone_kind, category, note
    spec.full_clean()
    spec.save()
    logger.info("forbidden zone %s (%s) saved by %s", spec.pk, spec, _who(user))
    return spec


@transaction.atomic
def forbiddenzone_delete(*, forbidden_id: int, user: Any = None) -> None:
    deleted, _ = ForbiddenZone.objects.filter(pk=forbidden_id).delete()
    if not deleted:
        raise ForbiddenZone.DoesNotExist(f"no forbidden zone {forbidden_id}")
    logger.info("forbidden zone %s deleted by %s", forbidden_id, _who(user))
