"""Writes for infant protection: register a mother, enrol an infant, the two-person discharge, escorts and
mother-infant match checks. Code Pink is in security.codepink.

Every service is keyword-only and atomic, locks the rows two people could change at once (the infant, the
escort, the tag) and checks the user's permission itself: a refusal raises SecurityRefused with a sentence
for the nurse. `user=None` is the system (the rules, the demo loader) where a signature allows it.
Infant states move by the table INFANT_MOVES: protected -> discharge requested -> discharged (or back to
protected when the request is cancelled).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from alerts.audiences import NURSES, SECURITY
from alerts.models import Alert
from alerts.periodic import register
from alerts.services import alert_condition_clear, alert_raise, alert_resolve
from floorplans.models import Zone
from infusion.models import Patient
from security.exceptions import SecurityRefused
from security.models import CodePink, EscortPass, Infant, MatchCheck, Mother, TagState
from tracking.models import CurrentLocation, Tag, TrackedObject

logger = logging.getLogger(__name__)

State = Infant.State
INFANT_MOVES: dict[str, tuple[str, ...]] = {
    State.PROTECTED: (State.DISCHARGE_REQUESTED,),
    State.DISCHARGE_REQUESTED: (State.DISCHARGED, State.PROTECTED),
    State.DISCHARGED: (),
}
ESCORT_MINUTES = (1, 480)  # an escort's time limit, inclusive
ESCORTS_EVERY_S = 5.0
MATCH_REPEAT_S = 60.0  # the same pair found together again within this long updates the last check

MISMATCH, ESCORT_EXPIRED, CODE_PINK = "security.mismatch", "security.escort_expired", "security.code_pink"
# what an escort suspends: the exit and outside-ward alarms of its infant (tamper, supervision, mismatch stay)
ESCORT_SUSPENDS = ("security.exit_approach", "security.exit_alarm", "security.elevator_hold",
                   "security.outside_ward")


def alert_key(kind: str, infant_id: int) -> str:
    """One open alert per infant and condition: "security.mismatch:17"."""
    return f"{kind}:{infant_id}"


def require(user: User | None, permission: str, doing: str) -> None:
    """Refuse unless `user` holds `permission` (None: the system, always allowed)."""
    if user is not None and not (user.is_active and user.has_perm(permission)):
        raise SecurityRefused(f"You are not allowed to {doing}.")


# --- mothers and enrolment ------------------------------------------------------------------------------


@transaction.atomic
def mother_register(
    *, tag_id: str, name: str, ward_id: int, patient_id: int | None = None, user: User | None,
    home_zone_id: int | None = None, tech: str = Tag.Tech.UWB,
) -> Mother:
    """A mother wears tag `tag_id` (created if new) for match checks; registering the same tag again updates
    her name, patient and home. Home: the given zone, else her bed's room, else the ward."""
    require(user, "security.add_mother", "register mothers")
    name = name.strip()
    if not name:
        raise SecurityRefused("Give the mother's name.")
    ward = _ward(ward_id)
    patient = None
    if patient_id is not None:
        patient = Patient.objects.filter(pk=patient_id).select_related("bed").first()
        if patient is None:
            raise SecurityRefused(f"There is no patient with id {patient_id}.")
    tag, _ = Tag.objects.select_for_update().get_or_create(tag_id=tag_id, defaults={"tech": tech})
    obj = TrackedObject.objects.filter(tag=tag).select_related("mother").first()
    if obj is not None and (obj.kind != TrackedObject.Kind.MOTHER or not hasattr(obj, "mother")):
        raise SecurityRefused(f"Tag {tag_id} is already worn by {obj.name} ({obj.kind}).")
    if patient is not None and Mother.objects.filter(patient=patient).exclude(tracked_object=obj).exists():
        raise SecurityRefused(f"{patient.given_name} {patient.family_name} already wears another mother tag.")
    if home_zone_id is not None:
        home = Zone.objects.filter(pk=home_zone_id).first()
        if home is None:
            raise SecurityRefused(f"There is no zone with id {home_zone_id}.")
    else:
        home = (patient.bed.parent or patient.bed) if patient is not None and patient.bed is not None else ward
    if obj is None:
        obj = TrackedObject.objects.create(kind=TrackedObject.Kind.MOTHER, name=name, tag=tag, home_zone=home)
        return Mother.objects.create(tracked_object=obj, patient=patient)
    obj.name, obj.home_zone = name, home
    obj.save(update_fields=["name", "home_zone"])
    mother = obj.mother
    mother.patient = patient
    mother.save(update_fields=["patient"])
    return mother


