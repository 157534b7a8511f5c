"""Pages for the asset rules: status-from-place rules and forbidden zones (/assets/rules/, biomedical
engineering), PAR levels with their live counts (/assets/par/: nurses see them, biomedical engineering
edits them). The forms post here and go through tracking.assets.services_rules, like the API."""

from __future__ import annotations

from typing import Any, Final

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracking.assets import services_rules as services
from tracking.assets.forms_rules import ForbiddenZoneForm, ParLevelForm, StatusRuleForm, errors_onto
from tracking.assets.rules import par_tick_s
from tracking.assets.selectors_rules import (
    forbidden_zones_list,
    par_levels_overview,
    par_levels_visible,
    status_rules_list,
)
from tracking.models import Asset, ForbiddenZone, StatusRule

VIEW_RULES: Final = "tracking.view_statusrule"
CHANGE_RULES: Final = "tracking.change_statusrule"
VIEW_FORBIDDEN: Final = "tracking.view_forbiddenzone"
CHANGE_FORBIDDEN: Final = "tracking.change_forbiddenzone"
VIEW_PAR: Final = "tracking.view_parlevel"
CHANGE_PAR: Final = "tracking.change_parlevel"
STATUS_LABELS: Final = dict(Asset.Status.choices)


@login_required
@permission_required(VIEW_RULES, raise_exception=True)
def rules_list(request: HttpRequest) -> HttpResponse:
    rows = [{"rule": rule, "from_labels": [STATUS_LABELS.get(s, s) for s in rule.from_statuses]}
            for rule in status_rules_list()]
    return render(request, "assets/rules/rules_list.html", {
        "rows": rows, "forbidden": forbidden_zones_list(),
        "can_change": request.user.has_perm(CHANGE_RULES),
        "can_change_forbidden": request.user.has_perm(CHANGE_FORBIDDEN),
    })


def _edit(request: HttpRequest, *, form_class: Any, initial: dict[str, Any] | None, save: Any, title: str,
          back: str, template: str = "assets/rules/form.html") -> HttpResponse:
    """GET: the form; POST: the service, then back to the list (or the form again with the errors)."""
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, f"Saved: {saved}")
            return redirect(back)
    return render(request, template, {"form": form, "title": title, "back": back},
                  status=400 if request.method == "POST" else 200)


def _rule_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {"name": data["name"], "zone_kind": data["zone_kind"], "zone": data["zone"], "category": data["category"],
            "from_statuses": data["from_statuses"], "status": data["status"], "after_s": data["after_s"],
            "priority": data["priority"], "enabled": data["enabled"]}


@login_required
@permission_required(CHANGE_RULES, raise_exception=True)
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    rule = None if rule_id is None else get_object_or_404(StatusRule, pk=rule_id)
    return _edit(
        request, form_class=StatusRuleForm, initial=StatusRuleForm.initial_of(rule) if rule else None,
        save=lambda data: services.statusrule_save(rule_id=rule_id, user=request.user, **_rule_fields(data)),
        title=f"Status rule: {rule.name}" if rule else "New status rule", back="assets_rules",
    )


@require_POST
@login_required
@permission_required("tracking.delete_statusrule", raise_exception=True)
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    try:
        services.statusrule_delete(rule_id=rule_id, user=request.user)
    except StatusRule.DoesNotExist:
        raise Http404(f"no status rule {rule_id}") from None
    messages.success(request, "Status rule deleted.")
    return redirect("assets_rules")


@login_required
@permission_required(CHANGE_FORBIDDEN, raise_exception=True)
def forbidden_edit(request: HttpRequest, forbidden_id: int | None = None) -> HttpResponse:
    spec = None if forbidden_id is None else get_object_or_404(ForbiddenZone, pk=forbidden_id)
    return _edit(
        request, form_class=ForbiddenZoneForm, initial=ForbiddenZoneForm.initial_of(spec) if spec else None,
        save=lambda data: services.forbiddenzone_save(forbidden_id=forbidden_id, user=request.user, **data),
        title="Forbidden zone" if spec else "New forbidden zone", back="assets_rules",
    )


@require_POST
@login_required
@permission_required("tracking.delete_forbiddenzone", raise_exception=True)
def forbidden_delete(request: HttpRequest, forbidden_id: int) -> HttpResponse:
    try:
        services.forbiddenzone_delete(forbidden_id=forbidden_id, user=request.user)
    except ForbiddenZone.DoesNotExist:
        raise Http404(f"no forbidden zone {forbidden_id}") from None
    messages.success(request, "Forbidden zone deleted.")
    return redirect("assets_rules")


@login_required
@permission_required(VIEW_PAR, raise_exception=True)
def par_list(request: HttpRequest) -> HttpResponse:
    rows = par_levels_overview(par_levels_visible(user=request.user))
    return render(request, "assets/rules/par_list.html", {
        "rows": rows, "can_change": request.user.has_perm(CHANGE_PAR), "refresh_s": int(par_tick_s()),
        "below": sum(1 for r in rows if r["state"] in ("zero", "low")),
    })


@login_required
@permission_required(CHANGE_PAR, raise_exception=True)
def par_edit(request: HttpRequest, par_id: int | None = None) -> HttpResponse:
    par = None if par_id is None else get_object_or_404(par_levels_visible(user=request.user), pk=par_id)
    return _edit(
        request, form_class=ParLevelForm, initial=ParLevelForm.initial_of(par) if par else None,
        save=lambda data: services.parlevel_save(par_id=par_id, user=request.user, **data),
        title="PAR level" if par else "New PAR level", back="assets_par",
    )


@require_POST
@login_required
@permission_required("tracking.delete_parlevel", raise_exception=True)
def par_delete(request: HttpRequest, par_id: int) -> HttpResponse:
    get_object_or_404(par_levels_visible(user=request.user), pk=par_id)
    services.parlevel_delete(par_id=par_id, user=request.user)
    messages.success(request, "PAR level deleted.")
    return redirect("assets_par")

