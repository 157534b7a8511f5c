"""The infusion rules fed with zone events and ticks on a controlled clock: the bag moves along the ward,
wrong-patient and left-ward alerts with hysteresis (no flapping on a bed's edge), and the time alerts
(near empty, complete, not started, expired), raised once and cleared when the condition ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from alerts.models import Alert
from floorplans.models import Floor, Zone
from infusion import bags, rules
from infusion.bags import Place, alert_key
from infusion.models import InfusionBag
from tests.infusion.test_bag_helpers import T0, S, Ward, bag_make, ward_setup
from tracking.models import Tag, ZonePresence
from tracking.pipeline.events import ZoneEntered, ZoneExited

pytestmark = pytest.mark.django_db
SEC, MIN = timedelta(seconds=1), timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _rules(settings: Any) -> Iterator[None]:
    settings.INFUSION_HYSTERESIS_S = 20.0
    settings.INFUSION_DIRECTORY_TTL_S = 0.0  # every event re-reads the bags: tests change them between events
    rules.reset()
    yield
    rules.reset()


@pytest.fixture
def w(floor: Floor) -> Ward:
    return ward_setup(floor)


def enter(bag: InfusionBag, zone: Zone, at: datetime, *, leaving: Zone | None = None) -> None:
    tag = bag.tracked_object.tag
    assert tag is not None
    if leaving is not None:
        rules.on_zone_exited(ZoneExited(tag.pk, tag.tag_id, zone.floor_id, leaving.pk, at))
    rules.on_zone_entered(ZoneEntered(tag.pk, tag.tag_id, zone.floor_id, zone.pk, at))


def status(bag: InfusionBag) -> str:
    return InfusionBag.objects.get(pk=bag.pk).status


def alert(kind: str, bag: InfusionBag) -> Alert | None:
    return Alert.objects.filter(kind=kind, subject_id=str(bag.pk)).order_by("-pk").first()


def test_it_moves_a_dispensed_bag_on_the_ward_and_to_the_bedside_after_the_hysteresis(w: Ward) -> None:
    bag = bag_make(w, status=S.DISPENSED)
    enter(bag, w.corridor, T0)
    rules.infusion_tick(T0 + 19 * SEC)
    assert status(bag) == S.DISPENSED
    rules.infusion_tick(T0 + 20 * SEC)
    assert status(bag) == S.ON_WARD
    enter(bag, w.bed_a, T0 + MIN, leaving=w.corridor)
    enter(bag, w.bed_a, T0 + MIN + 25 * SEC)  # a later event settles it as well as a tick
    bag.refresh_from_db()
    assert bag.status == S.AT_BEDSIDE and bag.arrived_bedside_at == T0 + MIN
    assert list(bag.events.filter(action__in=["arrived_ward", "at_bedside"]).values_list("action", "at")) == [
        ("arrived_ward", T0), ("at_bedside", T0 + MIN)]


def test_it_ignores_tags_that_are_not_active_bags(w: Ward, django_assert_num_queries: Any, settings: Any) -> None:
    bag_make(w, status=S.DISPENSED)
    settings.INFUSION_DIRECTORY_TTL_S = 3600.0
    rules.infusion_tick(T0)  # loads the directory
    other = Tag.objects.create(tag_id="STAFF-1", tech="ble")
    with django_assert_num_queries(0):
        rules.on_zone_entered(ZoneEntered(other.pk, "STAFF-1", w.floor.pk, w.bed_b.pk, T0))


def test_it_raises_wrong_patient_only_when_the_bag_stays_at_another_patients_bed(w: Ward) -> None:
    bag = bag_make(w, status=S.INFUSING)
    enter(bag, w.bed_a, T0)
    rules.infusion_tick(T0 + 30 * SEC)
    for i in range(6):  # on the edge between Bob's bed and the room for a minute: never 20 s at Bob's bed
        t = T0 + MIN + i * 10 * SEC
        enter(bag, w.bed_b if i % 2 == 0 else w.bed_a, t)
        rules.infusion_tick(t + 9 * SEC)
    assert alert(rules.WRONG_PATIENT, bag) is None
    enter(bag, w.bed_b, T0 + 3 * MIN)
    rules.infusion_tick(T0 + 3 * MIN + 19 * SEC)
    assert alert(rules.WRONG_PATIENT, bag) is None
    rules.infusion_tick(T0 + 3 * MIN + 20 * SEC)
    raised = alert(rules.WRONG_PATIENT, bag)
    assert raised is not None
    assert (raised.severity, raised.audience, raised.ward_id, raised.zone_id, raised.key) == (
        Alert.Severity.HIGH, "nurses", w.ward.pk, w.bed_b.pk, alert_key(rules.WRONG_PATIENT, bag.pk))
    assert "Bed 102A" in raised.title and raised.state == Alert.State.NEW
    rules.infusion_tick(T0 + 4 * MIN)  # still there: no second alert, no repeat
    assert Alert.objects.filter(kind=rules.WRONG_PATIENT).count() == 1 and raised.occurrences == 1
    enter(bag, w.bed_a, T0 + 5 * MIN, leaving=w.bed_b)  # back home...
    rules.infusion_tick(T0 + 5 * MIN + 10 * SEC)
    raised.refresh_from_db()
    assert raised.condition_active
    rules.infusion_tick(T0 + 5 * MIN + 20 * SEC)  # ...for the hysteresis time: the condition clears
    raised.refresh_from_db()
    assert not raised.condition_active and raised.state == Alert.State.NEW  # a person resolves it
    assert list(bag.events.filter(action__in=["alarm", "alarm_cleared"]).values_list("action", flat=True)) == [
        "alarm", "alarm_cleared"]


def test_it_does_not_call_an_empty_bed_or_a_paused_bag_on_its_way_wrong(w: Ward) -> None:
    bag = bag_make(w, status=S.INFUSING)
    enter(bag, w.bed_free, T0)
    rules.infusion_tick(T0 + MIN)
    assert alert(rules.WRONG_PATIENT, bag) is None  # nobody in 102B


def test_it_raises_left_ward_for_an_infusing_bag_and_clears_it_back_on_the_ward(w: Ward) -> None:
    bag = bag_make(w, status=S.INFUSING)
    waiting = bag_make(w, status=S.ON_WARD, tag_id="E200BAG0002", patient=w.bob)
    enter(bag, w.stairs, T0)
    enter(waiting, w.stairs, T0)
    rules.infusion_tick(T0 + 20 * SEC)
    raised = alert(rules.LEFT_WARD, bag)
    assert raised is not None and raised.severity == Alert.Severity.HIGH and "Stairs 1" in raised.title
    assert alert(rules.LEFT_WARD, waiting) is None  # not infusing: only its timeline says so
    assert bag.events.filter(action="alarm", data__kind=rules.LEFT_WARD).exists()
    enter(bag, w.corridor, T0 + MIN, leaving=w.stairs)
    rules.infusion_tick(T0 + MIN + 20 * SEC)
    raised.refresh_from_db()
    assert not raised.condition_active
    assert list(bag.events.filter(action__in=["left_ward", "arrived_ward"]).values_list("action", flat=True)) == [
        "arrived_ward", "left_ward", "arrived_ward"]  # the first from bag_make


def test_it_warns_near_empty_then_complete_and_resolves_them_when_the_nurse_completes(
    w: Ward, nurse: User
) -> None:
    bag = bag_make(w, status=S.INFUSING, volume_ml=500.0, rate_ml_h=100.0)  # empty at T0 + 5 h
    rules.infusion_tick(T0 + timedelta(hours=4, minutes=44))
    assert alert(rules.NEAR_EMPTY, bag) is None
    rules.infusion_tick(T0 + timedelta(hours=4, minutes=45))
    near = alert(rules.NEAR_EMPTY, bag)
    assert near is not None and near.severity == Alert.Severity.WARNING and "15 min left" in near.title
    rules.infusion_tick(T0 + timedelta(hours=4, minutes=50))
    near.refresh_from_db()
    assert near.occurrences == 1
    rules.infusion_tick(T0 + timedelta(hours=5))
    complete = alert(rules.COMPLETE, bag)
    near.refresh_from_db()
    assert complete is not None and complete.severity == Alert.Severity.HIGH
    assert near.state == Alert.State.RESOLVED  # superseded by "complete"
    assert status(bag) == S.INFUSING  # a nurse completes it
    bags.bag_complete(bag_id=bag.pk, user=nurse, at=T0 + timedelta(hours=5, minutes=3))
    complete.refresh_from_db()
    assert complete.state == Alert.State.RESOLVED and not complete.condition_active
    rules.infusion_tick(T0 + timedelta(hours=6))
    assert Alert.objects.filter(kind__in=[rules.NEAR_EMPTY, rules.COMPLETE]).count() == 2


def test_it_does_not_count_a_paused_stretch_towards_near_empty(w: Ward) -> None:
    bag = bag_make(w, status=S.INFUSING, volume_ml=100.0, rate_ml_h=60.0)  # 100 min
    bags.bag_pause(bag_id=bag.pk, user=None, at=T0 + 60 * MIN)
    rules.infusion_tick(T0 + 10 * 60 * MIN)
    assert alert(rules.NEAR_EMPTY, bag) is None and alert(rules.COMPLETE, bag) is None


def test_it_warns_when_a_bag_waits_at_the_bedside_and_resolves_it_on_start(w: Ward) -> None:
    bag = bag_make(w, status=S.AT_BEDSIDE)
    rules.infusion_tick(T0 + 29 * MIN)
    assert alert(rules.NOT_STARTED, bag) is None
    rules.infusion_tick(T0 + 30 * MIN)
    waiting = alert(rules.NOT_STARTED, bag)
    assert waiting is not None and waiting.severity == Alert.Severity.WARNING
    bags.bag_start(bag_id=bag.pk, user=None, at=T0 + 31 * MIN)
    waiting.refresh_from_db()
    assert waiting.state == Alert.State.RESOLVED


def test_it_flags_an_expired_bag_still_on_the_ward(w: Ward) -> None:
    bag = bag_make(w, status=S.ON_WARD, expires_at=T0 + 60 * MIN)
    rules.infusion_tick(T0 + 59 * MIN)
    assert alert(rules.EXPIRED, bag) is None
    rules.infusion_tick(T0 + 60 * MIN)
    expired = alert(rules.EXPIRED, bag)
    assert expired is not None and expired.severity == Alert.Severity.WARNING and "LOT-7" in expired.message
    bags.bag_return(bag_id=bag.pk, user=None, at=T0 + 70 * MIN)
    expired.refresh_from_db()
    assert expired.state == Alert.State.RESOLVED


def test_it_does_not_raise_again_after_a_restart(w: Ward) -> None:
    bag = bag_make(w, status=S.AT_BEDSIDE)
    rules.infusion_tick(T0 + 40 * MIN)
    rules.reset()  # a new process: what is open stays open, nothing is raised twice
    rules.infusion_tick(T0 + 45 * MIN)
    waiting = alert(rules.NOT_STARTED, bag)
    assert waiting is not None and waiting.occurrences == 1


def test_it_catches_up_with_zone_stays_it_did_not_hear_about(w: Ward) -> None:
    bag = bag_make(w, status=S.INFUSING)
    tag = bag.tracked_object.tag
    assert tag is not None
    ZonePresence.objects.create(tag=tag, zone=w.bed_b, entered_at=T0)
    rules.infusion_tick(T0 + 5 * SEC)  # observes the open stay...
    rules.infusion_tick(T0 + 25 * SEC)  # ...which has lasted the hysteresis time
    assert alert(rules.WRONG_PATIENT, bag) is not None


def test_it_classifies_zones_for_a_bag() -> None:
    bag = rules.BagInfo(1, "T", S.INFUSING, ward_id=10, bed_id=11, patient_id=100, label="x")
    zone = rules.ZoneInfo
    occupied = {11: 100, 12: 200}
    assert rules.place_of(zone(11, "bed", 10, 1, "A"), bag, occupied=occupied) == Place.OWN_BED
    assert rules.place_of(zone(12, "bed", 10, 1, "B"), bag, occupied=occupied) == Place.OTHER_BED
    assert rules.place_of(zone(13, "bed", 10, 1, "C"), bag, occupied=occupied) == Place.WARD
    assert rules.place_of(zone(14, "corridor", 10, 1, "C"), bag, occupied=occupied) == Place.WARD
    assert rules.place_of(zone(15, "stairs", None, 1, "S"), bag, occupied=occupied) == Place.OFF_WARD
    assert rules.place_of(zone(16, "bed", 20, 1, "X"), bag, occupied=occupied) == Place.OFF_WARD
    assert rules.place_of(None, bag, occupied=occupied) == Place.UNKNOWN
    # room-level location (BLE): a room is the bed of the one patient in it
    occupied |= {21: 300, 22: 100, 23: 400}
    assert rules.place_of(zone(20, "room", 10, 1, "own single room", (11,)), bag, occupied=occupied) == Place.OWN_BED
    assert rules.place_of(zone(30, "room", 10, 1, "Bob's room", (12,)), bag, occupied=occupied) == Place.OTHER_BED
    assert rules.place_of(zone(31, "bay", 10, 1, "others' bay", (21, 23)), bag,
                          occupied=occupied) == Place.OTHER_BED
    assert rules.place_of(zone(32, "room", 10, 1, "empty room", (13,)), bag, occupied=occupied) == Place.WARD
    shared = rules.BagInfo(2, "U", S.INFUSING, ward_id=10, bed_id=22, patient_id=100, label="y")
    assert rules.place_of(zone(33, "bay", 10, 1, "shared bay", (21, 22)), shared,
                          occupied=occupied) == Place.WARD  # its patient and another: no guess


def test_it_settles_a_place_only_after_it_held_continuously() -> None:
    watch = rules.PlaceWatch()
    watch.observe(Place.WARD, 1, T0)
    assert watch.settle(T0 + 19 * SEC, 20.0) is None
    done = watch.settle(T0 + 20 * SEC, 20.0)
    assert done == rules.Settled(None, Place.WARD, 1, T0)
    watch.observe(Place.OTHER_BED, 2, T0 + MIN)
    watch.observe(Place.WARD, 1, T0 + MIN + 5 * SEC)  # back before it held: cancelled
    assert watch.settle(T0 + 5 * MIN, 20.0) is None and watch.settled == Place.WARD
    watch.observe(Place.OTHER_BED, 2, T0 + 6 * MIN)
    watch.observe(Place.OTHER_BED, 3, T0 + 6 * MIN + 10 * SEC)  # another wrong bed: the timer goes on
    watch.observe(Place.WARD, 1, T0 + 5 * MIN)  # older than what is known: ignored
    settled = watch.settle(T0 + 6 * MIN + 20 * SEC, 20.0)
    assert settled == rules.Settled(Place.WARD, Place.OTHER_BED, 3, T0 + 6 * MIN)
