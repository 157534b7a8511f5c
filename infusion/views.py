"""Nurses' pages: the ward chooser, the ward infusion board, a bag's custody timeline, and the charge
nurse's manual admit / transfer / discharge. The pharmacy's page: label bags, dispense them, print labels.

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
from infusion import bags, services
from infusion.exceptions import BagError, BedNotFound, BedOccupied, PatientNotAdmitted, PatientNotFound
from infusion.forms import AdmitForm, BagLabelForm, DischargeForm, TransferForm
from infusion.models import InfusionBag
from infusion.selectors import (
    ANY_WARD_PERMISSION,
    bag_get,
    bag_registered_event,
    patients_admitted,
    pharmacy_bag_get,
    pharmacy_queue,
    wards_visible,
)

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


# ---- the pharmacy: label bags, dispense them, print their labels (hospital-wide, every ward) ----

PHARMACY_PERMISSION: Final = "infusion.add_infusionbag"  # the pharmacy's: label a bag, and dispense it
PHARMACY_POLL_EVERY_S: Final = 5  # the queue re-reads its rows this often


def _pharmacist(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required has let only a real user through
        raise PermissionDenied("log in first")
    return request.user


def _pharmacy_page(request: HttpRequest, *, form: BagLabelForm | None = None, status: int = 200) -> HttpResponse:
    """The page; `form` is a posted label form that was refused (shown with its errors and what was typed)."""
    config = {"urls": {"queue": reverse("infusion_pharmacy_queue"), "login": reverse("login")},
              "poll_every_s": PHARMACY_POLL_EVERY_S, "stale_after_s": 4 * PHARMACY_POLL_EVERY_S}
    context = {"form": form or BagLabelForm(), "patients": patients_admitted(), "queue": pharmacy_queue(),
               "labelled": _labelled(request), "config": config}
    return render(request, "infusion/pharmacy.html", context, status=status)


def _labelled(request: HttpRequest) -> InfusionBag | None:
    """The bag just labelled (?labelled=<id>): the page puts its label one click away."""
    bag_id = request.GET.get("labelled", "")
    try:
        return pharmacy_bag_get(bag_id=int(bag_id)) if bag_id.isdigit() else None
    except InfusionBag.DoesNotExist:
        return None


@login_required
@permission_required(PHARMACY_PERMISSION, raise_exception=True)
def pharmacy(request: HttpRequest) -> HttpResponse:
    return _pharmacy_page(request)


@login_required
@permission_required(PHARMACY_PERMISSION, raise_exception=True)
def pharmacy_queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue alone, for the page to re-read every few seconds."""
    return render(request, "infusion/_pharmacy_queue.html", {"queue": pharmacy_queue()})


@login_required
@require_POST
@permission_required(PHARMACY_PERMISSION, raise_exception=True)
def pharmacy_label(request: HttpRequest) -> HttpResponse:
    """Label (register) a bag; a refusal is shown next to the field it is about."""
    form = BagLabelForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            bag = bags.bag_register(
                tag_id=data["tag_id"], patient_mrn=data["patient"], drug=data["drug"],
                concentration=data["concentration"], volume_ml=data["volume_ml"],
                ordered_rate_ml_h=data["ordered_rate_ml_h"], lot=data["lot"], expires_at=data["expires_at"],
                user=_pharmacist(request))
        except BagError as error:
            form.add_refusal(error)
        else:
            logger.info("%s labelled bag %s (tag %s) for %s", request.user, bag.pk, data["tag_id"], data["patient"])
            return redirect(f"{reverse('infusion_pharmacy')}?labelled={bag.pk}")
    return _pharmacy_page(request, form=form, status=400)


@login_required
@require_POST
@permission_required(PHARMACY_PERMISSION, raise_exception=True)
def pharmacy_dispense(request: HttpRequest) -> HttpResponse:
    """Dispense one bag (the row's button: `one`) or every ticked one (`bag`). Each is its own transaction:
    a bag refused (expired, already dispensed) is named with the reason and does not hold the others back."""
    raw = [request.POST["one"]] if request.POST.get("one") else request.POST.getlist("bag")
    bag_ids = sorted({int(value) for value in raw if value.strip().isdigit()})
    if not bag_ids:
        messages.error(request, "Tick the bags to dispense first.")
        return redirect("infusion_pharmacy")
    user, sent = _pharmacist(request), []
    for bag_id in bag_ids:
        try:
            bag = bags.bag_dispense(bag_id=bag_id, user=user)
        except (BagError, InfusionBag.DoesNotExist) as error:
            messages.error(request, f"Bag {bag_id} was not dispensed: {error}")
        else:
            sent.append(f"bag {bag.pk} ({bag.drug} for {bag.patient.family_name}, {bag.patient.given_name})")
    if sent:
        logger.info("%s dispensed %s", request.user, ", ".join(sent))
        messages.success(request, f"Dispensed {', '.join(sent)}.")
    return redirect("infusion_pharmacy")


@login_required
@permission_required(PHARMACY_PERMISSION, raise_exception=True)
def pharmacy_bag_label(request: HttpRequest, bag_id: int) -> HttpResponse:
    """A bag's printable label."""
    try:
        bag = pharmacy_bag_get(bag_id=bag_id)
    except InfusionBag.DoesNotExist:
        raise Http404(f"no bag {bag_id}") from None
    tag = bag.tracked_object.tag
    context = {"bag": bag, "tag_id": tag.tag_id if tag is not None else "", "ward": bag.ward or bag.patient.ward,
               "registered": bag_registered_event(bag=bag)}
    return render(request, "infusion/pharmacy_label.html", context)
