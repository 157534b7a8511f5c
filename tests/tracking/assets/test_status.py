"""asset_status_set, the one write path for an asset's status: it records every change with its source and
who or what made it, does nothing when the status is already so, and refuses what it does not know."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User

from tests.tracking.assets.test_rules_helpers import T0, S, asset_make, at
from tracking.assets.status import asset_status_set
from tracking.models import Asset, AssetStatusChange

pytestmark = pytest.mark.django_db
Source = AssetStatusChange.Source


def test_it_sets_the_status_and_records_the_change(biomed: User) -> None:
    pump = asset_make("IP-1")
    change = asset_status_set(asset_id=pump.pk, status=S.OUT_FOR_REPAIR, source=Source.MANUAL, user=biomed, at=T0)

    assert change is not None
    assert (change.from_status, change.to_status, change.source, change.user, change.at) == (
        S.AVAILABLE, S.OUT_FOR_REPAIR, Source.MANUAL, biomed, T0)
    pump.refresh_from_db()
    assert (pump.status, pump.status_changed_at) == (S.OUT_FOR_REPAIR, T0)


def test_it_keeps_a_history_of_each_change_with_its_rule_and_zone(floor: Any) -> None:
    pump = asset_make("IP-1")
    dirty = floor.zones.get(code="3N-DU")
    asset_status_set(asset_id=pump.pk, status=S.NEEDS_CLEANING, source=Source.RULE, zone_id=dirty.pk, at=at(0))
    asset_status_set(asset_id=pump.pk, status=S.AVAILABLE, source=Source.IMPORT, at=at(60))

    history = list(AssetStatusChange.objects.filter(asset=pump).order_by("at")
                   .values_list("from_status", "to_status", "source", "zone_id"))
    assert history == [(S.AVAILABLE, S.NEEDS_CLEANING, Source.RULE, dirty.pk),
                       (S.NEEDS_CLEANING, S.AVAILABLE, Source.IMPORT, None)]


def test_it_returns_none_and_writes_nothing_when_the_status_is_unchanged() -> None:
    pump = asset_make("IP-1", status=S.IN_USE)

    assert asset_status_set(asset_id=pump.pk, status=S.IN_USE, source=Source.MANUAL, at=T0) is None
    assert not AssetStatusChange.objects.exists()
    pump.refresh_from_db()
    assert pump.status_changed_at is None


def test_it_changes_only_from_the_given_statuses_when_asked() -> None:
    """A rule's "from" condition is checked under the row lock: a repair set meanwhile is not undone."""
    pump = asset_make("IP-1", status=S.OUT_FOR_REPAIR)

    assert asset_status_set(asset_id=pump.pk, status=S.IN_USE, source=Source.RULE, at=T0,
                            only_from={S.AVAILABLE}) is None
    assert Asset.objects.get(pk=pump.pk).status == S.OUT_FOR_REPAIR
    assert asset_status_set(asset_id=pump.pk, status=S.AVAILABLE, source=Source.MANUAL, at=T0,
                            only_from={S.OUT_FOR_REPAIR}) is not None


def test_it_does_not_store_an_anonymous_user() -> None:
    pump = asset_make("IP-1")
    change = asset_status_set(asset_id=pump.pk, status=S.IN_USE, source=Source.MANUAL, user=AnonymousUser(), at=T0)
    assert change is not None and change.user is None


@pytest.mark.parametrize(("status", "source", "error"), [
    ("broken", Source.MANUAL, "status 'broken': expected one of"),
    ("", Source.MANUAL, "status '': expected one of"),
    (S.IN_USE, "robot", "source 'robot': expected one of"),
])
def test_it_refuses_an_unknown_status_or_source(status: str, source: str, error: str) -> None:
    pump = asset_make("IP-1")
    with pytest.raises(ValueError, match=error):
        asset_status_set(asset_id=pump.pk, status=status, source=source, at=T0)
    assert Asset.objects.get(pk=pump.pk).status == S.AVAILABLE and not AssetStatusChange.objects.exists()


def test_it_raises_for_an_unknown_asset() -> None:
    with pytest.raises(Asset.DoesNotExist):
        asset_status_set(asset_id=999_999, status=S.IN_USE, source=Source.MANUAL, at=T0)