@transaction.atomic
def infant_enrol(
    *, tag_id: str, name: str, ward_id: int, mother_id: int | None, born_at: datetime | None, user: User | None,
    at: datetime | None = None,
) -> Infant:
    """Put the infant wearing `tag_id` under protection on a ward, linked to its mother.

    Refused unless the tag's strap reports closed (or the tag is already on an infant's record), for a tag on
    anyone else, or for an infant already protected."""
    require(user, "security.add_infant", "enrol infants")
    at = at or timezone.now()
    name = name.strip()
    if not name:
        raise SecurityRefused("Give the infant's name.")
    ward = _ward(ward_id)
    mother = None
    if mother_id is not None:
        mother = Mother.objects.select_related("tracked_object").filter(pk=mother_id).first()
        if mother is None:
            raise SecurityRefused(f"There is no mother with id {mother_id}.")
    tag = Tag.objects.select_for_update().filter(tag_id=tag_id).first()
    if tag is None:
        raise SecurityRefused(f"Tag {tag_id} has not been heard yet: fasten the band and wait for it to report.")
    obj = TrackedObject.objects.filter(tag=tag).first()
    if obj is not None and obj.kind != TrackedObject.Kind.INFANT:
        raise SecurityRefused(f"Tag {tag_id} is already worn by {obj.name} ({obj.kind}).")
    infant = Infant.objects.select_for_update().filter(tracked_object=obj).first() if obj is not None else None
    if infant is not None and infant.state in Infant.ARMED_STATES:
        raise SecurityRefused(f"{infant} is already protected (enrolled {infant.enrolled_at:%d %b %H:%M}).")
    if obj is None:
        _check_strap_closed(tag)
        home = mother.tracked_object.home_zone if mother is not None else ward
        obj = TrackedObject.objects.create(kind=TrackedObject.Kind.INFANT, name=name, tag=tag, home_zone=home)
    elif obj.name != name:
        obj.name = name
        obj.save(update_fields=["name"])
    infant = infant or Infant(tracked_object=obj)
    infant.mother, infant.ward, infant.born_at, infant.state = mother, ward, born_at, State.PROTECTED
    infant.enrolled_at, infant.enrolled_by = at, user
    infant.discharge_reason, infant.discharge_requested_by, infant.discharge_requested_at = "", None, None
    infant.discharged_by = infant.discharged_at = None
    infant.save()
    logger.info("infant %s enrolled on tag %s (ward %s) by %s", infant.pk, tag_id, ward.code, _who(user))
    return infant


def _ward(ward_id: int) -> Zone:
    ward = Zone.objects.filter(pk=ward_id).first()
    if ward is None or ward.kind != Zone.Kind.WARD:
        raise SecurityRefused(f"Zone {ward_id} is not a ward.")
    return ward


def _check_strap_closed(tag: Tag) -> None:
    state = TagState.objects.filter(tag=tag).first()
    if state is None or state.strap != TagState.Strap.CLOSED:
        said = "has not reported its strap yet" if state is None else f"reports its strap {state.strap}"
        raise SecurityRefused(f"Tag {tag.tag_id} {said}: close the strap and wait for the tag to report it closed.")


# --- discharge: one person asks, a second confirms --------------------------------------------------------


@transaction.atomic
def infant_discharge_request(*, infant_id: int, user: User, reason: str, at: datetime | None = None) -> Infant:
    """Ask to sign the infant out of protection; a second authorized person must confirm."""
    require(user, "security.discharge_infant", "sign infants out")
    if not reason.strip():
        raise SecurityRefused("Say why the infant is being signed out.")
    infant = _locked_infant(infant_id)
    _move(infant, State.DISCHARGE_REQUESTED)
    infant.discharge_reason, infant.discharge_requested_by = reason.strip()[:200], user
    infant.discharge_requested_at = at or timezone.now()
    infant.save(update_fields=["state", "discharge_reason", "discharge_requested_by", "discharge_requested_at"])
    return infant


