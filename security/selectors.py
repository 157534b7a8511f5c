"""Reads for infant protection: who is armed (a cache the pipeline may read every window), the active
escort of an infant, the band tags waiting to be enrolled.

The armed directory. `armed_infants()` and `armed_mothers()` are dicts keyed by tag pk, built with two
queries and kept in this process until something changes: a post_save / post_delete of an Infant,
EscortPass or Mother (or of an infant's or mother's TrackedObject, whose tag or name may have changed)
drops it at once and again when the writing transaction commits, so a reader never keeps a directory
built from uncommitted rows. A change made by another process (the web server enrols, the pipeline
reads) is seen after at most SECURITY_ARMED_CACHE_TTL_S (default 5 s), when the directory is rebuilt
anyway. While nothing changed a call is a couple of attribute reads: safe many times a second from the
pipeline thread. Callers must not modify the dicts they get.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from security.models import EscortPass, Infant, Mother, TagState
from tracking.models import TrackedObject


@dataclass(frozen=True, slots=True)
class ArmedInfant:
    """An infant under protection, as the rules need it."""

    infant_id: int
    tag_pk: int
    tag_id: str
    name: str
    ward_id: int
    floor_id: int  # the ward's floor
    mother_id: int | None
    mother_tag_pk: int | None
    escorted_until: datetime | None  # expires_at of the escort not yet ended (compare with now: it may be past)


@dataclass(frozen=True, slots=True)
class ArmedMother:
    """A mother wearing a tag, with the armed infants linked to her."""

    mother_id: int
    tag_pk: int
    tag_id: str
    name: str
    infant_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Directory:
    infants: dict[int, ArmedInfant]
    mothers: dict[int, ArmedMother]
    generation: int
    built_at_s: float  # time.monotonic()


_lock = threading.Lock()
_generation = 0
_directory: _Directory | None = None


def armed_cache_ttl_s() -> float:
    return float(getattr(settings, "SECURITY_ARMED_CACHE_TTL_S", 5.0))


def armed_infants() -> dict[int, ArmedInfant]:
    """Tag pk -> the protected (or discharge-requested) infant wearing it."""
    return _current().infants


def armed_mothers() -> dict[int, ArmedMother]:
    """Tag pk -> the mother wearing it (every mother with a tag; infant_ids: her armed infants)."""
    return _current().mothers


def armed_invalidate() -> None:
    """Forget the directory; the next call rebuilds it (also called on every relevant change signal)."""
    global _generation, _directory
    with _lock:
        _generation += 1
        _directory = None


def _current() -> _Directory:
    directory = _directory
    if (directory is not None and directory.generation == _generation
            and time.monotonic() - directory.built_at_s < armed_cache_ttl_s()):
        return directory
    return _rebuild()


def _rebuild() -> _Directory:
    global _directory
    with _lock:
        generation = _generation
    infants, mothers = _build()
    built = _Directory(infants=infants, mothers=mothers, generation=generation, built_at_s=time.monotonic())
    with _lock:
        if generation == _generation:  # nothing changed while we read: keep it for the next callers
            _directory = built
    return built


def _build() -> tuple[dict[int, ArmedInfant], dict[int, ArmedMother]]:
    rows = (Infant.objects.filter(state__in=Infant.ARMED_STATES, tracked_object__tag__isnull=False)
            .values_list("pk", "tracked_object__tag_id", "tracked_object__tag__tag_id", "tracked_object__name",
                         "ward_id", "ward__floor_id", "mother_id", "mother__tracked_object__tag_id"))
    escorts = dict(EscortPass.objects.filter(ended_at__isnull=True, infant__state__in=Infant.ARMED_STATES)
                   .order_by("started_at").values_list("infant_id", "expires_at"))
    infants: dict[int, ArmedInfant] = {}
    of_mother: dict[int, list[int]] = {}
    for pk, tag_pk, tag_id, name, ward_id, floor_id, mother_id, mother_tag_pk in rows:
        infants[tag_pk] = ArmedInfant(infant_id=pk, tag_pk=tag_pk, tag_id=tag_id, name=name, ward_id=ward_id,
                                      floor_id=floor_id, mother_id=mother_id, mother_tag_pk=mother_tag_pk,
                                      escorted_until=escorts.get(pk))
        if mother_id is not None:
            of_mother.setdefault(mother_id, []).append(pk)
    mothers = {
        tag_pk: ArmedMother(mother_id=pk, tag_pk=tag_pk, tag_id=tag_id, name=name,
                            infant_ids=tuple(sorted(of_mother.get(pk, ()))))
        for pk, tag_pk, tag_id, name in Mother.objects.filter(tracked_object__tag__isnull=False).values_list(
            "pk", "tracked_object__tag_id", "tracked_object__tag__tag_id", "tracked_object__name")
    }
    return infants, mothers


@receiver([post_save, post_delete], sender=Infant, dispatch_uid="security.armed.infant")
@receiver([post_save, post_delete], sender=EscortPass, dispatch_uid="security.armed.escort")
@receiver([post_save, post_delete], sender=Mother, dispatch_uid="security.armed.mother")
def _changed(sender: type, **kwargs: Any) -> None:
    armed_invalidate()
    transaction.on_commit(armed_invalidate)  # and once committed: a rebuild in between read the old rows


@receiver([post_save, post_delete], sender=TrackedObject, dispatch_uid="security.armed.tracked_object")
def _tracked_object_changed(sender: type, instance: TrackedObject, **kwargs: Any) -> None:
    if instance.kind in (TrackedObject.Kind.INFANT, TrackedObject.Kind.MOTHER):
        _changed(sender)


# --- other reads ----------------------------------------------------------------------------------------


def escort_active(*, infant_id: int, at: datetime) -> EscortPass | None:
    """The escort of this infant running at `at` (started, not ended, not expired), if any."""
    return (EscortPass.objects.filter(infant_id=infant_id, ended_at__isnull=True, started_at__lte=at,
                                      expires_at__gt=at)
            .select_related("authorized_by").order_by("-started_at").first())


def enrolment_prompts() -> list[TagState]:
    """Band tags whose strap reports closed and that nobody is enrolled on yet (not an armed infant's, not a
    mother's): each is a nurse's prompt to enrol the infant who now wears it. Newest first."""
    mothers = Mother.objects.filter(tracked_object__tag__isnull=False).values("tracked_object__tag_id")
    armed = (Infant.objects.filter(state__in=Infant.ARMED_STATES, tracked_object__tag__isnull=False)
             .values("tracked_object__tag_id"))
    return list(TagState.objects.filter(strap=TagState.Strap.CLOSED).exclude(tag_id__in=mothers)
                .exclude(tag_id__in=armed)
                .select_related("tag").order_by(F("strap_closed_at").desc(nulls_last=True), "-updated_at", "tag_id"))


def infants_armed_on_floor(*, floor_id: int) -> list[ArmedInfant]:
    """The armed infants whose ward is on this floor (from the cache)."""
    return [infant for infant in armed_infants().values() if infant.floor_id == floor_id]
