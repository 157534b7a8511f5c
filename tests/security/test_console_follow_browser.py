"""The security console in a real Chromium against daphne: the selected alarm moves with its infant
(alerts.services.alert_move, as the exit rules move it). Its place changes in the list and the detail,
its timeline and the open count stay, and the map follows it, to another floor if it goes there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from alerts.services import alert_move
from security.models import DoorController
from tests.browser.conftest import _like_the_server, browser, logged_in, page, server, var_dir  # noqa: F401
from tests.browser.server import Daphne, in_a_thread
from tests.browser.test_security_console import _raise_exit_alarm, nursery  # noqa: F401
from tests.security.test_api_helpers import Nursery
from tests.tracking.whereabouts import floor_above

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_selected_alarm_follows_its_infant_in_the_list_the_detail_and_the_map(
        page: Page, server: Daphne, security_officer: User, nursery: Nursery) -> None:  # noqa: F811
    upstairs = in_a_thread(lambda: floor_above(nursery.floor))
    in_a_thread(lambda: DoorController.objects.create(code="maglock-4N", name="Level 4 exit", floor=upstairs,
                                                      topic="test/h1/doors/maglock-4N"))  # so the console offers it
    logged_in(page, server.url, security_officer)
    page.goto(f"{server.url}/security/")
    expect(page.locator(".sc-alerts-conn")).to_have_attribute("data-state", "live")
    expect(page.locator(".sc-floor")).to_have_value(str(nursery.floor.pk))
    alert = _raise_exit_alarm(nursery)
    row = page.locator(f'.sc-alarm[data-id="{alert.pk}"]')
    expect(row).to_contain_text("Corridor, 3 North", timeout=5000)
    row.click()
    detail = page.locator(".sc-detail")
    expect(detail.locator(".sc-timeline li")).to_have_count(1)  # raised
    expect(detail.locator(".sc-trail-note")).to_contain_text("positions in the last hour")  # selected, settled
    count = page.locator(".sc-count").text_content()

    later = timezone.now() + timedelta(seconds=5)
    in_a_thread(lambda: alert_move(alert_id=alert.pk, place={"zone_id": nursery.w.room101.pk, "x_m": 3.0,
                                                             "y_m": 14.8}, at=later))
    expect(row).to_contain_text("Room 101, 3 North", timeout=5000)
    expect(detail.locator(".sc-detail-facts")).to_contain_text("Room 101, 3 North")
    expect(detail.locator(".sc-timeline li")).to_have_count(1)  # a move is not a timeline line
    expect(page.locator(".sc-count")).to_have_text(count or "")

    upstairs_place = {"floor_id": upstairs.pk, "zone_id": None, "x_m": 10.0, "y_m": 10.0}
    in_a_thread(lambda: alert_move(alert_id=alert.pk, place=upstairs_place, at=later + timedelta(seconds=5)))
    expect(page.locator(".sc-floor")).to_have_value(str(upstairs.pk), timeout=5000)  # the map went upstairs
    expect(page.locator(".fm-ghost")).to_have_count(1)  # no live marker there: where the alarm is now
    expect(detail).to_have_attribute("data-id", str(alert.pk))
    # her trail is loaded for the new floor; waiting for it also lets its access-log write finish before
    # the tables are emptied (a request still writing then deadlocks the flush)
    expect(detail.locator(".sc-trail-note")).to_have_text(
        "Trail: no recorded positions on this floor in the last hour.")
