"""Tag status: what a band says of itself (strap, battery, button) -> TagState, Tag.battery_pct, the band
alarms of armed infants, a mother tag's low battery and her button's match check (see security.rules)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from alerts.audiences import NURSES, SECURITY
from alerts.models import Alert
from alerts.services import alert_condition_clear, alert_raise
from security.models import TagState
from security.rules.matching import button_pressed
from security.rules.state import (
    CRITICAL,
    INFO,
    LOW_BATTERY,
    STATE,
    STRAP_LOOSE,
    TAMPER,
    WARNING,
    fix_stored,
    infant_clear,
    infant_raise,
)
from security.selectors import armed_infants, armed_mothers
from tracking.models import Tag
from tracking.pipeline.events import LOW_BATTERY_PCT, TagStatusChanged

if TYPE_CHECKING:
    from readers.reads import TagStatus
    from security.selectors import ArmedInfant, ArmedMother


def on_status_changed(event: TagStatusChanged) -> None:
    """A tag said something new about itself. The alarms first (a cut strap must not wait), then the state."""
    infants, mothers = armed_infants(), armed_mothers()
    status, previous = event.status, event.previous
    infant, mother = infants.get(event.tag_pk), mothers.get(event.tag_pk)
    band = infant is not None or mother is not None or status.tamper is not None or status.strap_loose is not None
    if not band and status.battery_pct is None:
        return
    with STATE.lock:
        if infant is not None or mother is not None:
            STATE.heard_s[event.tag_pk] = max(event.at.timestamp(), STATE.heard_s.get(event.tag_pk, 0.0))
        if infant is not None:
            _band_alarms(infant, status, previous, event.at)
        if mother is not None:
            _battery_alarm_mother(mother, status, previous, event.at)
            if status.button and not (previous is not None and previous.button):
                button_pressed(mother, infants, event.at)
        if band:
            tag_state_save(tag_pk=event.tag_pk, status=status, at=event.at)
        elif status.battery_pct is not None:
            Tag.objects.filter(pk=event.tag_pk).update(battery_pct=status.battery_pct)


def strap_of(status: TagStatus) -> str | None:
    """What the status says of the strap (None: nothing)."""
    if status.tamper:
        return TagState.Strap.CUT
    if status.strap_loose:
        return TagState.Strap.LOOSE
    if status.tamper is False or status.strap_loose is False:
        return TagState.Strap.CLOSED
    return None


def tag_state_save(*, tag_pk: int, status: TagStatus, at: datetime) -> TagState:
    """Keep what a band tag says of itself (TagState) and its battery on the Tag."""
    state = TagState.objects.filter(tag_id=tag_pk).first() or TagState(tag_id=tag_pk, updated_at=at)
    strap = strap_of(status)
    if strap is not None:
        if strap == TagState.Strap.CLOSED and state.strap != TagState.Strap.CLOSED:
            state.strap_closed_at = at
        state.strap = strap
    state.battery_pct = status.battery_pct if status.battery_pct is not None else state.battery_pct
    state.battery_mv = status.battery_mv if status.battery_mv is not None else state.battery_mv
    state.updated_at = at
    state.save()
    if status.battery_pct is not None:
        Tag.objects.filter(pk=tag_pk).update(battery_pct=status.battery_pct)
    return state


def _flag(status: TagStatus | None, name: str) -> bool | None:
    if status is None:
        return None
    if name == "low":
        return None if status.battery_pct is None else status.battery_pct < LOW_BATTERY_PCT
    value: bool | None = getattr(status, name)
    return value


BAND_ALARMS: tuple[tuple[str, str, int, str, str, str], ...] = (
    # (status flag, kind, severity, audience, title, message)
    ("tamper", TAMPER, CRITICAL, SECURITY, "Band cut: {name}",
     "The infant's band reports its strap cut or opened. Find the infant now."),
    ("strap_loose", STRAP_LOOSE, WARNING, NURSES, "Loose band: {name}",
     "The infant's band is no longer snug. Refit it."),
    ("low", LOW_BATTERY, INFO, NURSES, "Band battery low: {name}",
     "Replace the band's battery or the band (maintenance, not a security alarm)."),
)


def _band_alarms(infant: ArmedInfant, status: TagStatus, previous: TagStatus | None, at: datetime) -> None:
    """Raise what the tag now says, clear what it stopped saying (escorts change nothing here)."""
    for flag, kind, severity, audience, title, message in BAND_ALARMS:
        now, before = _flag(status, flag), _flag(previous, flag)
        if now and not before:
            fix = STATE.last.get(infant.tag_pk) or fix_stored(infant.tag_pk)
            infant_raise(kind, severity, infant, title=title.format(name=infant.name), message=message, at=at,
                         audience=audience, place=fix.place() if fix else None, battery_pct=status.battery_pct)
        elif now is False and (before or previous is None):
            infant_clear(kind, infant, at=at, note="the band says so")


def _battery_alarm_mother(mother: ArmedMother, status: TagStatus, previous: TagStatus | None, at: datetime) -> None:
    now, before = _flag(status, "low"), _flag(previous, "low")
    mother_key = f"{LOW_BATTERY}:mother-{mother.mother_id}"
    if now and not before:
        alert_raise(kind=LOW_BATTERY, severity=INFO, key=mother_key, title=f"Mother tag battery low: {mother.name}",
                    message="Replace the mother tag's battery (maintenance, not a security alarm).",
                    subject_type=Alert.Subject.TAG, subject_id=mother.tag_id, subject_label=mother.name,
                    audience=NURSES, at=at, data={"mother_id": mother.mother_id, "battery_pct": status.battery_pct})
    elif now is False and (before or previous is None):
        alert_condition_clear(key=mother_key, at=at, note="the tag says so")
