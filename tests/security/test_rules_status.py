"""The tag-status rules, fed TagStatusChanged events built directly: the band state kept (TagState and
Tag.battery_pct), tamper / loose strap / low battery raised and cleared when the band says so, and the
mother-infant match checks (her button next to a baby; staying together for a minute)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.models import Alert
from floorplans.models import Zone
from readers.reads import TagStatus
from security import rules
from security.models import MatchCheck, TagState
from tests.security.test_rules_helpers import (
    CORRIDOR_W,
    NURSERY,
    T0,
    Maternity,
    fixes,
    open_alert,
    status,
)
from tracking.models import Tag

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules_fresh")]


def _window(m: Maternity, rows: list[tuple[str, float, float, float]]) -> None:
    rules.on_fixes_located(fixes(m.floor.pk, [(m.tags[t], x, y, dt) for t, x, y, dt in rows]))


def test_a_cut_strap_is_a_critical_alarm_at_the_last_place_and_clears_when_closed_again(m: Maternity) -> None:
    _window(m, [("B001", *NURSERY, 0)])
    closed = TagStatus(tamper=False, battery_pct=80)
    rules.on_status_changed(status(m.tags["B001"], 1, closed, tamper=True, battery_pct=80))
    tamper = open_alert(rules.TAMPER, m.mary)
    assert tamper is not None and tamper.severity == Alert.Severity.CRITICAL and tamper.audience == "security"
    assert (tamper.x_m, tamper.y_m, tamper.floor_id) == (*NURSERY, m.floor.pk)
    assert TagState.objects.get(tag=m.tags["B001"]).strap == TagState.Strap.CUT
    rules.on_status_changed(status(m.tags["B001"], 9, TagStatus(tamper=True), tamper=False))
    assert open_alert(rules.TAMPER, m.mary) is None
    state = TagState.objects.get(tag=m.tags["B001"])
    assert (state.strap, state.strap_closed_at) == (TagState.Strap.CLOSED, T0 + timedelta(seconds=9))


def test_a_tamper_with_no_fix_in_memory_is_placed_where_the_database_last_saw_the_band(m: Maternity) -> None:
    from django.contrib.gis.geos import Point

    from tracking.models import CurrentLocation

    CurrentLocation.objects.create(tag=m.tags["B001"], floor=m.floor, position=Point(*NURSERY), accuracy_m=0.3,
                                   method=0, seen_at=T0, updated_at=T0)
    rules.on_status_changed(status(m.tags["B001"], 1, None, tamper=True))  # a fresh worker's first hearing
    tamper = open_alert(rules.TAMPER, m.mary)
    assert tamper is not None and (tamper.x_m, tamper.y_m) == NURSERY


def test_a_loose_strap_warns_the_nurses_and_clears_when_snug(m: Maternity) -> None:
    rules.on_status_changed(status(m.tags["B002"], 0, TagStatus(tamper=False), tamper=False, strap_loose=True))
    loose = open_alert(rules.STRAP_LOOSE, m.jane)
    assert loose is not None and (loose.severity, loose.audience) == (Alert.Severity.WARNING, "nurses")
    assert TagState.objects.get(tag=m.tags["B002"]).strap == TagState.Strap.LOOSE
    rules.on_status_changed(status(m.tags["B002"], 5, TagStatus(strap_loose=True), strap_loose=False))
    assert open_alert(rules.STRAP_LOOSE, m.jane) is None


def test_a_low_battery_is_maintenance_for_the_nurses_and_the_level_is_kept(m: Maternity) -> None:
    rules.on_status_changed(status(m.tags["B001"], 0, TagStatus(battery_pct=25), battery_pct=12, battery_mv=2650))
    low = open_alert(rules.LOW_BATTERY, m.mary)
    assert low is not None and (low.severity, low.audience) == (Alert.Severity.INFO, "nurses")
    assert Tag.objects.get(pk=m.pk("B001")).battery_pct == 12
    state = TagState.objects.get(tag=m.tags["B001"])
    assert (state.battery_pct, state.battery_mv, state.strap) == (12, 2650, TagState.Strap.CLOSED)
    rules.on_status_changed(status(m.tags["A001"], 0, TagStatus(battery_pct=30), battery_pct=10))
    mother_low = Alert.objects.get(key=f"{rules.LOW_BATTERY}:mother-{m.mother_mary.pk}")
    assert (mother_low.subject_type, mother_low.subject_id) == ("tag", "A001")
    rules.on_status_changed(status(m.tags["B001"], 60, TagStatus(battery_pct=12), battery_pct=100))
    assert open_alert(rules.LOW_BATTERY, m.mary) is None
    assert not Alert.objects.filter(kind__in=[rules.TAMPER, rules.STRAP_LOOSE]).exists()


def test_a_new_band_closing_its_strap_is_kept_for_the_enrolment_prompt(m: Maternity) -> None:
    tag = Tag.objects.create(tag_id="B0FF", tech=Tag.Tech.UWB)
    rules.on_status_changed(status(tag, 3, None, tamper=False, battery_pct=97))
    state = TagState.objects.get(tag=tag)
    assert (state.strap, state.strap_closed_at, state.battery_pct) == (TagState.Strap.CLOSED,
                                                                       T0 + timedelta(seconds=3), 97)
    assert not Alert.objects.exists()


def test_an_asset_tags_battery_updates_the_tag_only(m: Maternity) -> None:
    pump = Tag.objects.create(tag_id="AC233F000001", tech=Tag.Tech.BLE)
    rules.on_status_changed(status(pump, 0, TagStatus(battery_pct=40), battery_pct=15))
    assert Tag.objects.get(pk=pump.pk).battery_pct == 15
    assert not TagState.objects.filter(tag=pump).exists() and not Alert.objects.exists()


def test_the_mothers_button_checks_the_nearest_baby_within_reach(m: Maternity) -> None:
    x, y = CORRIDOR_W
    _window(m, [("A001", x, y, 0), ("B001", x + 1.2, y, 0), ("B002", x + 0.8, y, 0)])
    rules.on_status_changed(status(m.tags["A001"], 1, TagStatus(button=False), button=True))
    check = MatchCheck.objects.get()
    assert (check.mother_id, check.infant_id, check.how, check.result) == (m.mother_mary.pk, m.jane.pk, "button",
                                                                           "mismatch")
    assert check.distance_m == pytest.approx(0.8)
    mismatch = open_alert("security.mismatch", m.jane)
    assert mismatch is not None and mismatch.audience == "nurses"
    rules.on_status_changed(status(m.tags["A001"], 2, TagStatus(button=True), button=False))  # released: nothing
    assert MatchCheck.objects.count() == 1


def test_a_button_with_no_baby_within_reach_records_nothing(m: Maternity) -> None:
    x, y = CORRIDOR_W
    _window(m, [("A002", x, y, 0), ("B002", x + 1.6, y, 0)])
    rules.on_status_changed(status(m.tags["A002"], 1, TagStatus(button=False), button=True))
    assert not MatchCheck.objects.exists()


def test_a_mother_and_her_baby_together_for_a_minute_make_one_match_record(m: Maternity) -> None:
    x, y = NURSERY
    for dt_s in range(0, 59, 2):
        _window(m, [("A001", x, y, dt_s), ("B001", x + 0.5, y, dt_s)])
    assert not MatchCheck.objects.exists()  # 58 s
    _window(m, [("A001", x, y, 60), ("B001", x + 0.5, y, 60)])
    check = MatchCheck.objects.get()
    assert (check.how, check.result, check.infant_id, check.at) == ("together", "match", m.mary.pk,
                                                                    T0 + timedelta(seconds=60))
    for dt_s in range(62, 400, 2):  # still together: no second record within the hour
        _window(m, [("A001", x, y, dt_s), ("B001", x + 0.5, y, dt_s)])
    assert MatchCheck.objects.count() == 1


def test_a_break_in_togetherness_restarts_the_minute(m: Maternity) -> None:
    x, y = NURSERY
    for dt_s in range(0, 50, 2):
        _window(m, [("A002", x, y, dt_s), ("B001", x + 0.9, y, dt_s)])
    _window(m, [("A002", x, y, 50), ("B001", x + 1.5, y, 50)])  # apart for one window
    for dt_s in range(52, 111, 2):
        _window(m, [("A002", x, y, dt_s), ("B001", x + 0.9, y, dt_s)])
    assert not MatchCheck.objects.exists()  # 58 s since the break
    _window(m, [("A002", x, y, 112), ("B001", x + 0.9, y, 112)])
    check = MatchCheck.objects.get()
    assert (check.result, check.mother_id) == ("mismatch", m.mother_jane.pk)
    assert Alert.objects.filter(kind="security.mismatch", subject_id=str(m.mary.pk)).exists()


def test_a_mother_and_a_baby_a_wall_apart_are_not_together(m: Maternity) -> None:
    x, y = NURSERY
    room_a, room_b = (Zone.objects.filter(floor=m.floor).order_by("pk").values_list("pk", flat=True)[:2])
    for dt_s in range(0, 121, 2):  # 0.8 m apart for two minutes, each in its own zone (neighbouring rooms)
        rules.on_fixes_located(fixes(m.floor.pk, [(m.tags["A002"], x, y, dt_s)], zone_pk=room_a))
        rules.on_fixes_located(fixes(m.floor.pk, [(m.tags["B001"], x + 0.8, y, dt_s)], zone_pk=room_b))
    assert not MatchCheck.objects.exists()
    for dt_s in range(122, 185, 2):  # then in one zone: a match check (a mismatch: A002 is Jane's mother)
        rules.on_fixes_located(fixes(m.floor.pk, [(m.tags["A002"], x, y, dt_s), (m.tags["B001"], x + 0.8, y, dt_s)],
                                     zone_pk=room_a))
    assert MatchCheck.objects.get().result == "mismatch"
