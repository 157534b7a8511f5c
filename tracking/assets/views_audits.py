"""Audit and utilization pages. The audit list starts audits through the same services as the API; a running
sweep's page is kept live by static/assets/audits.js, which polls /api/assets/audits/<id>/progress/."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any, Final

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie

from tracking.assets.audit_classify import result_label
from tracking.assets.audit_exceptions import AuditError
from tracking.assets.audit_selectors import asset_audit_history, audit_get, audit_items, audit_place, audits_list
from tracking.assets.audits import audit_run_hands_free, audit_start_handheld
from tracking.assets.charts import LABELS, utilization_chart_png
from tracking.assets.forms_audits import AuditStartForm, UtilizationForm
from tracking.assets.reports import (
    audit_report_csv,
    audit_report_pdf,
    is_sweep,
    result_titles,
    seen_headings,
    utilization_report_csv,
)
from tracking.assets.reports import utilization_report_pdf as utilization_pdf_build
from tracking.assets.utilization import STATES
from tracking.assets.utilization_data import DEFAULT_DAYS, Utilization, utilization_compute, utilization_period
from tracking.models import Asset, Audit, AuditItem

VIEW: Final = "tracking.view_audit"
START: Final = "tracking.add_audit"
RUN: Final = "tracking.change_audit"
UTILIZATION: Final = "tracking.view_assetstatuschange"
HISTORY: Final = "tracking.view_assetverification"
POLL_EVERY_MS: Final = 1000


@login_required
@permission_required(VIEW, raise_exception=True)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditStartForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(START):
            raise PermissionDenied("you may not start audits")
        if form.is_valid():
            scope = form.scope()
            try:
                if form.cleaned_data["kind"] == Audit.Kind.HANDS_FREE:
                    scope.pop("reader_code")
                    audit = audit_run_hands_free(**scope, user=request.user)  # type: ignore[arg-type]
                else:
                    audit = audit_start_handheld(**scope, user=request.user)  # type: ignore[arg-type]
            except AuditError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("asset_audit_page", audit.pk)
    return render(request, "assets/audits/audit_list.html", {
        "form": form, "audits": audits_list(limit=100), "can_start": request.user.has_perm(START)})


@login_required
@permission_required(VIEW, raise_exception=True)
@ensure_csrf_cookie
def audit_page(request: HttpRequest, audit_id: int) -> HttpResponse:
    try:
        audit = audit_get(audit_id)
    except Audit.DoesNotExist:
        raise Http404(f"no audit {audit_id}") from None
    groups: dict[str, list[Any]] = defaultdict(list)
    for item in audit_items(audit.pk):
        groups[item.result].append(item)
    sweep = is_sweep(audit)
    sections = [(result, title, groups[result], *seen_headings(result, sweep=sweep))
                for result, title in result_titles(sweep=sweep).items()]
    live = sweep and audit.state == Audit.State.RUNNING
    return render(request, "assets/audits/audit_detail.html", {
        "audit": audit, "place": audit_place(audit), "sections": sections, "live": live, "sweep": sweep,
        "not_seen_label": result_label(AuditItem.Result.NOT_SEEN, sweep=sweep),
        "counts": (audit.summary or {}).get("counts") or {}, "can_run": request.user.has_perm(RUN),
        "config": {"progress": reverse("api_asset_audit_progress", args=[audit.pk]),
                   "reads": reverse("api_asset_audit_reads", args=[audit.pk]),
                   "finish": reverse("api_asset_audit_finish", args=[audit.pk]),
                   "cancel": reverse("api_asset_audit_cancel", args=[audit.pk]),
                   "poll_ms": POLL_EVERY_MS, "reader": audit.reader},
    })


def _download(content: str | bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@permission_required(VIEW, raise_exception=True)
def audit_csv(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = get_object_or_404(Audit, pk=audit_id)
    return _download(audit_report_csv(audit), filename=f"audit-{audit.pk}.csv", content_type="text/csv")


@login_required
@permission_required(VIEW, raise_exception=True)
def audit_pdf(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = get_object_or_404(Audit.objects.select_related("started_by", "department"), pk=audit_id)
    return _download(audit_report_pdf(audit), filename=f"audit-{audit.pk}.pdf", content_type="application/pdf")


@login_required
@permission_required(HISTORY, raise_exception=True)
def asset_history(request: HttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(Asset.objects.select_related("tracked_object", "home_zone", "department"), pk=asset_id)
    return render(request, "assets/audits/asset_history.html",
                  {"asset": asset, "history": asset_audit_history(asset.pk)})


def _utilization(request: HttpRequest) -> tuple[UtilizationForm, Utilization | None, str]:
    today = timezone.now().date()
    first, after = utilization_period(start=None, end=None, today=today)
    form = UtilizationForm(request.GET or None,  # an empty form shows the default period's days
                           initial={"start": first.date(), "end": (after - timedelta(days=1)).date()})
    if request.GET and not form.is_valid():
        return form, None, ""
    data = form.cleaned_data if request.GET else {}
    start, end = utilization_period(start=data.get("start"), end=data.get("end"), today=today)
    department = data.get("department")
    try:
        result = utilization_compute(start=start, end=end, missing_after_h=data.get("missing_after_h") or 24.0,
                                     category=data.get("category") or "",
                                     department_id=department.pk if department else None)
    except ValueError as exc:
        return form, None, str(exc)
    return form, result, ""


@login_required
@permission_required(UTILIZATION, raise_exception=True)
def utilization_page(request: HttpRequest) -> HttpResponse:
    form, result, error = _utilization(request)
    query = request.GET.urlencode()
    tables = []
    if result is not None:
        for title, table in (("By category", result.by_category), ("By unit", result.by_unit),
                             ("By category and unit", result.by_category_unit)):
            tables.append((title, [(label, n, [f * 100 for f in fractions]) for label, n, fractions
                                   in zip(table.labels, table.assets, table.fractions, strict=True)]))
    chosen = form.is_bound and form.is_valid() and bool(form.cleaned_data.get("start") or form.cleaned_data.get("end"))
    return render(request, "assets/audits/utilization.html", {
        "form": form, "result": result, "error": error, "query": query, "tables": tables,
        "states": [LABELS[s] for s in STATES], "default_period": not chosen, "default_days": DEFAULT_DAYS})


@login_required
@permission_required(UTILIZATION, raise_exception=True)
def utilization_chart(request: HttpRequest, by: str) -> HttpResponse:
    if by not in ("category", "unit"):
        raise Http404(f"no chart by {by}")
    _form, result, error = _utilization(request)
    if result is None:
        return HttpResponse(error or "bad period", status=400, content_type="text/plain")
    table = result.by_category if by == "category" else result.by_unit
    title = f"Utilization by {by}, {result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}"
    return HttpResponse(utilization_chart_png(table, title=title), content_type="image/png")


@login_required
@permission_required(UTILIZATION, raise_exception=True)
def utilization_csv(request: HttpRequest) -> HttpResponse:
    _form, result, error = _utilization(request)
    if result is None:
        messages.error(request, error or "Check the period.")
        return redirect("asset_utilization")
    return _download(utilization_report_csv(result), filename=f"utilization-{result.start:%Y%m%d}.csv",
                     content_type="text/csv")


@login_required
@permission_required(UTILIZATION, raise_exception=True)
def utilization_pdf(request: HttpRequest) -> HttpResponse:
    _form, result, error = _utilization(request)
    if result is None:
        messages.error(request, error or "Check the period.")
        return redirect("asset_utilization")
    return _download(utilization_pdf_build(result), filename=f"utilization-{result.start:%Y%m%d}.pdf",
                     content_type="application/pdf")
