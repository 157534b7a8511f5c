"""The readers page: every reader, gateway and anchor with its health, for the people who look after them."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from floorplans.models import Floor
from readers.models import Reader

STATES = ("online", "offline", "unknown")


@login_required
@permission_required("readers.view_reader", raise_exception=True)
def reader_list(request: HttpRequest) -> HttpResponse:
    readers = Reader.objects.select_related("floor", "health").order_by("floor__level", "kind", "code")
    floor_id = request.GET.get("floor", "")
    state = request.GET.get("state", "")
    if floor_id.isdigit():
        readers = readers.filter(floor_id=int(floor_id))
    if state in STATES:
        readers = readers.filter(health__state=state) if state != "unknown" else readers.exclude(
            health__state__in=["online", "offline"])
    rows = list(readers)
    counts = Counter(getattr(getattr(r, "health", None), "state", "unknown") for r in rows)
    context = {
        "readers": rows, "floors": Floor.objects.order_by("level"), "floor_id": floor_id, "state": state,
        "states": STATES, "counts": [(s, counts.get(s, 0)) for s in STATES],
    }
    return render(request, "readers/reader_list.html", context)
