"""Nurses' pages: the ward chooser, the ward infusion board, a bag's custody timeline, and the charge
nurse's manual admit / transfer / discharge.

The board and the bag page are drawn by static/infusion/*.js from the REST API (docs/infusion.md) and the
alert stream (ws/alerts/, static/alerts/alert_feed.js); these views check who may open what and hand the
page its configuration. The patient forms post here and go through infusion.services, like the ADT feed.

Who sees which ward is infusion.selectors.wards_visible, the same rule as the API's: a charge nurse or an
administrator every ward, a nurse the wards on the floors of their scope (tracking.access).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from floorplans.models import Zone
from infusion import services
from infusion.exceptions import BedNotFound, BedOccupied, PatientNotAdmitted, PatientNotFound
from infusion.forms import AdmitForm, DischargeForm, TransferForm
from infusion.models import InfusionBag
from infusion.selectors import ANY_WARD_PERMISSION, bag_get, wards_visible

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

logger = logging.getLogger(__name__)

BOARD_PERMISSION: Final = "infusion.view_infusionbag"
MANAGE_PATIENTS_PERMISSION: Final = "infusion.change_patient"
POLL_EVERY_S: Final = 5  # the board re-reads the API this often; alerts arrive at once over the websocket
STALE_AFTER_S: Final = 20  # no successful read for longer: the board says its numbers may be out of date

# the REST API and websocket the pages call ({name} is filled in by the page)
URLS: Final = {
    "board": "/api/infusion/wards/{ward}/board/",
    "scan": "/api/infusion/scan/{tag}/",
    "bag": "/api/infusion/bags/{bag}/",
    "action": "/api/infusion/bags/{bag}/{action}/",
    "timeline": "/api/infusion/bags/{bag}/timeline/",
    "fhir": "/api/infusion/bags/{bag}/fhir/",
    "acknowledge": "/api/alerts/{alert}/acknowledge/",
    "bag_page": "/infusion/bags/{bag}/",
}

S = InfusionBag.Status
# what a nurse can do to a bag from the board: (action of the API, button label, what the panel asks
# first: a rate, a note, a confirmation or nothing; the status it leads to, None for "rate", which
# changes the running bag without a transition)
ACTIONS: Final[tuple[tuple[str, str, str, str | None], ...]] = (
    ("start", "Start", "rate", S.INFUSING),
    ("resume", "Resume", "", S.INFUSING),
    ("pause", "Pause", "", S.PAUSED),
    ("rate", "Change rate", "rate", None),
    ("complete", "Complete", "confirm", S.COMPLETED),
    ("discontinue", "Discontinue", "note", S.DISCONTINUED),
    ("return", "Return to pharmacy", "confirm", S.RETURNED),
    ("waste", "Waste", "note", S.WASTED),
)


def actions_allowed(status: str) -> list[str]:
    """The board's actions for a bag in `status`, read off InfusionBag.TRANSITIONS (the one table)."""
    targets = InfusionBag.TRANSITIONS.get(status, ())
    allowed = []
    for name, _, _, target in ACTIONS:
        if name == "rate":
            ok = status in InfusionBag.RUNNING
        elif name in ("start", "resume"):  # both lead to infusing: resume is from paused, start from before
            ok = target in targets and (status == S.PAUSED) == (name == "resume")
        else:
            ok = target in targets
        if ok:
            allowed.append(name)
    return allowed


def _ward(request: HttpRequest, ward_id: int) -> Zone:
    ward = get_object_or_404(Zone.objects.select_related("floor__building"), pk=ward_id, kind=Zone.Kind.WARD)
    if not wards_visible(user=request.user).filter(pk=ward.pk).exists():
        raise PermissionDenied("this ward is not yours")
    return ward


def _ward_ids_for_transfer(user: AnyUser) -> list[int] | None:
    if isinstance(user, User) and user.has_perm(ANY_WARD_PERMISSION):
        return None
    return list(wards_visible(user=user).values_list("pk", flat=True))


@login_required
@permission_required(BOARD_PERMISSION, raise_exception=True)
def ward_list(request: HttpRequest) -> HttpResponse:
    """Choose a ward; with only one, go straight to its board."""
    wards = list(
        wards_visible(user=request.user)
        .annotate(
            bed_count=Count("ward_members", filter=Q(ward_members__kind=Zone.Kind.BED), distinct=True),
            patient_count=Count("ward_patients", filter=Q(ward_patients__discharged_at__isnull=True,
                                                          ward_patients__bed__isnull=False), distinct=True),
            running_count=Count("ward_bags", filter=Q(ward_bags__status__in=InfusionBag.RUNNING), distinct=True),
        )
        .order_by("floor__building__name", "floor__level", "name")
    )
    if len(wards) == 1:
        return redirect("infusion_board", ward_id=wards[0].pk)
    return render(request, "infusion/ward_list.html", {"wards": wards})


@login_required
@permission_required(BOARD_PERMISSION, raise_exception=True)
def ward_board(request: HttpRequest, ward_id: int) -> HttpResponse:
    return _board(request, _ward(request, ward_id))


