"""Security pages: the console, the incidents (timeline, PDF and CSV report), the protected infants and the
access log.

The console is a shell drawn by static/security/console.js from the alert stream (ws/alerts/), the floor
websocket, the tracking and security APIs; this view only checks who may open it and what they may do there
(officers: doors and Code Pink resolution; nurses: a read-only console that may still call a Code Pink and
answer alarms, as their roles allow). The other pages are rendered here; their forms go through
security.services like the API.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any, Final

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from security import report, services
from security.access import location_views_record
from security.console import (
    access_log,
    escort_open,
    infant_rows,
    infants_list,
    match_checks_list,
    secured_floors,
)
from security.exceptions import SecurityRefused
from security.forms import (
    AccessFilterForm,
    DischargeForm,
    EnrolForm,
    EscortForm,
    MatchCheckForm,
    MotherForm,
    NoteForm,
)
from security.models import CodePink, LocationAccess, MatchCheck
from security.selectors import enrolment_prompts

logger = logging.getLogger(__name__)

VIEW_INFANTS: Final = "security.view_infant"
VIEW_CODE_PINKS: Final = "security.view_codepink"
ACCESS_LOG_PAGE_SIZE: Final = 100

# the REST API and websockets the console calls ({name} is filled in by the page)
CONSOLE_URLS: Final = {
    "doors": "/api/security/doors/",
    "door_command": "/api/security/doors/{code}/command/",
    "infant": "/api/security/infants/{infant}/",
    "infants": "/api/security/infants/",
    "code_pinks": "/api/security/code-pinks/",
    "code_pink_start": "/api/security/code-pinks/start/",
    "code_pink_resolve": "/api/security/code-pinks/{id}/resolve/",
    "incident": "/security/incidents/{id}/",
    "alert": "/api/alerts/{alert}/",
    "alert_action": "/api/alerts/{alert}/{action}/",
    "trail": "/api/tags/{tag}/trail/",
    "socket": "/ws/floors/{floor}/",
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required let only logged-in users here
    return request.user


# ---- the console -----------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_INFANTS, raise_exception=True)
@ensure_csrf_cookie
def console(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    floors = secured_floors(user=user)
    buildings = {floor.building_id: floor.building.name for floor in floors}
    config = {
        "floors": [{"id": f.pk, "name": f.name, "level": f.level, "building": f.building_id,
                    "data_url": reverse("floor_map_data", args=[f.pk])} for f in floors],
        "buildings": [{"id": pk, "name": name} for pk, name in buildings.items()],
        "floor": floors[0].pk if floors else None,
        "urls": {**CONSOLE_URLS, "login": reverse("login")},
        "csrf": get_token(request),
        "can": {
            "answer_alerts": user.has_perm("alerts.change_alert"),
            "command_doors": user.has_perm("security.change_doorcontroller"),
            "start_code_pink": user.has_perm("security.start_codepink"),
            "resolve_code_pink": user.has_perm("security.change_codepink"),
            "trail": user.has_perm("tracking.view_locationhistory"),
        },
        "stale_after_s": 15,
        "old_after_s": 120,
    }
    return render(request, "security/console.html", {"config": config, "floors": floors})


# ---- incidents -------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_CODE_PINKS, raise_exception=True)
def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = (CodePink.objects.select_related("floor", "building", "infant__tracked_object", "started_by")
                 .annotate(lines=Count("timeline")).order_by("-started_at", "-pk"))
    page = Paginator(incidents, 50).get_page(request.GET.get("page"))
    return render(request, "security/incident_list.html", {"page": page})


def _incident(code_pink_id: int) -> CodePink:
    return get_object_or_404(CodePink.objects.select_related(
        "floor", "building", "infant__tracked_object", "started_by", "resolved_by"), pk=code_pink_id)


def _report_viewed(request: HttpRequest, incident: CodePink, what: str) -> None:
    """The report shows where the infant went during the incident: an access-log line."""
    if incident.infant_id is not None:
        location_views_record(user=request.user, infant_ids=[incident.infant_id], via=LocationAccess.Via.REPORT,
                              detail=f"Code Pink {incident.pk} {what}", remote_addr=request.META.get("REMOTE_ADDR"))


def _picture(incident: CodePink, request: HttpRequest) -> tuple[bytes | None, int]:
    """The floor with the infant's trail during the incident (None without a floor to draw), and its points."""
    points = report.incident_trail(incident, user=request.user)
    floor = report.report_floor(incident, points)
    if floor is None:
        return None, len(points)
    return report.trail_png(floor=floor, points=points, title=f"{floor.name}: the infant's trail during the incident"
                            if points else f"{floor.name}: no recorded positions of the infant"), len(points)


