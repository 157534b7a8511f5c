"""The alert page in a real Chromium against daphne: an alert raised in the database appears live over
ws/alerts/, a nurse opens it, acknowledges it with a note and sees the timeline."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from alerts.models import Alert
from alerts.services import alert_raise
from floorplans.models import Floor, Zone
from tests.browser.conftest import _like_the_server, browser, logged_in, page, server, var_dir  # noqa: F401
from tests.browser.server import Daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_alert_appears_live_and_a_nurse_acknowledges_it(
    server: Daphne, page: Page, nurse: User, floor: Floor  # noqa: F811
) -> None:
    logged_in(page, server.url, nurse)
    page.goto(f"{server.url}/alerts/")
    expect(page.locator("#alert-live")).to_have_text("● live")
    expect(page.locator("#alert-rows")).to_contain_text("No alerts.")
    bed = Zone.objects.get(floor=floor, code="3N-102-B")
    ward = Zone.objects.get(floor=floor, code="3N")
    alert = alert_raise(kind="infusion.wrong_patient", severity=Alert.Severity.HIGH, key="wp:bag=17",
                        title="Bag 17 (Ada Lovelace) at the wrong bed", subject_type="bag", subject_id="17",
                        subject_label="Heparin 25,000 units", audience="nurses", zone_id=bed.pk, ward_id=ward.pk,
                        message="Bag 17 is for bed 101A; it is at bed 102B.")
    row = page.locator(f'tr[data-id="{alert.pk}"]')
    expect(row).to_contain_text("Bag 17 (Ada Lovelace) at the wrong bed", timeout=5000)
    expect(row).to_contain_text("Bed 102B, 3 North")
    expect(page.locator("#alert-banner")).to_contain_text("New alert")
    row.click()
    expect(page.locator("#detail-message")).to_have_text("Bag 17 is for bed 101A; it is at bed 102B.")
    page.fill("#detail-note", "moving it back")
    page.click("button[data-action=acknowledge]")
    expect(row.locator(".badge")).to_have_text("acknowledged")
    expect(page.locator("#detail-timeline")).to_contain_text("acknowledged by nurse")
    expect(page.locator("#detail-timeline")).to_contain_text("moving it back")
    expect(page.locator("button[data-action=acknowledge]")).to_be_disabled()
    alert.refresh_from_db()
    assert alert.state == "acknowledged" and alert.acknowledged_by == nurse
    page.screenshot(path="/tmp/h1-alerts-page.png", full_page=True)
    assert re.search(r"/alerts/$", page.url)