def _board(request: HttpRequest, ward: Zone, *, bound: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    """The board page; `bound` holds a posted form that failed (shown open, with its errors)."""
    user = request.user
    manage = user.has_perm(MANAGE_PATIENTS_PERMISSION)
    forms: dict[str, Any] = {}
    if manage:
        forms = {
            "admit": AdmitForm(ward=ward),
            "transfer": TransferForm(ward=ward, ward_ids=_ward_ids_for_transfer(user)),
            "discharge": DischargeForm(ward=ward),
            **(bound or {}),
        }
    config = {
        "ward": {"id": ward.pk, "code": ward.code, "name": ward.name, "floor": ward.floor_id},
        "urls": {**URLS, "login": reverse("login")},
        "csrf": get_token(request),
        "poll_every_s": POLL_EVERY_S,
        "stale_after_s": STALE_AFTER_S,
        "actions": [{"name": n, "label": label, "asks": asks} for n, label, asks, _ in ACTIONS],
        "allowed": {status: actions_allowed(status) for status in S.values},
        "statuses": dict(S.choices),
        "can_manage_patients": manage,
    }
    other_wards = wards_visible(user=user).exclude(pk=ward.pk).order_by("name")
    context = {"ward": ward, "config": config, "forms": forms, "other_wards": other_wards}
    return render(request, "infusion/ward_board.html", context, status=status)


# ---- manual admit / transfer / discharge (the charge nurse's forms on the board) ----

# what the patient services refuse with, in words for the form
_REFUSED = (BedOccupied, BedNotFound, PatientNotFound, PatientNotAdmitted)


@login_required
@require_POST
@permission_required(["infusion.add_patient", MANAGE_PATIENTS_PERMISSION], raise_exception=True)
def patient_admit(request: HttpRequest, ward_id: int) -> HttpResponse:
    ward = _ward(request, ward_id)
    form = AdmitForm(request.POST, ward=ward)
    if form.is_valid():
        data = form.cleaned_data
        try:
            patient = services.patient_admit(
                mrn=data["mrn"], family_name=data["family_name"], given_name=data["given_name"], bed=data["bed"],
                birth_date=data["birth_date"], sex=data["sex"],
            )
        except _REFUSED as error:
            form.add_error(None, str(error))
        else:
            logger.info("%s admitted %s into %s", request.user, patient.mrn, data["bed"].code)
            messages.success(request, f"{patient.family_name}, {patient.given_name} admitted to {data['bed'].name}.")
            return redirect("infusion_board", ward_id=ward.pk)
    return _board(request, ward, bound={"admit": form}, status=400)


@login_required
@require_POST
@permission_required(MANAGE_PATIENTS_PERMISSION, raise_exception=True)
def patient_transfer(request: HttpRequest, ward_id: int) -> HttpResponse:
    ward = _ward(request, ward_id)
    form = TransferForm(request.POST, ward=ward, ward_ids=_ward_ids_for_transfer(request.user))
    if form.is_valid():
        patient, bed = form.cleaned_data["patient"], form.cleaned_data["bed"]
        try:
            services.patient_transfer(mrn=patient.mrn, bed=bed)
        except _REFUSED as error:
            form.add_error(None, str(error))
        else:
            logger.info("%s moved %s to %s", request.user, patient.mrn, bed.code)
            messages.success(request, f"{patient.family_name}, {patient.given_name} moved to {bed.name}.")
            return redirect("infusion_board", ward_id=ward.pk)
    return _board(request, ward, bound={"transfer": form}, status=400)


@login_required
@require_POST
@permission_required(MANAGE_PATIENTS_PERMISSION, raise_exception=True)
def patient_discharge(request: HttpRequest, ward_id: int) -> HttpResponse:
    ward = _ward(request, ward_id)
    form = DischargeForm(request.POST, ward=ward)
    if form.is_valid():
        patient = form.cleaned_data["patient"]
        try:
            services.patient_discharge(mrn=patient.mrn)
        except _REFUSED as error:
            form.add_error(None, str(error))
        else:
            logger.info("%s discharged %s", request.user, patient.mrn)
            messages.success(request, f"{patient.family_name}, {patient.given_name} discharged.")
            return redirect("infusion_board", ward_id=ward.pk)
    return _board(request, ward, bound={"discharge": form}, status=400)


# ---- one bag: its panel of actions and its custody timeline ----

@login_required
@permission_required(["infusion.view_infusionbag", "infusion.view_bagevent"], raise_exception=True)
def bag_detail(request: HttpRequest, bag_id: int) -> HttpResponse:
    try:  # a bag of a ward the user may not see is "not found", as in the API (ids do not leak)
        bag = bag_get(user=request.user, bag_id=bag_id)
    except InfusionBag.DoesNotExist:
        raise Http404("no such bag on your wards") from None
    ward_id = bag.ward_id or bag.patient.ward_id
    tag = bag.tracked_object.tag
    config = {
        "bag": bag.pk,
        "ward": ward_id,
        "urls": {**URLS, "login": reverse("login"),
                 "board": reverse("infusion_board", args=[ward_id]) if ward_id is not None else None},
        "csrf": get_token(request),
        "actions": [{"name": n, "label": label, "asks": asks} for n, label, asks, _ in ACTIONS],
        "allowed": {status: actions_allowed(status) for status in S.values},
        "statuses": dict(S.choices),
    }
    context = {"bag": bag, "tag_id": tag.tag_id if tag is not None else "", "config": config,
               "fhir_url": URLS["fhir"].format(bag=bag.pk)}
    return render(request, "infusion/bag_detail.html", context)
