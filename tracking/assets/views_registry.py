"""The registry pages for biomedical engineers (nurses read them to find equipment): the list with its
filters, one asset, the CSV import (upload, dry-run preview with the row errors, then import), the CSV
export, nearest available, and an asset's trail as an image. The registry package and finding.py decide;
these views check who may do what and translate.

An uploaded file waits between the preview and the import in the default storage (asset-imports/), named
by a random token the session holds; the import reads it again and checks every row again, in the same
transaction as the writes. Waiting files older than STAGED_MAX_AGE are removed at the next upload.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from floorplans.models import Floor, Zone
from tracking.access import can_watch_floor
from tracking.assets.finding import asset_place, asset_places, assets_nearest_available, place_hidden
from tracking.assets.registry import COLUMNS, ImportFileError, ImportReport, assets_import_csv, export_lines
from tracking.assets.registry.forms import AssetFilterForm, ImportUploadForm, NearestForm, StatusForm
from tracking.assets.registry.selectors import asset_status_history, asset_verifications, assets_filtered, pm_state
from tracking.assets.registry.trail_chart import Outline, trail_png
from tracking.models import Asset, AssetStatusChange
from tracking.selectors.history import tag_trail

logger = logging.getLogger(__name__)

VIEW: Final = "tracking.view_asset"
IMPORT: Final = ("tracking.add_asset", "tracking.change_asset")
PAGE_SIZE: Final = 50
PREVIEW_ROWS: Final = 200  # the preview lists this many rows' changes (the counts cover all)
STAGED_DIR: Final = "asset-imports"
STAGED_MAX_AGE: Final = timedelta(days=1)
SESSION_KEY: Final = "asset_import_staged"
TRAIL_HOURS: Final = (1, 8, 24, 72)
SAMPLE_CSV: Final = Path(settings.BASE_DIR) / "floorplans" / "demo" / "assets_sample.csv"
_UNLABELLED: Final = {Zone.Kind.WARD, Zone.Kind.BED, Zone.Kind.CORRIDOR, Zone.Kind.TOILET}


@login_required
@permission_required(VIEW, raise_exception=True)
def asset_list(request: HttpRequest) -> HttpResponse:
    form = AssetFilterForm(request.GET or None)
    today = timezone.localdate()
    page = Paginator(assets_filtered(spec=form.spec(), today=today), PAGE_SIZE).get_page(request.GET.get("page"))
    places = asset_places(user=request.user, asset_ids=[asset.pk for asset in page])
    rows = [{"asset": asset, "place": places.get(asset.pk), "pm": pm_state(asset, today=today)} for asset in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "assets/registry/list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
        "can_import": request.user.has_perms(IMPORT),
    })


def _asset(asset_id: int) -> Asset:
    return get_object_or_404(Asset.objects.select_related("tracked_object__tag", "department", "home_zone"),
                             pk=asset_id)


@login_required
@permission_required(VIEW, raise_exception=True)
def asset_detail(request: HttpRequest, asset_id: int) -> HttpResponse:
    asset = _asset(asset_id)
    user = request.user
    place = asset_place(user=user, asset=asset)
    tag = asset.tracked_object.tag
    return render(request, "assets/registry/detail.html", {
        "asset": asset, "tag": tag, "place": place, "place_hidden": place is None and place_hidden(user=user,
                                                                                                  asset=asset),
        "pm": pm_state(asset, today=timezone.localdate()),
        "history": asset_status_history(asset=asset) if user.has_perm("tracking.view_assetstatuschange") else None,
        "verifications": asset_verifications(asset=asset) if user.has_perm("tracking.view_assetverification")
        else None,
        "status_form": StatusForm(initial={"status": asset.status}) if user.has_perm("tracking.change_asset")
        else None,
        "can_trail": tag is not None and user.has_perms(["tracking.view_locationhistory",
                                                         "tracking.view_currentlocation"]),
        "trail_hours": TRAIL_HOURS,
    })


@login_required
@require_POST
@permission_required("tracking.change_asset", raise_exception=True)
def asset_status_change(request: HttpRequest, asset_id: int) -> HttpResponse:
    from tracking.assets.status import asset_status_set  # lazy: the status module wires the PAR rules

    asset = _asset(asset_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the statuses.")
        return redirect("asset_detail", asset_id=asset.pk)
    change = asset_status_set(asset_id=asset.pk, status=form.cleaned_data["status"],
                              source=AssetStatusChange.Source.MANUAL, user=request.user)
    label = Asset.Status(form.cleaned_data["status"]).label
    if change is None:
        messages.info(request, f"{asset.asset_number} is {label} already.")
    else:
        messages.success(request, f"{asset.asset_number} is now {label}.")
    return redirect("asset_detail", asset_id=asset.pk)


# ---- import: upload -> dry-run preview -> import ----

def _staged_sweep() -> None:
    """Remove waiting uploads older than STAGED_MAX_AGE (abandoned previews)."""
    if not default_storage.exists(STAGED_DIR):
        return
    cutoff = timezone.now() - STAGED_MAX_AGE
    for name in default_storage.listdir(STAGED_DIR)[1]:
        path = f"{STAGED_DIR}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)


def _stage(request: HttpRequest, data: bytes, filename: str) -> str:
    _staged_sweep()
    _unstage(request)
    token = secrets.token_urlsafe(16)
    path = default_storage.save(f"{STAGED_DIR}/{token}.csv", ContentFile(data))
    request.session[SESSION_KEY] = {"token": token, "path": path, "filename": filename}
    return token


def _unstage(request: HttpRequest) -> None:
    staged = request.session.pop(SESSION_KEY, None)
    if staged and default_storage.exists(staged["path"]):
        default_storage.delete(staged["path"])


def _import_page(request: HttpRequest, *, form: ImportUploadForm, report: ImportReport | None = None,
                 file_error: str = "", filename: str = "", token: str = "", status: int = 200) -> HttpResponse:
    return render(request, "assets/registry/import.html", {
        "form": form, "report": report, "file_error": file_error, "filename": filename, "token": token,
        "changes": report.changes[:PREVIEW_ROWS] if report else [], "preview_rows": PREVIEW_ROWS,
        "columns": COLUMNS,
    }, status=status)


@login_required
@permission_required(IMPORT, raise_exception=True)
def asset_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST a file: check it (a dry run) and show the preview. POST `token`: import
    the file the preview showed."""
    if request.method != "POST":
        return _import_page(request, form=ImportUploadForm())
    if "token" in request.POST:
        return _import_confirm(request)
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form=form, status=400)
    upload = form.cleaned_data["file"]
    data = upload.read()
    try:
        report = assets_import_csv(data=data, dry_run=True, user=request.user)
    except ImportFileError as exc:
        return _import_page(request, form=form, file_error=str(exc), filename=upload.name, status=400)
    token = _stage(request, data, upload.name) if report.ok and report.rows else ""
    return _import_page(request, form=ImportUploadForm(), report=report, filename=upload.name, token=token,
                        status=200 if report.ok else 400)


