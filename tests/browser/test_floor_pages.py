"""A nurse logs in with a real browser, opens the floors and moves between them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect
from pytest_django import DjangoDbBlocker

from tests.browser import server_settings
from tests.browser.conftest import log_in
from tests.browser.server import Daphne

# the tests only read: each runs in a transaction rolled back after it; the module's demo is committed
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def demo(server: Daphne, django_db_blocker: DjangoDbBlocker, var_dir: Path) -> Iterator[None]:
    """The demo hospital, loaded once for this module's tests (they only read it), emptied afterwards."""
    with pytest.MonkeyPatch.context() as patch, django_db_blocker.unblock():
        patch.setattr(settings, "MEDIA_ROOT", var_dir / "media")
        patch.setattr(settings, "PASSWORD_HASHERS", server_settings.PASSWORD_HASHERS)
        call_command("load_demo", stdout=io.StringIO())
        try:
            yield
        finally:
            call_command("flush", interactive=False, verbosity=0)


def test_a_nurse_finds_a_room_on_the_ward_plan(page: Page, server: Daphne, demo: None) -> None:
    log_in(page, server.url, "nurse", "demo-nurse")
    expect(page.locator(".card h2")).to_have_text([
        "Ground floor - Entrance, Pharmacy, Biomedical Engineering", "2 East - Maternity", "4 West - Medical/Surgical"])
    page.locator(".card", has_text="4 West").get_by_role("link", name="Plan and zones").click()
    plan = page.locator(".plan img")
    assert plan.evaluate("img => img.complete && img.naturalWidth") > 1000
    room = page.locator('polygon[data-code="4W-401"]')
    room.hover()
    expect(room).to_have_css("stroke-width", "2px")  # highlighted under the pointer
    assert "Room 401" in (room.locator("title").text_content() or "")
    expect(page.locator("circle.reader")).to_have_count(0)  # installation hidden from nurses
    page.get_by_role("link", name="Level 2", exact=True).click()
    expect(page.locator("h1")).to_have_text("2 East - Maternity")


def test_a_security_officer_sees_readers_and_is_kept_out_of_patients(page: Page, server: Daphne,
                                                                    demo: None) -> None:
    log_in(page, server.url, "security", "demo-security")
    page.locator(".card", has_text="2 East").get_by_role("link", name="Plan and zones").click()
    assert page.locator("circle.reader.uwb_anchor").count() >= 4
    page.goto(f"{server.url}/admin/infusion/patient/")
    assert "/admin/login/" in page.url  # not staff: the admin asks for another account