@login_required
@permission_required(VIEW_CODE_PINKS, raise_exception=True)
def incident_detail(request: HttpRequest, code_pink_id: int) -> HttpResponse:
    incident = _incident(code_pink_id)
    picture, points = _picture(incident, request)
    _report_viewed(request, incident, "page")
    return render(request, "security/incident_detail.html", {
        "incident": incident, "facts": report.incident_facts(incident), "entries": report.incident_timeline(incident),
        "picture": base64.b64encode(picture).decode() if picture else None, "trail_points": points,
        "can_resolve": request.user.has_perm("security.change_codepink") and incident.state == CodePink.State.ACTIVE,
    })


@login_required
@permission_required(VIEW_CODE_PINKS, raise_exception=True)
def incident_pdf(request: HttpRequest, code_pink_id: int) -> HttpResponse:
    incident = _incident(code_pink_id)
    picture, _ = _picture(incident, request)
    body = report.incident_pdf(incident, report.incident_timeline(incident), picture=picture)
    _report_viewed(request, incident, "PDF")
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="code-pink-{incident.pk}.pdf"'
    return response


@login_required
@permission_required(VIEW_CODE_PINKS, raise_exception=True)
def incident_csv(request: HttpRequest, code_pink_id: int) -> HttpResponse:
    incident = _incident(code_pink_id)
    response = HttpResponse(report.incident_csv(report.incident_timeline(incident)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="code-pink-{incident.pk}-timeline.csv"'
    return response


# ---- infants ---------------------------------------------------------------------------------------------


def _infants_page(request: HttpRequest, *, bound: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    """The infants page; `bound` holds a posted form that failed (shown open, with its errors)."""
    user = _user(request)
    infants = list(infants_list(user=user))
    rows = infant_rows(infants, user=user)
    location_views_record(user=user, infant_ids=[row["id"] for row in rows if row["place"]],
                          via=LocationAccess.Via.CONSOLE, detail="infants page",
                          remote_addr=request.META.get("REMOTE_ADDR"))
    may = {name: user.has_perm(f"security.{name}") for name in (
        "add_infant", "add_mother", "add_escortpass", "change_escortpass", "discharge_infant", "add_matchcheck",
        "view_tagstate", "view_matchcheck")}
    forms: dict[str, Any] = {
        "enrol": EnrolForm(initial={"tag_id": request.GET.get("tag", "")}),
        "mother": MotherForm(initial={"tag_id": request.GET.get("mother_tag", "")}),
        "match": MatchCheckForm(),
        **(bound or {}),
    }
    context = {
        "rows": rows, "may": may, "forms": forms, "me": user.get_username(),
        "prompts": enrolment_prompts() if may["view_tagstate"] else [],
        "checks": list(match_checks_list()[:30]) if may["view_matchcheck"] else [],
        "open_form": next(iter(bound), "") if bound else request.GET.get("open", ""),
    }
    return render(request, "security/infants.html", context, status=status)


@login_required
@permission_required(VIEW_INFANTS, raise_exception=True)
def infants(request: HttpRequest) -> HttpResponse:
    return _infants_page(request)


@login_required
@require_POST
@permission_required([VIEW_INFANTS, "security.add_infant"], raise_exception=True)
def infant_enrol(request: HttpRequest) -> HttpResponse:
    form = EnrolForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            infant = services.infant_enrol(tag_id=data["tag_id"], name=data["name"], ward_id=data["ward"].pk,
                                           mother_id=data["mother"].pk if data["mother"] else None,
                                           born_at=data["born_at"], user=_user(request))
        except SecurityRefused as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{infant} is protected on {infant.ward.name}.")
            return redirect("security_infants")
    return _infants_page(request, bound={"enrol": form}, status=400)


@login_required
@require_POST
@permission_required([VIEW_INFANTS, "security.add_mother"], raise_exception=True)
def mother_register(request: HttpRequest) -> HttpResponse:
    form = MotherForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            mother = services.mother_register(tag_id=data["tag_id"], name=data["name"], ward_id=data["ward"].pk,
                                              user=_user(request))
        except SecurityRefused as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{mother} wears tag {data['tag_id']} for match checks.")
            return redirect("security_infants")
    return _infants_page(request, bound={"mother": form}, status=400)


def _done(request: HttpRequest, work: Any, success: str) -> HttpResponse:
    """Run a service call; its refusal (or a bad form) becomes an error message. Back to the infants page."""
    try:
        work()
    except SecurityRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect("security_infants")


def _form_errors(request: HttpRequest, form: Any) -> HttpResponse:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label + ': ' if label else ''}{' '.join(errors)}")
    return redirect("security_infants")


def _visible_infant(request: HttpRequest, infant_id: int) -> Any:
    infant = infants_list(user=request.user).filter(pk=infant_id).first()
    if infant is None:
        raise Http404("no such protected infant on your floors")
    return infant


@login_required
@require_POST
@permission_required([VIEW_INFANTS, "security.add_escortpass"], raise_exception=True)
def escort_start(request: HttpRequest, infant_id: int) -> HttpResponse:
    infant = _visible_infant(request, infant_id)
    form = EscortForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, form)
    data = form.cleaned_data
    return _done(request, lambda: services.escort_start(
        infant_id=infant.pk, user=_user(request), destination=data["destination"], reason=data["reason"],
        minutes=data["minutes"]), f"{infant} may leave for {data['destination']} for {data['minutes']} min.")


@login_required
@require_POST
@permission_required([VIEW_INFANTS, "security.change_escortpass"], raise_exception=True)
def escort_end(request: HttpRequest, infant_id: int) -> HttpResponse:
    infant = _visible_infant(request, infant_id)
    form = NoteForm(request.POST)
    escort = escort_open(infant_id=infant.pk)
    if not form.is_valid():
        return _form_errors(request, form)
    if escort is None:
        messages.error(request, f"{infant} has no escort in progress.")
        return redirect("security_infants")
    return _done(request, lambda: services.escort_end(escort_id=escort.pk, user=_user(request),
                                                      note=form.cleaned_data["note"]),
                 f"{infant} is back: exit alarms armed again.")


_DISCHARGE: Final[dict[str, tuple[str, Callable[[int, User, str], Any]]]] = {
    "request": ("Discharge requested for {infant}: a second person must confirm it.",
                lambda pk, user, reason: services.infant_discharge_request(infant_id=pk, user=user, reason=reason)),
    "confirm": ("{infant} is discharged: protection ended.",
                lambda pk, user, reason: services.infant_discharge_confirm(infant_id=pk, user=user)),
    "cancel": ("Discharge request for {infant} cancelled: still protected.",
               lambda pk, user, reason: services.infant_discharge_cancel(infant_id=pk, user=user)),
}


@login_required
@require_POST
@permission_required([VIEW_INFANTS, "security.discharge_infant"], raise_exception=True)
def infant_discharge(request: HttpRequest, infant_id: int, action: str) -> HttpResponse:
    if action not in _DISCHARGE:
        raise Http404(f"no discharge action {action!r}")
    infant = _visible_infant(request, infant_id)
    form = DischargeForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, form)
    reason = form.cleaned_data["reason"]
    if action == "request" and not reason:
        messages.error(request, "Give the reason for the discharge.")
        return redirect("security_infants")
    success, work = _DISCHARGE[action]
    return _done(request, lambda: work(infant.pk, _user(request), reason), success.format(infant=infant))


