"""The demo inventory's infusion bags (pure, seeded): for admitted demo patients, at their beds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from floorplans.demo.inventory import (
    BAG_TAG_PREFIX,
    DemoBag,
    DemoPatient,
    demo_assets,
    demo_bags,
    demo_patients,
    demo_wearers,
)
from floorplans.demo.layout import demo_floors

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
TODAY = date(2026, 3, 4)


@cache
def floors() -> list[dict[str, Any]]:
    return demo_floors()


def patients() -> list[DemoPatient]:
    return demo_patients(floors(), today=TODAY)


def bags() -> list[DemoBag]:
    return demo_bags(floors(), patients(), now=NOW)


def minutes_left(bag: DemoBag) -> float:
    assert bag.started_at is not None
    infused = bag.ordered_rate_ml_h * (NOW - bag.started_at).total_seconds() / 3600.0
    return (bag.volume_ml - infused) / bag.ordered_rate_ml_h * 60.0


def test_it_gives_bags_to_admitted_demo_patients_at_their_beds_on_both_wards() -> None:
    beds = {p.mrn: p.bed for p in patients()}
    result = bags()
    assert all(beds[bag.mrn] == bag.bed for bag in result)
    assert all(bag.bed.startswith(f"{bag.ward}-") for bag in result)
    assert len({bag.mrn for bag in result}) == len(result)  # one bag per patient
    per_ward = {ward: [b for b in result if b.ward == ward] for ward in {b.ward for b in result}}
    assert set(per_ward) == {"4W", "2E"}
    assert len(per_ward["4W"]) >= 5
    for ward_bags in per_ward.values():  # infusing ones and one waiting at the bedside on every ward
        assert [b.stage for b in ward_bags].count("bedside") == 1
        assert any(b.stage == "infusing" for b in ward_bags)


def test_it_starts_bags_in_the_past_with_one_near_empty_and_none_run_dry() -> None:
    infusing = [bag for bag in bags() if bag.stage == "infusing"]
    assert all(bag.started_at is not None and bag.started_at < NOW for bag in infusing)
    left = sorted(minutes_left(bag) for bag in infusing)
    assert 0 < left[0] <= 15  # near empty: the board warns about it
    assert all(minutes >= 60 for minutes in left[1:])  # the others have a way to go
    assert all(bag.started_at is None for bag in bags() if bag.stage == "bedside")


def test_it_labels_bags_plausibly() -> None:
    for bag in bags():
        assert bag.drug and bag.concentration and bag.lot
        assert bag.volume_ml > 0 and 0 < bag.ordered_rate_ml_h <= 999
        assert NOW + timedelta(days=1) < bag.expires_at < NOW + timedelta(days=90)
        assert bag.tech == "ble" and bag.tag_id.startswith(BAG_TAG_PREFIX) and len(bag.tag_id) == 12


def test_its_tag_ids_are_unique_and_collide_with_no_other_demo_tag() -> None:
    tags = [bag.tag_id for bag in bags()]
    others = {a.tag_id for a in demo_assets(floors(), today=TODAY)} | {w.tag_id for w in demo_wearers(floors())}
    assert len(set(tags)) == len(tags)
    assert not set(tags) & others


def test_the_same_inputs_give_the_same_bags() -> None:
    assert bags() == bags()
    later = demo_bags(floors(), patients(), now=NOW + timedelta(hours=1))
    assert [(b.tag_id, b.mrn, b.drug) for b in later] == [(b.tag_id, b.mrn, b.drug) for b in bags()]
