"""PAR levels: the available assets of a category in a zone are counted; below critical the owning ward's
nurses get "assets.par_low" (WARNING, HIGH at zero); back at critical the condition clears; back at target
the alert resolves. Counted after each status change (asset_status_set), on zone changes and on the tick."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db import transaction

from alerts.models import Alert
from floorplans.models import Floor, Zone
from tests.tracking.assets.test_rules_helpers import T0, S, asset_make, at, exited, locate, zone
from tracking.assets import rules
from tracking.assets.demo import DEMO_PAR_LEVELS, assets_demo_load
from tracking.assets.rules import ParSpec, ParState, par_counts, par_state
from tracking.assets.selectors_rules import par_levels_overview
from tracking.assets.services_rules import parlevel_delete, parlevel_save
from tracking.assets.status import asset_status_set
from tracking.models import Asset, AssetStatusChange, ParLevel, Tag

pytestmark = pytest.mark.django_db
Capture = Callable[..., AbstractContextManager[Any]]


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.ASSET_DIRECTORY_TTL_S = 3600.0
    rules.reset()
    yield
    rules.reset()


@pytest.mark.parametrize(("count", "critical", "target", "state"), [
    (0, 3, 6, ParState.ZERO), (2, 3, 6, ParState.LOW), (3, 3, 6, ParState.BELOW_TARGET),
    (6, 3, 6, ParState.AT_TARGET), (9, 3, 6, ParState.AT_TARGET), (0, 0, 2, ParState.BELOW_TARGET),
])
def test_it_names_the_state_of_a_count(count: int, critical: int, target: int, state: str) -> None:
    assert par_state(count, critical=critical, target=target) == state


def test_it_counts_per_level_in_the_zone_and_the_zones_inside_it() -> None:
    ward = ParSpec(1, 10, "infusion_pump", 4, 2, None, "pumps on the ward")
    store = ParSpec(2, 11, "infusion_pump", 4, 2, None, "pumps in the store")
    chairs = ParSpec(3, 11, "wheelchair", 2, 1, None, "chairs in the store")
    within = {10: frozenset({10, 11, 12}), 11: frozenset({11})}
    rows = [("infusion_pump", 11), ("infusion_pump", 12), ("infusion_pump", 99), ("wheelchair", 11)]
    assert par_counts([ward, store, chairs], rows, within) == {1: 2, 2: 1, 3: 1}


@pytest.fixture
def store(floor: Floor) -> Zone:
    return zone(floor, "3N-ST")


@pytest.fixture
def pumps(store: Zone) -> list[Asset]:
    """Four available pumps in the store, one in the corridor."""
    out = [asset_make(f"IP-{i}") for i in range(1, 6)]
    for pump in out[:4]:
        locate(pump, store)
    locate(out[4], Zone.objects.get(floor=store.floor, code="3N-C"))
    return out


@pytest.fixture
def level(store: Zone, pumps: list[Asset]) -> ParLevel:
    return parlevel_save(zone=store, category=Asset.Category.INFUSION_PUMP, target_count=4, critical_count=2,
                         ward=Zone.objects.get(floor=store.floor, code="3N"))


def _alert() -> Alert | None:
    return Alert.objects.filter(kind=rules.PAR_LOW).first()


def _use(pump: Asset, capture: Capture, *, when: Any = T0, status: str = S.IN_USE) -> None:
    with capture(execute=True):  # the PAR check runs once the status change is committed
        asset_status_set(asset_id=pump.pk, status=status, source=AssetStatusChange.Source.MANUAL, at=when)


def test_it_alerts_the_ward_below_critical_and_clears_and_resolves_as_stock_returns(
    level: ParLevel, pumps: list[Asset], django_capture_on_commit_callbacks: Capture,
) -> None:
    capture = django_capture_on_commit_callbacks
    assert rules.par_check(now=T0) == 0 and _alert() is None
    _use(pumps[0], capture, when=at(1))
    _use(pumps[1], capture, when=at(2))
    assert _alert() is None  # 2 of 4: below target, at critical

    _use(pumps[2], capture, when=at(3))
    alert = _alert()
    assert alert is not None
    assert (alert.severity, alert.audience, alert.ward_id, alert.zone_id) == (
        Alert.Severity.WARNING, "nurses", level.ward_id, level.zone_id)
    assert (alert.subject_type, alert.subject_id) == ("asset", f"par:{level.pk}")
    assert alert.key == f"assets.par_low:{level.pk}"
    assert alert.subject_label == "infusion pumps in Equipment store"
    assert alert.data["count"] == 1 and "only 1" in alert.title

    _use(pumps[3], capture, when=at(4))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.HIGH and alert.data["count"] == 0  # none left

    _use(pumps[0], capture, when=at(5), status=S.AVAILABLE)
    _use(pumps[1], capture, when=at(6), status=S.AVAILABLE)
    alert.refresh_from_db()
    assert alert.state == Alert.State.NEW and not alert.condition_active  # at critical: cleared, still open

    _use(pumps[2], capture, when=at(7), status=S.AVAILABLE)
    _use(pumps[3], capture, when=at(8), status=S.AVAILABLE)
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED  # back at PAR
    assert Alert.objects.filter(kind=rules.PAR_LOW).count() == 1


def test_it_does_not_raise_the_same_count_twice(level: ParLevel, pumps: list[Asset]) -> None:
    Asset.objects.filter(pk__in=[p.pk for p in pumps[:3]]).update(status=S.IN_USE)
    assert rules.par_tick(at(0)) == 1
    assert rules.par_tick(at(30)) == 0
    alert = _alert()
    assert alert is not None and alert.occurrences == 1


def test_it_counts_only_available_assets_with_an_active_tag(level: ParLevel, pumps: list[Asset]) -> None:
    Asset.objects.filter(pk=pumps[0].pk).update(status=S.NEEDS_CLEANING)
    Tag.objects.filter(tracked_object__asset=pumps[1]).update(active=False)
    [row] = par_levels_overview([level])
    assert (row["available"], row["state"]) == (2, ParState.BELOW_TARGET)  # four there, two do not count
    Asset.objects.filter(pk=pumps[2].pk).update(status=S.RETIRED)
    rules.par_tick(T0)
    alert = _alert()
    assert alert is not None and alert.data["count"] == 1


def test_it_recounts_when_an_asset_of_the_category_leaves_the_zone(level: ParLevel, pumps: list[Asset],
                                                                  store: Zone) -> None:
    corridor = Zone.objects.get(floor=store.floor, code="3N-C")
    for pump in pumps[:3]:
        locate(pump, corridor, when=at(10))
    rules.on_zone_exited(exited(pumps[2], store, when=at(10)))
    alert = _alert()
    assert alert is not None and alert.data["count"] == 1


def test_it_counts_a_level_as_soon_as_it_is_saved_and_resolves_it_when_deleted(
    store: Zone, pumps: list[Asset], django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        par = parlevel_save(zone=store, category=Asset.Category.INFUSION_PUMP, target_count=8, critical_count=5)
    alert = _alert()
    assert alert is not None and alert.data["count"] == 4
    assert alert.ward_id == Zone.objects.get(floor=store.floor, code="3N").pk  # the store's ward by default
    parlevel_delete(par_id=par.pk)
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED


def test_a_ward_level_counts_the_rooms_inside_it(floor: Floor, pumps: list[Asset]) -> None:
    ward = zone(floor, "3N")
    parlevel_save(zone=ward, category=Asset.Category.INFUSION_PUMP, target_count=6, critical_count=6)
    rules.par_tick(T0)
    alert = _alert()
    assert alert is not None and alert.data["count"] == 5  # store and corridor are on the ward


def test_the_overview_shows_count_state_and_bar(level: ParLevel, pumps: list[Asset]) -> None:
    Asset.objects.filter(pk=pumps[0].pk).update(status=S.IN_USE)
    [row] = par_levels_overview(ParLevel.objects.select_related("zone", "zone__floor", "ward"))
    assert (row["available"], row["state"], row["state_label"], row["fill_pct"], row["critical_pct"]) == (
        3, ParState.BELOW_TARGET, "below target", 75, 50)
    assert row["ward_name"] == "3 North" and row["alert"] is None


def test_the_demo_loader_creates_its_levels_where_the_zones_exist(floor: Floor) -> None:
    Zone.objects.filter(floor=floor, code="3N-ST").update(code="4W-EQUIP")
    Zone.objects.filter(floor=floor, code="3N").update(code="4W")
    levels = assets_demo_load()
    assert {(p.zone.code, p.category, p.target_count, p.critical_count, p.ward.code if p.ward else None)
            for p in levels} == {(z, c, t, k, w) for z, w, c, t, k in DEMO_PAR_LEVELS if z == "4W-EQUIP"}
    assert len(assets_demo_load()) == len(levels) and ParLevel.objects.count() == len(levels)  # again: updated


def test_a_transaction_of_many_changes_counts_each_category_once(
    level: ParLevel, pumps: list[Asset], django_capture_on_commit_callbacks: Capture, monkeypatch: Any,
) -> None:
    """A CSV import changing hundreds of statuses in one transaction counts the PAR levels once after it."""
    calls: list[str | None] = []
    real = rules.par_check

    def counting(**kwargs: Any) -> int:
        calls.append(kwargs.get("category"))
        return real(**kwargs)

    monkeypatch.setattr(rules, "par_check", counting)
    chair = asset_make("WC-1", category=Asset.Category.WHEELCHAIR)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for i, asset in enumerate([*pumps, chair]):
            asset_status_set(asset_id=asset.pk, status=S.IN_USE, source=AssetStatusChange.Source.IMPORT, at=at(i))
    assert sorted(c or "" for c in calls) == ["infusion_pump", "wheelchair"]
    alert = _alert()
    assert alert is not None and alert.data["count"] == 0
