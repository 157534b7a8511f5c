"""The access log: who was shown a protected infant's location, when, and through what.

Every location answer of the tracking API and every floor websocket's first snapshot send
`tracking.signals.locations_viewed` with the tags they showed; the security pages (the infants page, the
incident report) call `location_views_record` themselves. One view writes one LocationAccess row per
protected infant it showed, in one bulk insert; a view that showed no protected infant writes nothing (the
check is a dict lookup in the armed-infant cache, no query).

The floor websocket is logged once per connection, for the infants of its snapshot; the frames after it
(about one a second) are not, nor are infants who walk onto the floor later while the map stays open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.dispatch import receiver
from django.utils import timezone

from security.models import Infant, LocationAccess
from security.selectors import armed_infants
from tracking.signals import locations_viewed

logger = logging.getLogger(__name__)

Via = LocationAccess.Via


def protected_by_tag() -> dict[str, int]:
    """Tag code -> infant id of every protected infant (from the selectors' in-process cache)."""
    return {armed.tag_id: armed.infant_id for armed in armed_infants().values()}


def location_views_record(*, user: Any, tag_ids: Iterable[str] = (), infant_ids: Iterable[int] = (), via: str,
                          detail: str = "", remote_addr: str | None = None, at: datetime | None = None) -> int:
    """Log that `user` was shown where these tags (or infants) are; returns the rows written.

    Tags are logged when they are a protected infant's (a cache lookup, no query); `infant_ids` are logged
    whatever the infant's state (a page about an incident shows where a since-discharged infant was).
    Each infant once per call.
    """
    if via not in Via.values:
        raise ValueError(f"via {via!r} is not one of {Via.values}")
    by_tag = protected_by_tag()
    infants: dict[int, str] = {by_tag[tag]: tag for tag in tag_ids if tag in by_tag}
    wanted = sorted(set(infant_ids) - set(infants))
    if wanted:
        rows = Infant.objects.filter(pk__in=wanted).values_list("pk", "tracked_object__tag__tag_id")
        infants.update({pk: tag or "" for pk, tag in rows})
    if not infants:
        return 0
    person = user if isinstance(user, User) and user.pk is not None else None
    now = at or timezone.now()
    LocationAccess.objects.bulk_create(
        LocationAccess(user=person, username=person.get_username() if person else "", infant_id=infant_id,
                       tag_id=tag, at=now, via=via, detail=detail[:200], remote_addr=remote_addr or None)
        for infant_id, tag in sorted(infants.items())
    )
    return len(infants)


@receiver(locations_viewed, dispatch_uid="security.access.locations_viewed")
def on_locations_viewed(sender: Any, *, user: Any, tag_ids: list[str], via: str, detail: str = "",
                        remote_addr: str | None = None, **kwargs: Any) -> None:
    """tracking told us what it showed: log the protected infants among it."""
    written = location_views_record(user=user, tag_ids=tag_ids, via=via, detail=detail, remote_addr=remote_addr)
    if written:
        logger.debug("%s was shown %d protected infant(s) via %s", user, written, via)
