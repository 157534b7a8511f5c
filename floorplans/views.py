"""Pages: the floors a user may see, one floor's plan with its zones, and the plan image itself."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from floorplans.models import Floor, Zone
from readers.models import Reader

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
