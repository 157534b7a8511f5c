"""Scenarios of the band's own word, end to end on real parts (UWB emulator with its band book -> Mosquitto ->
uwb_mqtt adapter -> pipeline -> security rules): a cut strap is an alarm within a second; a band wrapped in
foil is lost after the supervision period (controlled clock) and found at its next read; a mother pressing
her button next to someone else's baby raises the mismatch, next to her own records the match."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from alerts.models import Alert
from security import rules
from security.models import MatchCheck, TagState
from security.selectors import armed_invalidate
from tests.security.test_rules_helpers import CORRIDOR_W, NURSERY, open_alert
from tests.security.test_scenario_helpers import Hospital, hospital_running, located_near, wait_until
from tests.tracking.store.batches import history_drop_all
from tracking.models import CurrentLocation, Tag

pytestmark = pytest.mark.django_db(transaction=True)

X, Y = CORRIDOR_W
START = {"B001": NURSERY, "B002": (X + 6.0, Y), "A001": (X + 10.0, Y), "A002": (X + 14.0, Y)}


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.SECURITY_SUPERVISION_S = 30.0
    history_drop_all()
    rules.reset()
    armed_invalidate()
    yield
    rules.reset()
    armed_invalidate()
    history_drop_all()


@pytest.fixture
def h() -> Iterator[Hospital]:
    with hospital_running(START) as running:
        tags = [running.m.tags[t] for t in START]
        wait_until(lambda: CurrentLocation.objects.filter(tag__in=tags).count() == len(tags))
        yield running


def _seen_at(tag: Tag) -> float:
    return CurrentLocation.objects.get(tag=tag).seen_at.timestamp()


def test_a_cut_strap_raises_the_tamper_alarm_within_a_second(h: Hospital) -> None:
    wait_until(lambda: TagState.objects.filter(tag=h.m.tags["B001"], strap="closed").exists())  # its first word
    cut_s = time.time()
    h.bands.strap("B001", "cut")
    tamper = wait_until(lambda: open_alert(rules.TAMPER, h.m.mary), timeout_s=3.0, every_s=0.01)
    latency_s = time.time() - cut_s
    print(f"\nstrap cut -> tamper alert in the database: {latency_s * 1000:.0f} ms")
    assert latency_s < 1.0
    assert tamper.severity == Alert.Severity.CRITICAL
    assert abs(tamper.x_m - NURSERY[0]) < 1.0 and abs(tamper.y_m - NURSERY[1]) < 1.0  # where the baby is
    wait_until(lambda: TagState.objects.get(tag=h.m.tags["B001"]).strap == TagState.Strap.CUT)  # saved after


def test_a_band_in_foil_is_lost_after_the_period_and_found_at_its_next_read(h: Hospital) -> None:
    h.bands.shield("B001", True)
    time.sleep(0.5)  # the last blinks through the pipeline
    heard_s = _seen_at(h.m.tags["B001"])
    time.sleep(0.3)
    assert _seen_at(h.m.tags["B001"]) == heard_s  # silent now
    heard = CurrentLocation.objects.get(tag=h.m.tags["B001"]).seen_at
    assert rules.security_supervision(heard + timedelta(seconds=30)) == 0  # the others are heard all along
    assert rules.security_supervision(heard + timedelta(seconds=30.2)) == 1
    lost = open_alert(rules.SUPERVISION_LOST, h.m.mary)
    assert lost is not None and lost.severity == Alert.Severity.HIGH
    assert located_near(h.m.tags["B001"], NURSERY, 1.0) and (lost.x_m, lost.y_m) == pytest.approx(
        (CurrentLocation.objects.get(tag=h.m.tags["B001"]).position.coords), abs=0.01)  # the last place seen
    assert lost.data["trail"] and lost.data["last_seen_at"] == heard.isoformat()  # written by the pipeline
    h.bands.shield("B001", False)
    wait_until(lambda: open_alert(rules.SUPERVISION_LOST, h.m.mary) is None, timeout_s=3.0)  # the next read


def _bring(h: Hospital, moves: dict[str, list[tuple[float, float]]]) -> None:
    """Carry each tag along its points and wait until the pipeline has every one of them there."""
    until_s = max(h.walks.carry(tag, points, speed_m_s=5.0) for tag, points in moves.items())
    time.sleep(max(0.0, until_s - time.time()))
    for tag, points in moves.items():
        wait_until(partial(located_near, h.m.tags[tag], points[-1], 0.5))
    time.sleep(0.3)  # a few more windows there


def test_the_wrong_mothers_button_is_a_mismatch_and_her_own_a_match(h: Hospital) -> None:
    into_nursery = [(32.2, 10.6), (32.2, 9.0)]  # through its door
    _bring(h, {"A002": [*into_nursery, (NURSERY[0] + 0.5, NURSERY[1])]})  # Jane's mother at baby Mary's cot
    h.bands.press("A002")
    check = wait_until(lambda: MatchCheck.objects.first(), timeout_s=3.0)
    assert (check.result, check.how, check.infant_id, check.mother_id) == ("mismatch", "button", h.m.mary.pk,
                                                                          h.m.mother_jane.pk)
    mismatch = open_alert("security.mismatch", h.m.mary)
    assert mismatch is not None and mismatch.audience == "nurses"
    _bring(h, {"A002": [(NURSERY[0] + 3.5, NURSERY[1])], "A001": [*into_nursery, (NURSERY[0] - 0.5, NURSERY[1])]})
    h.bands.press("A001")  # Mary's mother now
    match = wait_until(lambda: MatchCheck.objects.filter(result="match").first(), timeout_s=3.0)
    assert (match.how, match.mother_id, match.infant_id) == ("button", h.m.mother_mary.pk, h.m.mary.pk)
    assert open_alert("security.mismatch", h.m.mary) is None  # the right mother checked her baby