@transaction.atomic
def infant_discharge_confirm(*, infant_id: int, user: User, at: datetime | None = None) -> Infant:
    """The second person confirms: protection ends, the infant's open security alerts are resolved, its
    escort ended and its tag released (free for the next infant)."""
    require(user, "security.discharge_infant", "sign infants out")
    at = at or timezone.now()
    infant = _locked_infant(infant_id)
    if infant.state == State.DISCHARGE_REQUESTED and infant.discharge_requested_by_id == user.pk:
        raise SecurityRefused("A second person must confirm this discharge: you requested it.")
    if CodePink.objects.filter(infant=infant, state=CodePink.State.ACTIVE).exists():
        raise SecurityRefused(f"{infant} is the subject of an active Code Pink: resolve it first.")
    _move(infant, State.DISCHARGED)
    infant.discharged_by, infant.discharged_at = user, at
    infant.save(update_fields=["state", "discharged_by", "discharged_at"])
    requester = _who(infant.discharge_requested_by)
    note = f"{infant} signed out of protection by {requester} and {_who(user)}: {infant.discharge_reason}"
    for alert_id in _open_alert_ids(infant.pk, exclude=(CODE_PINK,)):
        alert_resolve(alert_id=alert_id, user=user, note=note, at=at)
    EscortPass.objects.filter(infant=infant, ended_at__isnull=True).update(ended_at=at, ended_by=user,
                                                                          end_note="infant discharged")
    obj = infant.tracked_object
    tag_id = obj.tag.tag_id if obj.tag is not None else "?"
    obj.tag = None
    obj.save(update_fields=["tag"])
    logger.info("infant %s discharged (tag %s released): %s", infant.pk, tag_id, note)
    return infant


@transaction.atomic
def infant_discharge_cancel(*, infant_id: int, user: User, at: datetime | None = None) -> Infant:
    """Withdraw a discharge request: the infant stays protected."""
    require(user, "security.discharge_infant", "sign infants out")
    infant = _locked_infant(infant_id)
    if infant.state != State.DISCHARGE_REQUESTED:
        raise SecurityRefused(f"{infant} has no discharge request to cancel (it is {_state_text(infant)}).")
    _move(infant, State.PROTECTED)
    infant.discharge_reason, infant.discharge_requested_by, infant.discharge_requested_at = "", None, None
    infant.save(update_fields=["state", "discharge_reason", "discharge_requested_by", "discharge_requested_at"])
    logger.info("discharge of infant %s cancelled by %s at %s", infant.pk, _who(user), at or timezone.now())
    return infant


def _locked_infant(infant_id: int) -> Infant:
    infant = (Infant.objects.select_for_update(of=("self",)).select_related("tracked_object__tag", "ward")
              .filter(pk=infant_id).first())
    if infant is None:
        raise SecurityRefused(f"There is no enrolled infant with id {infant_id}.")
    return infant


def _move(infant: Infant, to_state: str) -> None:
    if to_state not in INFANT_MOVES[infant.state]:
        raise SecurityRefused(_MOVE_REFUSED.get((infant.state, to_state), "{infant} is {state}: not possible now.")
                              .format(infant=infant, state=_state_text(infant)))
    infant.state = to_state


_MOVE_REFUSED: dict[tuple[str, str], str] = {
    (State.DISCHARGE_REQUESTED, State.DISCHARGE_REQUESTED): "{infant}'s discharge is already requested: it needs "
                                                            "a second person to confirm it.",
    (State.DISCHARGED, State.DISCHARGE_REQUESTED): "{infant} is already discharged.",
    (State.PROTECTED, State.DISCHARGED): "{infant}'s discharge has not been requested: request it first.",
    (State.DISCHARGED, State.DISCHARGED): "{infant} is already discharged.",
}