def _import_confirm(request: HttpRequest) -> HttpResponse:
    staged = request.session.get(SESSION_KEY)
    if not staged or not secrets.compare_digest(staged["token"], request.POST["token"]) \
            or not default_storage.exists(staged["path"]):
        messages.error(request, "That preview has expired: upload the file again.")
        return redirect("asset_import")
    with default_storage.open(staged["path"], "rb") as file:
        data = file.read()
    try:
        report = assets_import_csv(data=data, dry_run=False, user=request.user)
    except ImportFileError as exc:  # pragma: no cover - the preview read the same bytes
        return _import_page(request, form=ImportUploadForm(), file_error=str(exc), status=400)
    if not report.imported:  # the registry changed since the preview: show what is wrong now
        return _import_page(request, form=ImportUploadForm(), report=report, filename=staged["filename"], status=409)
    _unstage(request)
    logger.info("%s imported %s: %s", request.user, staged["filename"], report.lines()[0])
    messages.success(request, f"Imported {staged['filename']}: {_n(report.created, 'asset')} created, "
                              f"{report.updated} updated, {report.unchanged} unchanged, "
                              f"{_n(report.status_changes, 'status change')}.")
    return redirect("asset_list")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@login_required
@permission_required(IMPORT, raise_exception=True)
def asset_import_sample(request: HttpRequest) -> FileResponse:
    """A small inventory of the demo hospital to try the import with (floorplans/demo/assets_sample.csv)."""
    return FileResponse(SAMPLE_CSV.open("rb"), as_attachment=True, filename="assets_sample.csv",
                        content_type="text/csv")


