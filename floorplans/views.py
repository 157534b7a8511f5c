"""Pages: the floors a user may see, one floor's plan with its zones, the plan image, and the live floor map."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from floorplans.models import Door, Floor, Zone
from readers.models import Reader
from tracking.access import floor_ids_visible
from tracking.models import Asset

logger = logging.getLogger(__name__)

_OUTLINED_KINDS = {"ward"}  # drawn as an outline only, so rooms inside stay clickable


@login_required
@permission_required("floorplans.view_floor", raise_exception=True)
def floor_list(request: HttpRequest) -> HttpResponse:
    floors = (
        Floor.objects.select_related("building__site")
        .annotate(
            zone_count=Count("zones", distinct=True),
            bed_count=Count("zones", filter=Q(zones__kind=Zone.Kind.BED), distinct=True),
            exit_count=Count("doors", filter=Q(doors__is_exit=True), distinct=True),
            reader_count=Count("readers", distinct=True),
        )
        .order_by("building__site__code", "building__code", "level")
    )
    return render(request, "floorplans/floor_list.html", {"floors": floors})


@login_required
@permission_required("floorplans.view_floor", raise_exception=True)
def floor_detail(request: HttpRequest, floor_id: int) -> HttpResponse:
    floor = get_object_or_404(Floor.objects.select_related("building__site"), pk=floor_id)
    zones = list(Zone.objects.filter(floor=floor).select_related("ward").order_by("kind", "code"))
    readers = list(Reader.objects.filter(floor=floor).order_by("kind", "code"))
    context: dict[str, Any] = {
        "floor": floor,
        "floors": Floor.objects.filter(building=floor.building).order_by("level"),
        "zones": zones,
        "readers": readers if request.user.has_perm("readers.view_reader") else [],
        "kinds": sorted({zone.get_kind_display() for zone in zones}),
        "overlay": _overlay(floor, zones, readers if request.user.has_perm("readers.view_reader") else []),
    }
    return render(request, "floorplans/floor_detail.html", context)


def _overlay(floor: Floor, zones: list[Zone], readers: list[Reader]) -> dict[str, Any] | None:
    """Zone polygons and reader dots in plan-image pixels, for the clickable SVG over the plan."""
    affine = floor.affine
    if affine is None or not floor.plan_image:
        return None
    shapes = []
    for zone in sorted(zones, key=lambda z: -z.polygon.area):
        pixels = affine.metres_to_pixels(np.asarray(zone.polygon.exterior_ring.coords))
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in pixels)
        shapes.append({"zone": zone, "points": points, "outline": zone.kind in _OUTLINED_KINDS})
    dots = []
    if readers:
        pixels = affine.metres_to_pixels(np.array([[r.position.x, r.position.y] for r in readers]))
        dots = [{"reader": r, "px": px, "py": py} for r, (px, py) in zip(readers, pixels, strict=True)]
    return {"width": floor.plan_image.width, "height": floor.plan_image.height, "zones": shapes, "readers": dots}


@login_required
@permission_required("floorplans.view_floor", raise_exception=True)
def floor_plan_image(request: HttpRequest, floor_id: int) -> FileResponse:
    floor = get_object_or_404(Floor, pk=floor_id)
    if not floor.plan_image:
        raise Http404("this floor has no plan image")
    return FileResponse(floor.plan_image.open("rb"))  # content type from the file name (.png / .jpg)


# ---- the live floor map (static/floormap/*.js draws it; the websocket and the tracking API feed it) ----

LAST_FLOOR_SESSION_KEY = "floormap_floor_id"
_UNLABELLED_KINDS = {"ward", "bed", "corridor", "toilet"}  # named in their tooltip only, so labels do not crowd
_AXIS_TOLERANCE = 1e-6  # |b|, |d| of a plan affine below this (relative): the image is not rotated

# the paths the map's modules call (the tracking API and websocket of docs/realtime.md)
_MAP_URLS = {
    "search": "/api/search/",
    "nearest": "/api/nearest/",
    "trail": "/api/tags/{tag}/trail/",
    "object": "/api/tracked-objects/{object}/",
    "socket": "/ws/floors/{floor}/",
}


def _map_floors(user: Any) -> list[Floor]:
    """The floors whose live positions the user may watch, building by building, level by level."""
    visible = floor_ids_visible(user=user)
    floors = Floor.objects.select_related("building__site").order_by(
        "building__site__code", "building__code", "level"
    )
    return list(floors if visible is None else floors.filter(pk__in=sorted(visible)))


def _map_floor(request: HttpRequest, floor_id: int) -> tuple[Floor, list[Floor]]:
    """The floor asked for and all the user may watch; 404 if it does not exist, 403 if not theirs."""
    floor = get_object_or_404(Floor.objects.select_related("building__site"), pk=floor_id)
    floors = _map_floors(request.user)
    if floor.pk not in {f.pk for f in floors}:
        raise PermissionDenied("you may not watch this floor")
    request.session[LAST_FLOOR_SESSION_KEY] = floor.pk  # /map/ reopens it
    return floor, floors


@login_required
@permission_required("floorplans.view_floor", raise_exception=True)
def map_home(request: HttpRequest) -> HttpResponse:
    """The live map of the floor this user looked at last (else their first floor)."""
    floor_ids = [floor.pk for floor in _map_floors(request.user)]
    if not floor_ids:
        return render(request, "floorplans/floor_map_none.html", status=403)
    last = request.session.get(LAST_FLOOR_SESSION_KEY)
    return redirect("floor_map", floor_id=last if last in floor_ids else floor_ids[0])


@login_required
@permission_required("floorplans.view_floor", raise_exception=True)
def floor_map(request: HttpRequest, floor_id: int) -> HttpResponse:
    floor, floors = _map_floor(request, floor_id)
    config = {
        "floor": floor.pk,
        "floors": [_floor_entry(other) for other in floors],
        "urls": {**_MAP_URLS, "login": reverse("login")},
        "categories": [{"value": value, "label": str(label)} for value, label in Asset.Category.choices],
        "can_trail": request.user.has_perm("tracking.view_locationhistory"),
        "stale_after_s": 15,  # no message at all (heartbeats included) for longer: the banner
        "old_after_s": 120,  # a marker not seen for longer is greyed
    }
    return render(request, "floorplans/floor_map.html", {"floor": floor, "floors": floors, "config": config})


@login_required
@permission_required("floorplans.view_floor", raise_exception=True)
def floor_map_data(request: HttpRequest, floor_id: int) -> JsonResponse:
    """What the map draws under the markers, in floor metres: plan image bounds, zones, doors, readers."""
    floor, _ = _map_floor(request, floor_id)
    zones = sorted(Zone.objects.filter(floor=floor), key=lambda z: -z.polygon.area)  # small ones on top
    doors = Door.objects.filter(floor=floor).order_by("code")
    see_readers = request.user.has_perm("readers.view_reader")
    readers = Reader.objects.filter(floor=floor).order_by("code") if see_readers else Reader.objects.none()
    return JsonResponse({
        **_floor_entry(floor),
        "width_m": floor.width_m,
        "height_m": floor.height_m,
        "plan": _plan_layer(floor),
        "zones": [_zone_entry(zone) for zone in zones],
        "doors": [{"code": d.code, "name": d.name, "is_exit": d.is_exit, "line": _coords(d.line.coords)}
                  for d in doors],
        "readers": [{"code": r.code, "name": r.name, "kind": r.kind, "x_m": r.position.x, "y_m": r.position.y}
                    for r in readers],
    })


def _floor_entry(floor: Floor) -> dict[str, Any]:
    return {
        "id": floor.pk, "name": floor.name, "level": floor.level, "building": floor.building.name,
        "url": reverse("floor_map", args=[floor.pk]), "data_url": reverse("floor_map_data", args=[floor.pk]),
    }


def _coords(points: Any) -> list[list[float]]:
    return [[round(x, 3), round(y, 3)] for x, y in points]


def _zone_entry(zone: Zone) -> dict[str, Any]:
    label_at = zone.polygon.point_on_surface  # inside even for an L-shaped room, unlike the centroid
    return {
        "id": zone.pk, "code": zone.code, "name": zone.name, "kind": zone.kind,
        "rings": [_coords(ring.coords) for ring in zone.polygon],
        "label": None if zone.kind in _UNLABELLED_KINDS else [round(label_at.x, 3), round(label_at.y, 3)],
    }


def _plan_layer(floor: Floor) -> dict[str, Any] | None:
    """The plan image and where its corners lie in floor metres ([[y_min, x_min], [y_max, x_max]], Leaflet order).

    None when there is no calibrated image, or when the image is rotated against the floor (an image
    overlay is an axis-aligned rectangle): the map then draws the zones alone.
    """
    affine = floor.affine
    if affine is None or not floor.plan_image:
        return None
    scale = max(abs(affine.a), abs(affine.e))
    if abs(affine.b) > _AXIS_TOLERANCE * scale or abs(affine.d) > _AXIS_TOLERANCE * scale:
        logger.warning("floor %s: plan image rotated against the floor; the map shows it without the image", floor.pk)
        return None
    width_px, height_px = floor.plan_image.width, floor.plan_image.height
    (x0, y0), (x1, y1) = affine.pixels_to_metres(np.array([[0.0, 0.0], [width_px, height_px]]))
    return {
        "url": reverse("floor_plan_image", args=[floor.pk]),
        "bounds": [[round(min(y0, y1), 4), round(min(x0, x1), 4)], [round(max(y0, y1), 4), round(max(x0, x1), 4)]],
    }
