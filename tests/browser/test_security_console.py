"""The security console in a real Chromium against daphne on the test database.

A security officer opens the console: 3 North's map, its stairs exit unlocked. Baby Jones walks down the
corridor towards the stairs and an exit alarm is raised through alerts.services (as the rules raise it): it
appears live in the alarm list, the map centres on the infant's marker with her trail, the officer
acknowledges it with a note and the alarm's state changes. The officer locks the exit; the controller's
state (applied by the door services, as run_doors does) turns the door green on the map.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from alerts.models import Alert
from alerts.services import alert_raise
from floorplans.models import Floor
from security.doors.protocol import DoorState
from security.doors.services import door_state_apply
from security.models import CodePink, DoorCommand, LocationAccess
from tests.browser.conftest import logged_in
from tests.browser.server import Daphne, in_a_thread
from tests.security.test_api_helpers import BABY, Nursery, locate, nursery_setup, walk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CORRIDOR = [(6.0, 9.5), (9.0, 9.5), (12.0, 9.5), (15.0, 9.5), (18.0, 9.5), (21.0, 9.5)]


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    """3 North with Ann Jones and Baby Jones (tag B001), who walked down the corridor in the last minutes and is
    now near the stairs exit X-1; the exit's maglock online and unlocked."""
    def setup() -> Nursery:
        made = nursery_setup(floor)
        now = timezone.now()
        walk(BABY, floor, CORRIDOR, start=now - timedelta(minutes=3), every=timedelta(seconds=30))
        locate(BABY, floor, 22.0, 9.5, zone=made.w.corridor, seen_at=now)
        return made

    return in_a_thread(setup)


def _raise_exit_alarm(n: Nursery) -> Alert:
    return in_a_thread(lambda: alert_raise(
        kind="security.exit_alarm", severity=Alert.Severity.CRITICAL, key=f"security.exit_alarm:{n.baby.pk}",
        title="Baby Jones at the stairs exit", subject_type=Alert.Subject.INFANT, subject_id=str(n.baby.pk),
        subject_label="Baby Jones", audience="security", floor_id=n.floor.pk, zone_id=n.w.corridor.pk,
        x_m=22.0, y_m=9.5, ward_id=n.w.ward.pk, message="Her band reached the stairs exit: the door is locking."))


def test_an_exit_alarm_appears_on_the_console_with_the_infant_on_the_map_and_is_acknowledged(
        page: Page, server: Daphne, security_officer: User, nursery: Nursery) -> None:
    logged_in(page, server.url, security_officer)
    page.goto(f"{server.url}/security/")
    expect(page.locator(".sc-alerts-conn")).to_have_attribute("data-state", "live")
    expect(page.locator(".sc-map-conn")).to_have_attribute("data-state", "live")
    expect(page.locator(".sc-alarm-list")).to_contain_text("No open alarms.")
    door = page.locator('.sc-door-table tr[data-controller="maglock-3N"]')
    expect(door).to_have_attribute("data-state", "unlocked")
    expect(page.locator(f'.fm-marker[data-tag="{BABY}"]')).to_have_count(1)

    alert = _raise_exit_alarm(nursery)
    row = page.locator(f'.sc-alarm[data-id="{alert.pk}"]')
    expect(row).to_contain_text("Baby Jones at the stairs exit", timeout=5000)
    expect(row).to_contain_text("Corridor, 3 North")
    row.click()
    detail = page.locator(".sc-detail")
    expect(detail).to_have_attribute("data-id", str(alert.pk))
    expect(detail.locator(".sc-detail-message")).to_have_text("Her band reached the stairs exit: the door is locking.")
    expect(detail.locator(".sc-infant")).to_contain_text("Ann Jones")
    expect(detail.locator(".sc-infant")).to_contain_text("Corridor, 3 North")
    expect(page.locator(f'.fm-marker[data-tag="{BABY}"]')).to_have_class(re.compile(r"\bis-selected\b"))
    expect(detail.locator(".sc-trail-note")).to_contain_text(f"Trail: {len(CORRIDOR)} positions")
    expect(page.locator("path.fm-trail")).to_have_count(1)

    detail.locator(".sc-note").fill("on my way to the stairs")
    detail.locator("button[data-action=acknowledge]").click()
    expect(detail).to_have_attribute("data-state", "acknowledged")
    expect(row.locator(".badge")).to_have_text("acknowledged")
    expect(detail.locator(".sc-timeline")).to_contain_text("acknowledged by security_officer")
    expect(detail.locator(".sc-timeline")).to_contain_text("on my way to the stairs")
    expect(detail.locator("button[data-action=acknowledge]")).to_be_disabled()
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACKNOWLEDGED and alert.acknowledged_by == security_officer

    door.locator("button[data-command=lock]").click()
    expect(page.locator(".sc-door-status")).to_have_text("Lock sent to Stairs 1 exit; waiting for the controller.")
    command = DoorCommand.objects.get(controller__code="maglock-3N")
    assert (command.command, command.requested_by) == ("lock", security_officer)
    in_a_thread(lambda: door_state_apply(code="maglock-3N", state=DoorState(
        locked=True, open=False, forced=False, held_open=False, held=False, egress="idle", release_at=None,
        ack=str(command.command_id), at=timezone.now())))
    expect(door).to_have_attribute("data-state", "locked", timeout=5000)
    expect(page.locator(".sc-door-status")).to_have_text("Lock confirmed: Stairs 1 exit is now locked.")
    expect(page.locator('path.fm-door-state[data-door="X-1"]')).to_have_attribute("data-state", "locked")
    page.screenshot(path=str(Path(server.log).with_name("security-console.png")))  # next to daphne's log

    seen = set(LocationAccess.objects.filter(user=security_officer).values_list("via", flat=True))
    assert seen == {"floor_map", "api", "trail"}  # the map's snapshot, the infant's details, her trail


