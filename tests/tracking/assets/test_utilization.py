"""Utilization: the interval arithmetic on arrays (pure, tables of cases, a seeded random property), then the
same from the database (status changes and zone stays) through the API and the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from tests.tracking.assets.audit_world import AuditWorld, audit_world_make
from tracking.assets.utilization import STATE, STATES, group_seconds, status_seconds, unseen_intervals
from tracking.assets.utilization_data import utilization_compute
from tracking.models import AssetStatusChange, Tag, ZonePresence

S = STATE
EMPTY_I, EMPTY_F = np.zeros(0, dtype=np.int64), np.zeros(0)


def _one(initial: str, changes: list[tuple[float, str]], unseen: list[tuple[float, float]]) -> dict[str, float]:
    """Seconds per state of one asset over [0, 1000)."""
    out = status_seconds(
        initial=np.array([S[initial]]), change_asset=np.zeros(len(changes), dtype=np.int64),
        change_t_s=np.array([t for t, _ in changes], dtype=float), change_state=np.array([S[s] for _, s in changes]),
        unseen_asset=np.zeros(len(unseen), dtype=np.int64), unseen_start_s=np.array([a for a, _ in unseen], float),
        unseen_end_s=np.array([b for _, b in unseen], float), start_s=0.0, end_s=1000.0)
    assert out.sum() == pytest.approx(1000.0)
    return {state: float(v) for state, v in zip(STATES, out[0], strict=True) if v}


@pytest.mark.parametrize(("initial", "changes", "unseen", "expected"), [
    ("available", [], [], {"available": 1000}),
    ("available", [(100, "in_use"), (400, "needs_cleaning"), (500, "available")], [],
     {"available": 600, "in_use": 300, "needs_cleaning": 100}),
    ("unknown", [(-50, "in_use"), (-10, "out_for_repair")], [], {"out_for_repair": 1000}),  # before: the last wins
    ("available", [(0, "in_use")], [], {"in_use": 1000}),  # a change at the start overrides the initial state
    ("available", [(1000, "in_use"), (5000, "retired")], [], {"available": 1000}),  # at or after the end: no
    ("available", [(100, "in_use"), (100, "needs_cleaning")], [], {"available": 100, "needs_cleaning": 900}),
    ("in_use", [], [(300, 700)], {"in_use": 600, "missing": 400}),
    ("in_use", [], [(300, 700), (500, 900), (-100, 100)], {"in_use": 300, "missing": 700}),  # overlaps merge
    ("out_for_repair", [], [(0, 1000)], {"out_for_repair": 1000}),  # away on purpose: never missing
    ("available", [(500, "retired")], [(0, 1000)], {"missing": 500, "retired": 500}),
])
def test_it_splits_an_assets_time_by_state(initial: str, changes: list[tuple[float, str]],
                                           unseen: list[tuple[float, float]], expected: dict[str, float]) -> None:
    assert _one(initial, changes, unseen) == expected


def test_it_keeps_assets_apart_and_every_row_sums_to_the_period() -> None:
    rng = np.random.default_rng(42)
    n, k, m = 30, 300, 90
    initial = rng.integers(0, len(STATES), n)
    change_asset, change_t = rng.integers(0, n, k), rng.uniform(-200, 1200, k)
    change_state = rng.integers(0, len(STATES), k)
    unseen_asset, unseen_a = rng.integers(0, n, m), rng.uniform(-100, 1000, m)
    unseen_b = unseen_a + rng.uniform(0, 300, m)
    together = status_seconds(initial=initial, change_asset=change_asset, change_t_s=change_t,
                              change_state=change_state, unseen_asset=unseen_asset, unseen_start_s=unseen_a,
                              unseen_end_s=unseen_b, start_s=0.0, end_s=1000.0)
    np.testing.assert_allclose(together.sum(axis=1), 1000.0)
    for i in range(n):  # each asset alone gives its row of all together
        c, u = change_asset == i, unseen_asset == i
        alone = status_seconds(initial=initial[i:i + 1], change_asset=np.zeros(c.sum(), np.int64),
                               change_t_s=change_t[c], change_state=change_state[c],
                               unseen_asset=np.zeros(u.sum(), np.int64), unseen_start_s=unseen_a[u],
                               unseen_end_s=unseen_b[u], start_s=0.0, end_s=1000.0)
        np.testing.assert_allclose(alone[0], together[i], atol=1e-6)


@pytest.mark.parametrize(("seen", "grace", "expected"), [
    ([(10, 200), (500, 600)], 100, [(0, 10), (300, 500), (700, 1000)]),  # missing after 100 s unseen
    ([(0, 1000)], 100, []),
    ([], 100, [(0, 1000)]),  # never seen since before the period: missing from its start
    ([(-150, -150)], 100, [(0, 1000)]),  # seen 150 s before the start, grace 100: missing from the start
    ([(-50, -50)], 100, [(50, 1000)]),
    ([(100, 300), (200, 250), (320, 330)], 100, [(0, 100), (430, 1000)]),  # nested and overlapping stays merge
    ([(500, 500)], 0, [(0, 500), (500, 1000)]),
])
def test_it_finds_where_an_asset_was_missing(seen: list[tuple[float, float]], grace: float,
                                             expected: list[tuple[float, float]]) -> None:
    asset, start, end = unseen_intervals(
        n_assets=2, seen_asset=np.zeros(len(seen), dtype=np.int64), seen_start_s=np.array([a for a, _ in seen], float),
        seen_end_s=np.array([b for _, b in seen], float), start_s=0.0, end_s=1000.0, grace_s=grace)
    mine = [(float(a), float(b)) for i, a, b in zip(asset, start, end, strict=True) if i == 0]
    assert mine == expected
    assert [(float(a), float(b)) for i, a, b in zip(asset, start, end, strict=True) if i == 1] == [(0.0, 1000.0)]


def test_it_groups_and_refuses_bad_input() -> None:
    seconds = np.array([[10.0, 30.0, 0, 0, 0, 0, 0], [0, 40.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]])
    summed, fractions = group_seconds(seconds, np.array([0, 0, 1]), 2)
    np.testing.assert_allclose(summed[0, :2], [10, 70])
    np.testing.assert_allclose(fractions, np.array([[0.125, 0.875, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="empty"):
        status_seconds(initial=np.zeros(1, np.int64), change_asset=EMPTY_I, change_t_s=EMPTY_F, change_state=EMPTY_I,
                       unseen_asset=EMPTY_I, unseen_start_s=EMPTY_F, unseen_end_s=EMPTY_F, start_s=5.0, end_s=5.0)
    with pytest.raises(ValueError, match="need"):
        group_seconds(seconds, np.array([0, 1]), 2)


# ---- from the database ---------------------------------------------------------------------------------

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 11, tzinfo=UTC)  # ten days
DAY = timedelta(days=1)


@pytest.fixture
def world(db: None, floor_doc: dict[str, Any]) -> AuditWorld:
    """pump-1: available, in use for days 2-5, then needs cleaning for a day; seen in the store throughout.
    pump-2: in use all along but unseen after day 3 (missing after 24 h: from day 4). monitor-5 out for repair."""
    world = audit_world_make(floor_doc)
    pump1, pump2, monitor = world.assets["pump-1"], world.assets["pump-2"], world.assets["monitor-5"]
    AssetStatusChange.objects.bulk_create([
        AssetStatusChange(asset=pump1, at=START - 3 * DAY, from_status="", to_status="available", source="import"),
        AssetStatusChange(asset=pump1, at=START + 2 * DAY, from_status="available", to_status="in_use", source="rule"),
        AssetStatusChange(asset=pump1, at=START + 5 * DAY, from_status="in_use", to_status="needs_cleaning",
                          source="rule"),
        AssetStatusChange(asset=pump1, at=START + 6 * DAY, from_status="needs_cleaning", to_status="available",
                          source="rule"),
        AssetStatusChange(asset=pump2, at=START + DAY, from_status="in_use", to_status="in_use", source="manual"),
        AssetStatusChange(asset=monitor, at=START - DAY, from_status="available", to_status="out_for_repair",
                          source="manual"),
    ])
    tag = {name: Tag.objects.get(tag_id=world.epc(name)) for name in ("pump-1", "pump-2")}
    ZonePresence.objects.bulk_create([
        ZonePresence(tag=tag["pump-1"], zone=world.store, entered_at=START - 5 * DAY),
        ZonePresence(tag=tag["pump-2"], zone=world.room, entered_at=START - DAY, exited_at=START + 3 * DAY),
    ])
    return world


def test_it_computes_utilization_per_category_and_unit_from_the_database(world: AuditWorld) -> None:
    result = utilization_compute(start=START, end=END, category="infusion_pump", department_id=world.ward.pk)
    per_asset = dict(zip(result.asset_ids, result.per_asset / 86400, strict=True))
    day = {s: i for i, s in enumerate(STATES)}
    pump1 = per_asset[world.assets["pump-1"].pk]
    assert (pump1[day["available"]], pump1[day["in_use"]], pump1[day["needs_cleaning"]]) == pytest.approx((6, 3, 1))
    pump2 = per_asset[world.assets["pump-2"].pk]
    assert (pump2[day["in_use"]], pump2[day["missing"]]) == pytest.approx((4, 6))  # unseen from day 3, +24 h
    assert result.by_category.labels == ["infusion pump"] and result.by_unit.labels == ["3 North"]
    assert result.by_category.assets == [5]  # pumps 1-4 and the retired one
    monitor = utilization_compute(start=START, end=END, category="monitor").per_asset[0] / 86400
    assert monitor[day["out_for_repair"]] == pytest.approx(10)


def test_a_period_reaching_past_now_is_measured_up_to_now(world: AuditWorld) -> None:
    """The rest of today has not happened: it is neither available nor missing time."""
    now = START + 2.5 * DAY  # pump-1: available 2 days, then in use for half a day so far
    result = utilization_compute(start=START, end=END, category="infusion_pump", now=now)
    pump1 = dict(zip(result.asset_ids, result.per_asset / 86400, strict=True))[world.assets["pump-1"].pk]
    day = {s: i for i, s in enumerate(STATES)}
    assert (pump1[day["available"]], pump1[day["in_use"]], pump1.sum()) == pytest.approx((2, 0.5, 2.5))
    with pytest.raises(ValueError, match="before it starts"):
        utilization_compute(start=START, end=END, now=START - DAY)  # a period wholly in the future


def test_the_api_and_page_show_utilization_with_charts(api: APIClient, client: Client, biomed: User,
                                                       world: AuditWorld) -> None:
    api.force_authenticate(biomed)
    body = api.get("/api/assets/utilization/", {"start": "2026-11-01", "end": "2026-11-10"}).json()
    assert (body["start"], body["end"]) == ("2026-11-01T00:00:00Z", "2026-11-11T00:00:00Z")
    assert {row["group"] for row in body["by_unit"]} == {"3 North", "(no unit)"}
    pumps = next(row for row in body["by_category"] if row["group"] == "infusion pump")
    assert sum(pumps["fractions"].values()) == pytest.approx(1.0, abs=1e-3)
    bad = api.get("/api/assets/utilization/", {"start": "2026-11-10", "end": "2026-11-01"})
    assert bad.status_code == 400 and "before the start" in bad.content.decode()
    assert api.get("/api/assets/utilization/", {"start": "2024-01-01", "end": "2026-11-01"}).status_code == 400

    client.force_login(biomed)
    query = "start=2026-11-01&end=2026-11-10"
    page = client.get(f"/assets/utilization/?{query}").content.decode()
    assert 'id="chart-category"' in page and "infusion pump" in page and "3 North" in page
    png = client.get(f"/assets/utilization/chart-unit.png?{query}")
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get(f"/assets/utilization/chart-floor.png?{query}").status_code == 404
    csv = client.get(f"/assets/utilization/report.csv?{query}").content.decode().splitlines()
    assert csv[0].startswith("category · unit,assets,in_use_h") and len(csv) == 4  # pumps, monitor, wheelchair
    assert client.get(f"/assets/utilization/report.pdf?{query}").content.startswith(b"%PDF")

