"""Bag services: registration, the start checks (another patient's bed, another ward, expiry, a stale
location), progress through pauses and rate changes, the custody timeline, and two nurses at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection

from floorplans.models import Floor, Zone
from infusion import bags
from infusion.exceptions import BagExpired, BagInvalid, BagWrongPlace, InvalidBagTransition
from infusion.models import InfusionBag
from infusion.services import patient_discharge
from tests.infusion.test_bag_helpers import T0, S, bag_make, locate, ward_setup
from tracking.models import TrackedObject

MIN = timedelta(minutes=1)


def _tag(bag: InfusionBag) -> str:
    tag = bag.tracked_object.tag
    assert tag is not None
    return tag.tag_id


@pytest.mark.django_db
def test_it_registers_a_bag_on_its_tag_for_an_admitted_patient(floor: Floor, nurse: User) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, user=nurse)
    assert (bag.status, bag.ward_id, bag.patient_id) == (S.REGISTERED, w.ward.pk, w.alice.pk)
    assert bag.tracked_object.kind == TrackedObject.Kind.BAG and _tag(bag) == "E200BAG0001"
    assert list(bag.events.values_list("action", "user__username")) == [("registered", "nurse")]


@pytest.mark.django_db
def test_it_moves_a_tag_from_an_ended_bag_but_not_from_a_live_one(floor: Floor) -> None:
    w = ward_setup(floor)
    live = bag_make(w, status=S.DISPENSED)
    with pytest.raises(BagInvalid, match=f"tag E200BAG0001 is on bag {live.pk}"):
        bag_make(w)
    bags.bag_return(bag_id=live.pk, user=None, at=T0)
    second = bag_make(w, patient=w.bob)
    live.tracked_object.refresh_from_db()
    assert live.tracked_object.tag is None and _tag(second) == "E200BAG0001"


@pytest.mark.django_db
def test_it_refuses_to_register_for_an_unknown_or_discharged_patient_or_an_expired_bag(floor: Floor) -> None:
    w = ward_setup(floor)
    with pytest.raises(BagExpired):
        bag_make(w, expires_at=T0 - MIN)
    patient_discharge(mrn=w.bob.mrn)
    with pytest.raises(BagInvalid, match=r"Bob Baker \(MRN-B\) was discharged"):
        bag_make(w, patient=w.bob)
    with pytest.raises(BagInvalid, match="no patient with MRN nope"):
        bags.bag_register(tag_id="X", patient_mrn="nope", drug="d", concentration="", volume_ml=1,
                          ordered_rate_ml_h=1, lot="", expires_at=T0 + MIN, user=None, at=T0)


@pytest.mark.django_db
def test_it_refuses_to_start_a_bag_at_another_patients_bed(floor: Floor, nurse: User) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.ON_WARD)
    locate(_tag(bag), w.bed_b, at=T0)
    with pytest.raises(BagWrongPlace) as refused:
        bags.bag_start(bag_id=bag.pk, user=nurse, at=T0 + MIN)
    assert str(refused.value) == ("bag is for Alice Able (MRN-A) in Bed 101A; this is Bed 102A "
                                  "(Bob Baker (MRN-B))")
    with pytest.raises(BagWrongPlace, match="this is Bed 102A"):  # the bed the nurse names counts too
        bags.bag_start(bag_id=bag.pk, user=nurse, bed=w.bed_b, at=T0 + 10 * MIN)
    bag.refresh_from_db()
    assert bag.status == S.ON_WARD and bag.events.filter(action="started").count() == 0


@pytest.mark.django_db
def test_it_takes_a_room_for_the_bedside_of_the_patients_admitted_in_it(floor: Floor, nurse: User) -> None:
    """Room-level location (BLE): Bob's room is Bob's bedside; Alice's room is Alice's."""
    w = ward_setup(floor)
    bag = bag_make(w, status=S.ON_WARD)
    bobs_room = Zone.objects.get(floor=floor, code="3N-102")
    locate(_tag(bag), bobs_room, at=T0)
    with pytest.raises(BagWrongPlace) as refused:
        bags.bag_start(bag_id=bag.pk, user=nurse, at=T0 + MIN)
    assert str(refused.value).endswith("(Bob Baker (MRN-B))") and "in Bed 101A" in str(refused.value)
    locate(_tag(bag), Zone.objects.get(floor=floor, code="3N-101"), at=T0 + 2 * MIN)
    assert bags.bag_start(bag_id=bag.pk, user=nurse, at=T0 + 2 * MIN).status == S.INFUSING


@pytest.mark.django_db
def test_it_refuses_a_bag_seen_off_its_ward_and_ignores_a_stale_location(floor: Floor) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.ON_WARD)
    locate(_tag(bag), w.stairs, at=T0)
    with pytest.raises(BagWrongPlace, match="it is in Stairs 1, not on that ward"):
        bags.bag_start(bag_id=bag.pk, user=None, at=T0 + MIN)
    started = bags.bag_start(bag_id=bag.pk, user=None, at=T0 + 3 * MIN)  # seen 3 min ago: not where it is now
    assert started.status == S.INFUSING
    assert started.events.get(action="started").zone_id == w.bed_a.pk  # the patient's bed, as nothing says else


@pytest.mark.django_db
def test_it_refuses_to_start_an_expired_bag(floor: Floor) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.AT_BEDSIDE, expires_at=T0 + 5 * MIN)
    with pytest.raises(BagExpired, match="expired at 2025-03-01 08:05: do not use it"):
        bags.bag_start(bag_id=bag.pk, user=None, at=T0 + 5 * MIN)


@pytest.mark.django_db
def test_it_keeps_the_volume_through_pauses_and_rate_changes(floor: Floor, nurse: User) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.AT_BEDSIDE, volume_ml=500.0, rate_ml_h=100.0)
    bags.bag_start(bag_id=bag.pk, user=nurse, at=T0)
    bags.bag_change_rate(bag_id=bag.pk, user=nurse, rate_ml_h=200.0, at=T0 + 30 * MIN)  # 50 mL so far
    bags.bag_pause(bag_id=bag.pk, user=nurse, note="patient to the toilet", at=T0 + 45 * MIN)  # +50 mL
    paused = InfusionBag.objects.get(pk=bag.pk)
    assert paused.infused_ml_before == pytest.approx(100.0) and paused.segment_started_at is None
    assert bags.bag_infused_ml(paused, T0 + 90 * MIN) == pytest.approx(100.0)  # nothing goes in while paused
    bags.bag_resume(bag_id=bag.pk, user=nurse, at=T0 + 60 * MIN)
    done = bags.bag_complete(bag_id=bag.pk, user=nurse, at=T0 + 75 * MIN)  # +50 mL at 200 mL/h
    assert done.infused_ml_before == pytest.approx(150.0) and done.ended_at == T0 + 75 * MIN
    timeline = list(done.events.values_list("action", "from_status", "to_status", "rate_ml_h"))
    assert [row[0] for row in timeline] == ["registered", "dispensed", "arrived_ward", "at_bedside", "started",
                                             "rate_changed", "paused", "resumed", "completed"]
    assert timeline[4][3] == 100.0 and timeline[5][1:] == ("infusing", "infusing", 200.0)
    assert done.version >= 6


@pytest.mark.django_db
def test_it_refuses_bad_rates_and_a_discontinue_without_a_reason(floor: Floor) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.INFUSING)
    with pytest.raises(BagInvalid, match="rate 0 mL/h is out of range"):
        bags.bag_change_rate(bag_id=bag.pk, user=None, rate_ml_h=0, at=T0)
    with pytest.raises(BagInvalid, match="say why"):
        bags.bag_discontinue(bag_id=bag.pk, user=None, note="  ", at=T0)
    on_ward = bag_make(w, status=S.ON_WARD, tag_id="OTHER", patient=w.bob)
    with pytest.raises(BagInvalid, match="only an infusing or paused bag"):
        bags.bag_change_rate(bag_id=on_ward.pk, user=None, rate_ml_h=50, at=T0)


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_nurses_start_the_same_bag(floor: Floor, nurse: User,
                                                              charge_nurse: User) -> None:
    w = ward_setup(floor)
    bag = bag_make(w, status=S.AT_BEDSIDE)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(user: User, rate: float) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[user.username] = bags.bag_start(bag_id=bag.pk, user=user, rate_ml_h=rate, at=T0 + MIN)
        except InvalidBagTransition as refused:
            outcomes[user.username] = refused
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(nurse, 100.0)), threading.Thread(target=act, args=(charge_nurse,
                                                                                                      80.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    won = [name for name, result in outcomes.items() if isinstance(result, InfusionBag)]
    lost = [result for result in outcomes.values() if isinstance(result, InvalidBagTransition)]
    assert len(won) == 1 and len(lost) == 1
    assert "cannot be started: it is infusing" in str(lost[0])
    bag.refresh_from_db()
    assert bag.started_by is not None and bag.started_by.username == won[0]
    assert bag.events.filter(action="started").count() == 1