def test_an_officer_calls_a_code_pink_drill_from_the_console_and_resolves_it(
        page: Page, server: Daphne, security_officer: User, nursery: Nursery) -> None:
    logged_in(page, server.url, security_officer)
    page.goto(f"{server.url}/security/")
    expect(page.locator(".sc-alerts-conn")).to_have_attribute("data-state", "live")
    expect(page.locator(".sc-codepink")).to_be_hidden()
    page.get_by_role("button", name="Code Pink…").click()
    dialog = page.get_by_role("dialog", name="Call a Code Pink")
    expect(dialog.get_by_label("Lock down")).to_have_value(f"floor:{nursery.floor.pk}")
    dialog.get_by_label("Drill: the whole flow runs, marked as a drill").check()
    dialog.get_by_label("Note").fill("monthly drill")
    dialog.get_by_role("button", name="Continue…").click()
    expect(dialog.locator(".sc-confirm-text")).to_have_text(
        f"DRILL: This locks every exit of {nursery.floor.name} and holds its elevators, and alerts every "
        "security console.")
    dialog.get_by_role("button", name="Confirm Code Pink").click()
    banner = page.locator(".sc-codepink")
    expect(banner).to_contain_text("CODE PINK DRILL")
    expect(banner).to_contain_text("called by security_officer")
    alarm = page.locator('.sc-alarm[data-kind="security.code_pink"]')
    expect(alarm).to_contain_text("DRILL — Code Pink", timeout=5000)
    incident = CodePink.objects.get()
    alarm.click()
    expect(page.locator(".sc-detail-links a")).to_have_attribute("href", f"/security/incidents/{incident.pk}/")
    expect(page.locator(".sc-infant")).to_be_hidden()  # no infant named: nothing to show
    assert incident.drill and incident.floor == nursery.floor
    assert DoorCommand.objects.filter(code_pink=incident, command="lock", controller__code="maglock-3N").exists()
    page.screenshot(path=str(Path(server.log).with_name("security-console-code-pink.png")))

    banner.get_by_role("button", name="Resolve…").click()
    resolve = page.get_by_role("dialog", name="Resolve the Code Pink")
    resolve.get_by_role("button", name="Resolve").click()
    expect(resolve.locator(".error")).to_have_text("resolution: This field may not be blank.")
    resolve.get_by_label("How it ended").fill("drill over, every exit held")
    resolve.get_by_role("button", name="Resolve").click()
    expect(banner).to_be_hidden()
    incident.refresh_from_db()
    assert incident.state == CodePink.State.RESOLVED and incident.resolution == "drill over, every exit held"
