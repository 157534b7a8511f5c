"""Supervision: an armed infant's band not heard for the supervision period -> security.supervision_lost with
its last place and trail (see security.rules). Registered as the periodic job "security.supervision"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.models import Alert
from security.rules.state import HIGH, STATE, SUPERVISION_LOST, Fix, infant_clear, infant_raise, supervision_s
from security.selectors import armed_infants
from tracking.models import CurrentLocation, LocationHistory
from tracking.selectors.locations import StX, StY

if TYPE_CHECKING:
    from security.selectors import ArmedInfant

SUPERVISION_JOB, SUPERVISION_EVERY_S = "security.supervision", 2.0
TRAIL_S, TRAIL_POINTS = 600.0, 200


def security_supervision(now: datetime) -> int:
    """Raise supervision_lost for armed infants not heard for supervision_s(), clear it for those heard
    again. A band this process never heard of and the database never located is given one whole period
    from the job's first run (at a demo's or a new install's start the pipeline has not located anyone
    yet); a stored last sighting counts as it is. Returns how many alerts changed."""
    infants = armed_infants()
    state = STATE
    with state.lock:
        if state.lost is None:
            state.lost = {int(subject) for subject in Alert.objects.filter(
                kind=SUPERVISION_LOST, state__in=Alert.OPEN_STATES, condition_active=True)
                .values_list("subject_id", flat=True)}
        state.lost &= {infant.infant_id for infant in infants.values()}  # a discharge resolved the others
        stored = {row[0]: row for row in CurrentLocation.objects.filter(tag_id__in=list(infants)).values_list(
            "tag_id", "seen_at", "floor_id", "zone_id", StX("position"), StY("position"))}
        changed = 0
        period_s = supervision_s()
        if state.watch_since_s is None:
            state.watch_since_s = now.timestamp()
        for tag_pk, infant in infants.items():
            row = stored.get(tag_pk)
            heard_s = max(state.heard_s.get(tag_pk, float("-inf")), row[1].timestamp() if row else float("-inf"))
            if heard_s == float("-inf"):  # never located (a fresh database): a full period from the first watch
                heard_s = state.watch_since_s
            silent = now.timestamp() - heard_s > period_s
            if silent and infant.infant_id not in state.lost:
                _supervision_lost(infant, heard_s, row, now, period_s)
                state.lost.add(infant.infant_id)
                changed += 1
            elif not silent and infant.infant_id in state.lost:
                infant_clear(SUPERVISION_LOST, infant, at=now, note="heard again")
                state.lost.discard(infant.infant_id)
                changed += 1
        return changed


def _supervision_lost(infant: ArmedInfant, heard_s: float, row: Any, now: datetime, period_s: float) -> None:
    memory = STATE.last.get(infant.tag_pk)
    fix = memory if memory is not None and (row is None or memory.at_s >= row[1].timestamp()) else (
        Fix(row[2], row[4], row[5], row[3], row[1].timestamp()) if row is not None else None)
    if fix is None:
        title, trail = f"Band not heard: {infant.name} (never located)", []
    else:
        title, trail = f"Band silent: {infant.name}, last seen {fix.at:%H:%M:%S} UTC", _trail(infant.tag_pk, fix)
    message = (f"No signal from the infant's band for more than {period_s:g} s: shielded, removed or out of "
               "range. Check the infant at the last place seen.")
    infant_raise(SUPERVISION_LOST, HIGH, infant, title=title, message=message, at=now,
                 place=fix.place() if fix else None, last_seen_at=fix.at.isoformat() if fix else None,
                 silent_s=round(now.timestamp() - heard_s, 1), trail=trail)


def _trail(tag_pk: int, fix: Fix) -> list[dict[str, Any]]:
    """The TRAIL_S before the last fix (at most TRAIL_POINTS, oldest first), from the location history."""
    until = fix.at + timedelta(seconds=1)
    rows = list(LocationHistory.objects.filter(tag_id=tag_pk, seen_at__gte=until - timedelta(seconds=TRAIL_S),
                                               seen_at__lt=until)
                .order_by("-seen_at").values_list("floor_id", "zone_id", StX("position"), StY("position"),
                                                  "seen_at")[:TRAIL_POINTS])
    return [{"floor_id": f, "zone_id": z, "x_m": round(x, 2), "y_m": round(y, 2), "seen_at": s.isoformat()}
            for f, z, x, y, s in reversed(rows)]