def _open_alert_ids(infant_id: int, *, kinds: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> list[int]:
    alerts = Alert.objects.filter(subject_type=Alert.Subject.INFANT, subject_id=str(infant_id),
                                  kind__startswith="security.", state__in=Alert.OPEN_STATES)
    if kinds:
        alerts = alerts.filter(kind__in=kinds)
    return list(alerts.exclude(kind__in=exclude).order_by("pk").values_list("pk", flat=True))


def _state_text(infant: Infant) -> str:
    return infant.get_state_display().lower()


def _who(user: User | None) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.username


# --- escorts ----------------------------------------------------------------------------------------------


@transaction.atomic
def escort_start(
    *, infant_id: int, user: User, destination: str, reason: str, minutes: int, at: datetime | None = None
) -> EscortPass:
    """An authorized person takes the infant off the ward (radiology, a transfer) for at most `minutes`: its
    exit and outside-ward alarms are suspended until the escort ends or expires; the rest stays armed."""
    require(user, "security.add_escortpass", "authorize escorts")
    at = at or timezone.now()
    shortest, longest = ESCORT_MINUTES
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not shortest <= minutes <= longest:
        raise SecurityRefused(f"An escort lasts {shortest} to {longest} minutes, not {minutes}.")
    if not destination.strip():
        raise SecurityRefused("Say where the infant is being taken.")
    infant = _locked_infant(infant_id)
    if infant.state not in Infant.ARMED_STATES:
        raise SecurityRefused(f"{infant} is not protected (it is {_state_text(infant)}).")
    running = EscortPass.objects.filter(infant=infant, ended_at__isnull=True, expires_at__gt=at).first()
    if running is not None:
        raise SecurityRefused(f"{infant} is already on an escort to {running.destination} until "
                              f"{timezone.localtime(running.expires_at):%H:%M}: end it first.")
    destination = destination.strip()[:200]
    overdue = EscortPass.objects.filter(infant=infant, ended_at__isnull=True)  # expired, never ended
    overdue.update(ended_at=at, ended_by=user, end_note=f"replaced by the escort to {destination}"[:200])
    alert_condition_clear(key=alert_key(ESCORT_EXPIRED, infant.pk), resolve=True, at=at,
                          note=f"a new escort to {destination} was authorized by {_who(user)}")
    escort = EscortPass.objects.create(infant=infant, destination=destination, reason=reason.strip()[:200],
                                       authorized_by=user, started_at=at, expires_at=at + timedelta(minutes=minutes))
    note = (f"escort to {escort.destination} authorized by {_who(user)} until "
            f"{timezone.localtime(escort.expires_at):%H:%M}: exit alarms suspended")
    for kind in ESCORT_SUSPENDS:
        alert_condition_clear(key=alert_key(kind, infant.pk), note=note, at=at)
    return escort


@transaction.atomic
def escort_end(*, escort_id: int, user: User, note: str = "", at: datetime | None = None) -> EscortPass:
    """The infant is back (or handed over): its exit alarms are armed again."""
    require(user, "security.change_escortpass", "end escorts")
    at = at or timezone.now()
    escort = (EscortPass.objects.select_for_update(of=("self",)).select_related("infant__tracked_object")
              .filter(pk=escort_id).first())
    if escort is None:
        raise SecurityRefused(f"There is no escort with id {escort_id}.")
    if escort.ended_at is not None:
        raise SecurityRefused(f"This escort already ended at {timezone.localtime(escort.ended_at):%H:%M} "
                              f"({_who(escort.ended_by)}).")
    escort.ended_at, escort.ended_by, escort.end_note = at, user, note.strip()[:200]
    escort.save(update_fields=["ended_at", "ended_by", "end_note"])
    alert_condition_clear(key=alert_key(ESCORT_EXPIRED, escort.infant_id), resolve=True, at=at,
                          note=f"escort ended by {_who(user)}" + (f": {escort.end_note}" if escort.end_note else ""))
    return escort


def escorts_expire(*, now: datetime) -> int:
    """Raise security.escort_expired for every escort past its time limit and not ended (once per escort).
    Registered with alerts.periodic as "security.escorts". Returns how many alerts it raised."""
    raised = 0
    due = (EscortPass.objects.filter(ended_at__isnull=True, expires_at__lte=now, infant__state__in=Infant.ARMED_STATES)
           .select_related("infant__tracked_object", "infant__ward", "authorized_by").order_by("expires_at"))
    for escort in due:
        key = alert_key(ESCORT_EXPIRED, escort.infant_id)
        if Alert.objects.filter(key=key, raised_at__gte=escort.expires_at).exists():
            continue  # raised for this escort already (and perhaps dealt with)
        infant = escort.infant
        expired = timezone.localtime(escort.expires_at)
        alert_raise(
            kind=ESCORT_EXPIRED, severity=Alert.Severity.WARNING, key=key, audience=SECURITY,
            title=f"Escort of {infant} overdue", subject_type=Alert.Subject.INFANT, subject_id=str(infant.pk),
            subject_label=str(infant), ward_id=infant.ward_id,
            message=(f"{infant} was taken to {escort.destination} by {_who(escort.authorized_by)} until "
                     f"{expired:%H:%M} and is not back: its exit alarms are armed again."),
            data={"infant_id": infant.pk, "escort_id": escort.pk, "destination": escort.destination,
                  "authorized_by": _who(escort.authorized_by), "expires_at": escort.expires_at.isoformat()},
            at=now, **_where(infant.tracked_object.tag_id),
        )
        raised += 1
    return raised


def escorts_connect() -> None:
    """Register the escort timer with the periodic runner (idempotent; called at start-up)."""
    register("security.escorts", ESCORTS_EVERY_S, lambda now: escorts_expire(now=now))


def _where(tag_pk: int | None) -> dict[str, Any]:
    """Where a tag is now, as alert place fields (nothing known: empty)."""
    if tag_pk is None:
        return {}
    row = CurrentLocation.objects.filter(tag_id=tag_pk).values("floor_id", "zone_id", "position").first()
    if row is None:
        return {}
    return {"floor_id": row["floor_id"], "zone_id": row["zone_id"], "x_m": row["position"].x,
            "y_m": row["position"].y}


# --- mother-infant match checks ---------------------------------------------------------------------------


@transaction.atomic
def match_record(
    *, mother_id: int, infant_id: int, how: str, at: datetime, zone_id: int | None = None,
    distance_m: float | None = None, user: User | None = None,
) -> MatchCheck:
    """A mother and an infant were brought together: the right pair is a match record (and clears an open
    mismatch of the infant); a wrong one is a mismatch and raises security.mismatch (HIGH, nurses). The same
    pair found together again within MATCH_REPEAT_S (not a nurse's check) updates its last record."""
    require(user, "security.add_matchcheck", "record match checks")
    if how not in MatchCheck.How.values:
        raise ValueError(f"how {how!r} is not one of {MatchCheck.How.values}")
    infant = _locked_infant(infant_id)
    mother = Mother.objects.select_related("tracked_object__home_zone", "patient").filter(pk=mother_id).first()
    if mother is None:
        raise SecurityRefused(f"There is no mother with id {mother_id}.")
    if infant.state not in Infant.ARMED_STATES:
        raise SecurityRefused(f"{infant} is not protected (it is {_state_text(infant)}).")
    result = MatchCheck.Result.MATCH if infant.mother_id == mother.pk else MatchCheck.Result.MISMATCH
    check = _recent_check(mother, infant, result, how=how, at=at)
    if check is None:
        check = MatchCheck(mother=mother, infant=infant, result=result, how=how)
    check.at, check.zone_id, check.distance_m, check.user = at, zone_id, distance_m, user
    if result == MatchCheck.Result.MISMATCH:
        check.alert = _mismatch_raise(infant, mother, how=how, at=at, zone_id=zone_id, distance_m=distance_m)
    else:
        alert_condition_clear(key=alert_key(MISMATCH, infant.pk), at=at,
                              note=f"{infant} checked with its mother {mother} ({how})")
    check.save()
    return check


def _recent_check(mother: Mother, infant: Infant, result: str, *, how: str, at: datetime) -> MatchCheck | None:
    if how == MatchCheck.How.MANUAL:
        return None  # a nurse's check is always its own record
    return (MatchCheck.objects.select_for_update()
            .filter(mother=mother, infant=infant, result=result, at__gte=at - timedelta(seconds=MATCH_REPEAT_S),
                    at__lte=at).exclude(how=MatchCheck.How.MANUAL).order_by("-at").first())


def _mismatch_raise(infant: Infant, mother: Mother, *, how: str, at: datetime, zone_id: int | None,
                    distance_m: float | None) -> Alert:
    expected: Mother | None = infant.mother
    zone = Zone.objects.filter(pk=zone_id).first() if zone_id else None
    mother_home = mother.tracked_object.home_zone
    expected_text = f"its mother on file is {expected}" if expected is not None else "it has no mother on file"
    where = f" in {zone.name}" if zone is not None else ""
    return alert_raise(
        kind=MISMATCH, severity=Alert.Severity.HIGH, key=alert_key(MISMATCH, infant.pk), audience=NURSES,
        title=f"Wrong mother: {infant} with {mother}", subject_type=Alert.Subject.INFANT,
        subject_id=str(infant.pk), subject_label=str(infant),
        message=(f"{infant} was brought together with {mother}{where}, but {expected_text}. Check both bands "
                 "before the baby is handed over."),
        zone_id=zone_id, ward_id=infant.ward_id, floor_id=zone.floor_id if zone is not None else None,
        data={"infant_id": infant.pk, "infant_name": str(infant), "infant_ward": infant.ward.name,
              "mother_id": mother.pk, "mother_name": str(mother),
              "mother_home": mother_home.name if mother_home is not None else "",
              "expected_mother_id": expected.pk if expected is not None else None,
              "expected_mother_name": str(expected) if expected is not None else "",
              "how": how, "zone_id": zone_id, "zone_name": zone.name if zone is not None else "",
              "distance_m": distance_m},
        at=at,
    )
