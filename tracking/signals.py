"""Tracking's outgoing signal: someone was shown where tags are.

`locations_viewed(sender, user, tag_ids, via, detail, remote_addr)` is sent by the location API (locations,
search, nearest, trail, tag detail) and by the floor websocket's snapshot on connect. Tracking does not know
which tags matter to whom; a receiver does (security.access logs the views of protected infants). `tag_ids`
are the tags' codes as the answers carry them, so no sender looks anything up to send it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from django.dispatch import Signal

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

# how a location was seen (the values of security.models.LocationAccess.Via)
VIA_API: Final = "api"
VIA_TRAIL: Final = "trail"
VIA_FLOOR_MAP: Final = "floor_map"

locations_viewed = Signal()


def locations_seen(*, sender: Any, user: Any, tag_ids: Iterable[str], via: str, detail: str = "",
                   remote_addr: str | None = None) -> None:
    """Send `locations_viewed` for the tags shown (nothing when none). A receiver that fails is logged and
    never stops the answer: showing a location in an emergency comes before recording that it was shown."""
    tags = sorted({tag for tag in tag_ids if tag})
    if not tags:
        return
    # send_robust: a receiver's error is logged by Django (django.dispatch) and returned, never raised
    locations_viewed.send_robust(sender=sender, user=user, tag_ids=tags, via=via, detail=detail[:200],
                                 remote_addr=remote_addr)


def request_seen(view: APIView, request: Request, tag_ids: Iterable[str], *, via: str = VIA_API) -> None:
    """`locations_seen` for a REST answer (sender: the view's class): the request's user and address, and
    the path asked as the detail."""
    locations_seen(sender=type(view), user=request.user, tag_ids=tag_ids, via=via,
                   detail=request.get_full_path(), remote_addr=request.META.get("REMOTE_ADDR"))
