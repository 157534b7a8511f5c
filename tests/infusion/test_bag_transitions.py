"""The bag's transition table, move by move: every allowed move succeeds through its service and is
recorded; every refused one is refused with a reason naming both statuses (people's actions) or ignored
(location moves, which only follow the table)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from floorplans.models import Floor
from infusion import bags
from infusion.bags import Place
from infusion.exceptions import InvalidBagTransition
from infusion.models import BagEvent, InfusionBag
from tests.infusion.test_bag_helpers import T0, S, Ward, bag_make, ward_setup

pytestmark = pytest.mark.django_db

ALL = list(S.values)
LOCATION_MOVES = {S.ON_WARD, S.AT_BEDSIDE}  # done by the location rules, not by people


def _do(w: Ward, bag: InfusionBag, to: str) -> InfusionBag:
    """The action that moves a bag to `to` (from wherever it is)."""
    actions: dict[str, Callable[[], InfusionBag]] = {
        S.DISPENSED: lambda: bags.bag_dispense(bag_id=bag.pk, user=None, at=T0),
        S.ON_WARD: lambda: bags.bag_location_changed(bag_id=bag.pk, place=Place.WARD, previous=Place.OWN_BED,
                                                     zone_id=w.corridor.pk, at=T0),
        S.AT_BEDSIDE: lambda: bags.bag_location_changed(bag_id=bag.pk, place=Place.OWN_BED, previous=Place.WARD,
                                                        zone_id=w.bed_a.pk, at=T0),
        S.INFUSING: (lambda: bags.bag_resume(bag_id=bag.pk, user=None, at=T0)) if bag.status == S.PAUSED
        else (lambda: bags.bag_start(bag_id=bag.pk, user=None, bed=w.bed_a, at=T0)),
        S.PAUSED: lambda: bags.bag_pause(bag_id=bag.pk, user=None, at=T0),
        S.COMPLETED: lambda: bags.bag_complete(bag_id=bag.pk, user=None, at=T0),
        S.DISCONTINUED: lambda: bags.bag_discontinue(bag_id=bag.pk, user=None, note="stopped by doctor", at=T0),
        S.RETURNED: lambda: bags.bag_return(bag_id=bag.pk, user=None, at=T0),
        S.WASTED: lambda: bags.bag_waste(bag_id=bag.pk, user=None, note="leaking", at=T0),
    }
    return actions[to]()


MOVES = [(a, b) for a in ALL for b in ALL if a != b and b != S.REGISTERED
         and (a, b) != (S.DISPENSED, S.AT_BEDSIDE)]  # that one walks through on_ward: its own test below
ALLOWED = [(a, b) for a, b in MOVES if b in InfusionBag.TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in MOVES if b not in InfusionBag.TRANSITIONS[a]]


def test_it_covers_every_status_in_the_table() -> None:
    assert set(InfusionBag.TRANSITIONS) == set(ALL)
    assert all(set(targets) <= set(ALL) for targets in InfusionBag.TRANSITIONS.values())
    assert InfusionBag.TRANSITIONS[S.COMPLETED] == () and InfusionBag.TRANSITIONS[S.RETURNED] == ()


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_it_makes_every_allowed_move(floor: Floor, from_status: str, to_status: str) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=from_status)
    before = bag.events.count()
    moved = _do(w, bag, to_status)
    moved.refresh_from_db()
    assert moved.status == to_status
    new = moved.events.order_by("pk")[before:]
    assert [(e.from_status, e.to_status) for e in new if e.from_status != e.to_status] == [(from_status, to_status)]


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_it_refuses_every_other_move(floor: Floor, from_status: str, to_status: str) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=from_status)
    events = list(bag.events.values_list("pk", flat=True))
    if to_status in LOCATION_MOVES:
        _do(w, bag, to_status)  # a location report never forces a move the table does not allow
    else:
        with pytest.raises(InvalidBagTransition) as refused:
            _do(w, bag, to_status)
        assert from_status in str(refused.value) and refused.value.from_status == from_status
    bag.refresh_from_db()
    assert bag.status == from_status
    assert not bag.events.exclude(pk__in=events).exclude(from_status=from_status, to_status=from_status).exists()


def test_it_walks_a_dispensed_bag_found_at_its_bed_through_the_ward(floor: Floor) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.DISPENSED)
    bags.bag_location_changed(bag_id=bag.pk, place=Place.OWN_BED, previous=None, zone_id=w.bed_a.pk, at=T0)
    bag.refresh_from_db()
    assert bag.status == S.AT_BEDSIDE and bag.arrived_bedside_at == T0
    steps = list(bag.events.filter(action__in=[BagEvent.Action.ARRIVED_WARD, BagEvent.Action.AT_BEDSIDE])
                 .values_list("action", "from_status", "to_status", "zone_id"))
    assert steps == [("arrived_ward", "dispensed", "on_ward", w.bed_a.pk), ("at_bedside", "on_ward", "at_bedside",
                                                                           w.bed_a.pk)]


def test_it_names_both_statuses_in_the_refusal(floor: Floor) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.COMPLETED)
    with pytest.raises(InvalidBagTransition, match=r"cannot be paused: it is completed \(completed → paused"):
        bags.bag_pause(bag_id=bag.pk, user=None, at=T0)
