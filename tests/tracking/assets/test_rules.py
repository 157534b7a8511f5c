"""Status from place: which rule wins (pure, table-driven), rules applied on entry (no dwell) and by the
periodic tick once the dwell has passed, a person's decision during a stay left alone, the directory's
cache (one dict lookup for a tag that is not an asset) and the default rules of migration 0009."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from floorplans.models import Floor, Zone
from tests.tracking.assets.test_rules_helpers import T0, S, asset_make, at, entered, stay, zone
from tracking.assets import rules
from tracking.assets.rules import RuleSpec, ZoneNode, chain_of, dwell_due_at, rules_matching
from tracking.assets.services_rules import statusrule_save
from tracking.assets.status import asset_status_set
from tracking.models import Asset, AssetStatusChange, ForbiddenZone, StatusRule, Tag
from tracking.pipeline.events import ZoneEntered, ZoneExited
from tracking.services import tracked_object_tag

Source = AssetStatusChange.Source


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.ASSET_DIRECTORY_TTL_S = 3600.0  # only saves invalidate: proves the signals do
    rules.reset()
    yield
    rules.reset()


# --- pure ------------------------------------------------------------------------------------------------

BED = ZoneNode(3, "bed", "Bed 1A", 1, (3, 2, 1))
ROOM = ZoneNode(2, "room", "Room 1", 1, (2, 1))
WARD = ZoneNode(1, "ward", "3 North", 1, (1,))
CHAIN = [BED, ROOM, WARD]


def spec(pk: int, *, zone_id: int | None = None, kind: str = "", category: str = "", from_: tuple[str, ...] = (),
         status: str = S.IN_USE, after_s: int = 0, priority: int = 0) -> RuleSpec:
    return RuleSpec(pk, f"rule {pk}", zone_id, kind, category, frozenset(from_), status, after_s, priority)


@pytest.mark.parametrize(("specs", "category", "status", "expected"), [
    ([spec(1, kind="room")], "infusion_pump", S.AVAILABLE, [1]),  # a bed is in the room
    ([spec(1, kind="storage")], "infusion_pump", S.AVAILABLE, []),  # not here
    ([spec(1, kind="room", category="wheelchair")], "infusion_pump", S.AVAILABLE, []),  # another category
    ([spec(1, kind="room", from_=(S.AVAILABLE,))], "infusion_pump", S.NEEDS_CLEANING, []),  # not from this
    ([spec(1, kind="room")], "infusion_pump", S.OUT_FOR_REPAIR, []),  # empty from: never repair or retired
    ([spec(1, kind="room", from_=(S.OUT_FOR_REPAIR,))], "bed", S.OUT_FOR_REPAIR, [1]),  # unless named
    ([spec(1, kind="room", status=S.IN_USE)], "bed", S.IN_USE, []),  # already so
    ([spec(1, kind="ward"), spec(2, kind="room")], "bed", S.AVAILABLE, [2, 1]),  # the nearer zone first
    ([spec(1, kind="room"), spec(2, zone_id=2)], "bed", S.AVAILABLE, [2, 1]),  # a zone rule before a kind rule
    ([spec(1, kind="bed"), spec(2, kind="ward", priority=5)], "bed", S.AVAILABLE, [2, 1]),  # priority first
    ([spec(7, kind="room"), spec(3, kind="room")], "bed", S.AVAILABLE, [3, 7]),  # then the older rule
])
def test_it_ranks_the_rules_that_match(specs: list[RuleSpec], category: str, status: str,
                                       expected: list[int]) -> None:
    assert [r.pk for r in rules_matching(specs, CHAIN, category=category, status=status)] == expected


def test_it_counts_the_dwell_from_the_later_of_entry_and_status_change() -> None:
    rule = spec(1, after_s=600)
    assert dwell_due_at(rule, entered_at=at(0), status_since=None) == at(600)
    assert dwell_due_at(rule, entered_at=at(0), status_since=at(-50)) == at(600)
    assert dwell_due_at(rule, entered_at=at(0), status_since=at(100)) == at(700)


def test_it_walks_a_zone_up_its_parents_then_its_ward_and_survives_a_cycle() -> None:
    parent = {3: 2, 2: None, 1: None, 5: 6, 6: 5}
    ward = {3: 1, 2: 1, 1: None, 5: None, 6: None}
    assert chain_of(3, parent, ward) == (3, 2, 1)
    assert chain_of(5, parent, ward) == (5, 6)


# --- in the database ----------------------------------------------------------------------------------------

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_data")]


def _rule(name: str, **fields: Any) -> StatusRule:
    return statusrule_save(name=name, **fields)


@pytest.fixture
def ward_rules(floor: Floor) -> Floor:
    StatusRule.objects.all().delete()  # the defaults of migration 0009 are tested on their own below
    _rule("dirty", zone_kind=Zone.Kind.DIRTY_UTILITY, status=S.NEEDS_CLEANING, priority=10)
    _rule("room", zone_kind=Zone.Kind.ROOM, from_statuses=[S.AVAILABLE], status=S.IN_USE, after_s=600)
    _rule("store", zone_kind=Zone.Kind.STORAGE, from_statuses=[S.NEEDS_CLEANING], status=S.AVAILABLE, after_s=120)
    return floor


def _status(asset: Asset) -> str:
    return Asset.objects.get(pk=asset.pk).status


def test_it_applies_a_rule_without_dwell_on_entry(ward_rules: Floor) -> None:
    pump = asset_make("IP-1", status=S.IN_USE)
    dirty = zone(ward_rules, "3N-DU")
    rules.on_zone_entered(entered(pump, dirty, when=at(5)))

    change = AssetStatusChange.objects.get(asset=pump)
    assert (change.from_status, change.to_status, change.source, change.zone_id, change.at) == (
        S.IN_USE, S.NEEDS_CLEANING, Source.RULE, dirty.pk, at(5))
    assert change.rule == StatusRule.objects.get(name="dirty")


def test_it_leaves_repair_and_retired_assets_to_people(ward_rules: Floor) -> None:
    broken = asset_make("IP-1", status=S.OUT_FOR_REPAIR)
    rules.on_zone_entered(entered(broken, zone(ward_rules, "3N-DU")))
    assert _status(broken) == S.OUT_FOR_REPAIR and not AssetStatusChange.objects.exists()


def test_it_applies_a_dwell_rule_on_the_tick_once_the_dwell_has_passed(ward_rules: Floor) -> None:
    pump = asset_make("IP-1")
    bed = zone(ward_rules, "3N-101-A")  # inside room 101: the room rule holds at the bed
    rules.on_zone_entered(entered(pump, bed, when=at(0)))
    stay(pump, bed, entered_at=at(0))
    assert _status(pump) == S.AVAILABLE  # not on entry: it has a dwell

    assert rules.asset_rules_tick(at(599)) == 0
    assert rules.asset_rules_tick(at(610)) == 1
    change = AssetStatusChange.objects.get(asset=pump)
    assert (change.to_status, change.at, change.zone_id, change.source) == (S.IN_USE, at(600), bed.pk, Source.RULE)
    assert rules.asset_rules_tick(at(700)) == 0  # applied once


def test_it_counts_the_dwell_from_the_status_change_within_the_stay(ward_rules: Floor) -> None:
    pump = asset_make("IP-1", status=S.NEEDS_CLEANING)
    store = zone(ward_rules, "3N-ST")
    stay(pump, store, entered_at=at(0))
    rules.asset_rules_tick(at(130))
    assert _status(pump) == S.AVAILABLE  # the store rule: 2 min after cleaning-needed
    assert AssetStatusChange.objects.get(asset=pump).at == at(120)


def test_it_leaves_alone_a_status_a_person_set_during_the_stay(ward_rules: Floor, biomed: User) -> None:
    pump = asset_make("IP-1")
    room = zone(ward_rules, "3N-101")
    stay(pump, room, entered_at=at(0))
    rules.asset_rules_tick(at(600))
    asset_status_set(asset_id=pump.pk, status=S.AVAILABLE, source=Source.MANUAL, user=biomed, at=at(900))

    assert rules.asset_rules_tick(at(5000)) == 0
    assert _status(pump) == S.AVAILABLE
    stay(pump, zone(ward_rules, "3N-C"), entered_at=at(6000))  # out and back in: a new stay
    stay(pump, room, entered_at=at(6100))
    assert rules.asset_rules_tick(at(6700)) == 1 and _status(pump) == S.IN_USE


def test_it_ignores_disabled_rules(ward_rules: Floor) -> None:
    StatusRule.objects.filter(name="dirty").update(enabled=False)
    rules.invalidate()  # update() sends no signal
    pump = asset_make("IP-1")
    rules.on_zone_entered(entered(pump, zone(ward_rules, "3N-DU")))
    assert _status(pump) == S.AVAILABLE


def test_it_costs_a_dict_lookup_for_a_tag_that_is_not_an_asset(ward_rules: Floor, django_assert_num_queries: Any,
                                                                 ) -> None:
    tracked_object_tag(kind="staff", name="Nurse badge", tag_id="BADGE-1", tech="ble")
    asset_make("IP-1")
    badge = Tag.objects.get(tag_id="BADGE-1")
    rules.STATE.current()  # warm
    dirty = zone(ward_rules, "3N-DU")
    with django_assert_num_queries(0):
        rules.on_zone_entered(ZoneEntered(badge.pk, badge.tag_id, dirty.floor_id, dirty.pk, T0))
        rules.on_zone_exited(ZoneExited(badge.pk, badge.tag_id, dirty.floor_id, dirty.pk, T0))


def test_it_knows_a_new_asset_at_once_because_saves_invalidate_the_directory(ward_rules: Floor) -> None:
    rules.STATE.current()  # loaded before the asset exists; the TTL is an hour
    pump = asset_make("IP-9")
    rules.on_zone_entered(entered(pump, zone(ward_rules, "3N-DU")))
    assert _status(pump) == S.NEEDS_CLEANING


def test_a_status_change_keeps_the_directory(ward_rules: Floor) -> None:
    """Rules change statuses often; the directory holds no status, so it is not reloaded for one."""
    pump = asset_make("IP-1")
    loaded = rules.STATE.current()
    asset_status_set(asset_id=pump.pk, status=S.IN_USE, source=Source.MANUAL, at=T0)
    assert rules.STATE.current() is loaded
    Asset.objects.get(pk=pump.pk).save()  # a full save may have changed anything
    assert rules.STATE.current() is not loaded


def test_the_defaults_of_migration_0009_are_on_file() -> None:
    defaults = {(r.zone_kind, tuple(r.from_statuses), r.status, r.after_s)
                for r in StatusRule.objects.filter(enabled=True)}
    assert defaults >= {
        ("dirty_utility", (), "needs_cleaning", 0),
        ("room", ("available",), "in_use", 600),
        ("clean_utility", ("needs_cleaning",), "available", 120),
        ("storage", ("needs_cleaning",), "available", 120),
    }
    forbidden = set(ForbiddenZone.objects.filter(zone=None, category="").values_list("zone_kind", flat=True))
    assert forbidden >= {"loading_dock", "entrance", "exit"}


def test_it_runs_the_default_rules_on_the_ward(floor: Floor) -> None:
    """The rules as shipped: dirty utility at once; a room after 10 min; the store 2 min after cleaning."""
    pump = asset_make("IP-1")
    dirty, store, room = zone(floor, "3N-DU"), zone(floor, "3N-ST"), zone(floor, "3N-101")
    for where, since, tick in ((room, 0, 650), (dirty, 1000, 1010), (store, 1100, 1300)):
        rules.on_zone_entered(entered(pump, where, when=at(since)))
        stay(pump, where, entered_at=at(since))
        rules.asset_rules_tick(at(tick))
    history = list(AssetStatusChange.objects.filter(asset=pump).order_by("at").values_list("to_status", "at"))
    assert history == [(S.IN_USE, at(600)), (S.NEEDS_CLEANING, at(1000)), (S.AVAILABLE, at(1220))]


def test_tracking_ready_wires_the_rules_to_the_pipeline_and_the_periodic_runner() -> None:
    from alerts import periodic
    from tracking.pipeline import events

    jobs = periodic.registered()
    assert jobs["assets.rules"].job is rules.asset_rules_tick and jobs["assets.par"].job is rules.par_tick
    assert jobs["assets.par"].every_s == 30.0
    assert all(events.wanted(kind) for kind in (ZoneEntered, ZoneExited, events.PortalCrossed))