@login_required
@permission_required(VIEW, raise_exception=True)
def asset_export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The registry as CSV, filtered like the list page (same query string)."""
    form = AssetFilterForm(request.GET or None)
    assets = assets_filtered(spec=form.spec(), today=timezone.localdate())
    response = StreamingHttpResponse(export_lines(assets=assets, user=request.user),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="assets-{timezone.localdate():%Y%m%d}.csv"'
    return response


# ---- finding ----

@login_required
@permission_required([VIEW, "tracking.view_currentlocation"], raise_exception=True)
def asset_nearest(request: HttpRequest) -> HttpResponse:
    form = NearestForm(request.GET or None, user=request.user)
    items: list[dict[str, Any]] | None = None
    zone, category_label = None, ""
    if form.is_valid():
        zone = form.chosen_zone()
        if not can_watch_floor(user=request.user, floor_id=zone.floor_id):  # pragma: no cover - not offered
            raise Http404("no such room on your floors")
        found = assets_nearest_available(user=request.user, category=form.cleaned_data["category"], zone=zone,
                                         limit=form.cleaned_data["limit"] or 10)
        items = [{**item, "seen_at": parse_datetime(item["place"]["seen_at"])} for item in found]
        category_label = Asset.Category(form.cleaned_data["category"]).label
    return render(request, "assets/registry/nearest.html", {"form": form, "items": items, "zone": zone,
                                                            "category_label": category_label})


@login_required
@permission_required([VIEW, "tracking.view_locationhistory", "tracking.view_currentlocation"],
                     raise_exception=True)
def asset_trail_png(request: HttpRequest, asset_id: int) -> HttpResponse:
    """Where the asset went in the last `hours` (1, 8, 24 or 72) on the floor it is on now (or was last)."""
    asset = _asset(asset_id)
    tag = asset.tracked_object.tag
    hours = int(request.GET.get("hours", "24")) if request.GET.get("hours", "24").isdigit() else 0
    if tag is None or hours not in TRAIL_HOURS:
        raise Http404("no tag, or hours not one of " + ", ".join(map(str, TRAIL_HOURS)))
    until = timezone.now()
    trail = tag_trail(user=request.user, tag=tag, since=until - timedelta(hours=hours), until=until, limit=5000)
    place = asset_place(user=request.user, asset=asset)
    floor_id = place.floor if place else (trail["points"][-1]["floor"] if trail["points"] else None)
    if floor_id is None:
        raise Http404("never located on a floor you may watch")
    floor = Floor.objects.get(pk=floor_id)
    points = np.array([[p["x_m"], p["y_m"]] for p in trail["points"] if p["floor"] == floor_id],
                      dtype=float).reshape(-1, 2)
    outlines = [Outline(label="" if zone.kind in _UNLABELLED else zone.code, home=zone.pk == asset.home_zone_id,
                        xy_m=np.asarray(zone.polygon.exterior_ring.coords, dtype=float))
                for zone in Zone.objects.filter(floor=floor).order_by("code")]
    png = trail_png(outlines=outlines, xy_m=points, width_m=floor.width_m, height_m=floor.height_m,
                    title=f"{asset.asset_number} on {floor.name}: last {hours} h ({len(points)} points)")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=30"
    return response
