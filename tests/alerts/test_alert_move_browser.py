"""The alert page in a real Chromium against daphne: an open alert that moves (alert_move) shows its new
place in its row and in the open detail at once, with no banner, no reload and the same timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Request, expect

from alerts.models import Alert
from alerts.services import alert_move, alert_raise
from floorplans.models import Floor, Zone
from tests.alerts.conftest import T0
from tests.browser.conftest import _like_the_server, browser, logged_in, page, server, var_dir  # noqa: F401
from tests.browser.server import Daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_moved_alert_shows_its_new_place_without_a_banner_or_a_reload(
    server: Daphne, page: Page, nurse: User, floor: Floor  # noqa: F811
) -> None:
    logged_in(page, server.url, nurse)
    page.goto(f"{server.url}/alerts/")
    expect(page.locator("#alert-live")).to_have_text("● live")
    bed = Zone.objects.get(floor=floor, code="3N-102-B")
    alert = alert_raise(kind="infusion.wrong_patient", severity=Alert.Severity.WARNING, key="wp:bag=17",
                        title="Bag 17 at the wrong bed", subject_type="bag", subject_id="17", audience="nurses",
                        zone_id=bed.pk, ward_id=Zone.objects.get(floor=floor, code="3N").pk, at=T0)
    row = page.locator(f'tr[data-id="{alert.pk}"]')
    expect(row).to_contain_text("Bed 102B, 3 North", timeout=5000)
    row.click()
    expect(page.locator("#detail-timeline li")).to_have_count(1)
    reloads: list[str] = []
    page.on("request", lambda request: _note_reload(request, alert.pk, reloads))

    corridor = Zone.objects.get(floor=floor, code="3N-C")
    alert_move(alert_id=alert.pk, place={"zone_id": corridor.pk, "x_m": 8.0, "y_m": 9.5}, at=T0 + timedelta(seconds=5))
    expect(row).to_contain_text("Corridor, 3 North", timeout=5000)
    expect(page.locator("#detail-facts")).to_contain_text("Corridor, 3 North")
    expect(row).not_to_contain_text("×")  # no occurrence count
    expect(page.locator("#detail-timeline li")).to_have_count(1)
    expect(page.locator("#alert-banner")).to_be_hidden()  # a warning raised no banner; a move raises none either
    assert reloads == []


def _note_reload(request: Request, alert_id: int, reloads: list[str]) -> None:
    if f"/api/alerts/{alert_id}/" in request.url:
        reloads.append(request.url)