@login_required
@require_POST
@permission_required([VIEW_INFANTS, "security.add_matchcheck"], raise_exception=True)
def match_check(request: HttpRequest) -> HttpResponse:
    form = MatchCheckForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, form)
    mother, infant = form.cleaned_data["mother"], form.cleaned_data["infant"]
    try:
        check = services.match_record(mother_id=mother.pk, infant_id=infant.pk, how=MatchCheck.How.MANUAL,
                                      at=timezone.now(), user=_user(request))
    except SecurityRefused as error:
        messages.error(request, str(error))
    else:
        if check.result == MatchCheck.Result.MATCH:
            messages.success(request, f"{infant} and {mother} match.")
        else:
            messages.error(request, f"MISMATCH: {infant} is not {mother}'s infant. Security has been alerted.")
    return redirect("security_infants")


# ---- the access log --------------------------------------------------------------------------------------


@login_required
@permission_required("security.view_locationaccess", raise_exception=True)
def access_log_page(request: HttpRequest) -> HttpResponse:
    form = AccessFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {"username": data["user"], "infant_id": data["infant"].pk if data["infant"] else None,
                   "via": data["via"], "since": data["since"], "until": data["until"]}
    page = Paginator(access_log(**filters), ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "security/access_log.html", {"form": form, "page": page, "query": query.urlencode()})
