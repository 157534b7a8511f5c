"""The audit page in a real Chromium against daphne: a biomedical engineer runs a hands-free audit of 3 North and
reads found / misplaced / missing with PM flags, and the utilization charts; then runs a handheld sweep from an
uploaded reads file, watches the found list fill in live and finishes it into the same report."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import _like_the_server, browser, logged_in, page, server, var_dir  # noqa: F401
from tests.browser.server import Daphne
from tests.tracking.assets.audit_world import AuditWorld, audit_world_make, world_located
from tracking.models import Audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(floor_doc: dict[str, Any]) -> AuditWorld:
    world = audit_world_make(floor_doc)
    world_located(world, now=timezone.now())
    return world


def test_a_biomedical_engineer_runs_a_hands_free_audit(
    server: Daphne, page: Page, biomed: User, world: AuditWorld  # noqa: F811
) -> None:
    logged_in(page, server.url, biomed)
    page.goto(f"{server.url}/assets/audits/")
    expect(page.locator("#audit-rows")).to_contain_text("No audits yet.")
    page.screenshot(path="/tmp/h8-audit-list.png", full_page=True)
    page.select_option("select[name=department]", str(world.ward.pk))
    page.click("#audit-run")

    expect(page.locator("h1")).to_have_text("Hands-free audit of 3 North")
    expect(page.locator("#audit-counts")).to_contain_text("5 expected")
    expect(page.locator("#audit-counts .found")).to_have_text("3 found")
    expect(page.locator("#section-missing")).to_contain_text("PUMP-4")
    expect(page.locator("#section-missing tr[data-asset=PUMP-4]")).to_contain_text("overdue")
    misplaced = page.locator("#section-misplaced tr[data-asset=PUMP-3]")
    expect(misplaced).to_contain_text("Stairs 1 · 3 North - Test Ward")
    expect(page.locator("#section-found")).to_contain_text("MONITOR-5")
    expect(page.locator("#section-found tr[data-asset=MONITOR-5]")).to_contain_text("due")
    expect(page.locator("#section-unexpected")).to_contain_text("CHAIR-6")
    expect(page.get_by_role("link", name="PDF report")).to_have_attribute("href", f"/assets/audits/"
                                                                          f"{Audit.objects.get().pk}/report.pdf")
    page.screenshot(path="/tmp/h8-audit-page.png", full_page=True)

    page.click("#section-found tr[data-asset=PUMP-1] a")
    expect(page.locator("#last-verified")).to_contain_text("Last verified")
    expect(page.locator("#last-verified")).to_contain_text("hands-free audit, in Equipment store")

    page.goto(f"{server.url}/assets/utilization/")  # the charts are drawn on the server and load as images
    for chart in ("#chart-category", "#chart-unit"):
        expect(page.locator(chart)).to_be_visible()
        page.wait_for_function(f"document.querySelector('{chart}').naturalWidth > 0")
    page.screenshot(path="/tmp/h8-utilization-page.png", full_page=True)


def test_a_handheld_sweep_from_a_reads_file_shows_its_progress_live(
    server: Daphne, page: Page, biomed: User, world: AuditWorld  # noqa: F811
) -> None:
    logged_in(page, server.url, biomed)
    page.goto(f"{server.url}/assets/audits/")
    page.check("input[name=kind][value=handheld]")
    page.select_option("select[name=department]", str(world.ward.pk))
    page.click("#audit-run")
    expect(page.locator("#audit-state")).to_have_text("Running")
    expect(page.locator("#progress-text")).to_contain_text("0 of 5 expected found")

    now = timezone.now().isoformat()
    csv = f"epc,seen_at\n{world.epc('pump-1')},{now}\n{world.epc('chair-6')},{now}\nnot-hex,{now}\n"
    upload: FilePayload = {"name": "sweep.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    page.set_input_files("#reads-upload input[type=file]", files=[upload])
    page.click("#reads-upload button[type=submit]")
    expect(page.locator("#audit-message")).to_contain_text("2 reads: 1 found, 1 from elsewhere")
    expect(page.locator("#audit-message")).to_contain_text("row 4: tag 'not-hex' is not hex")
    expect(page.locator("#found-list")).to_contain_text("PUMP-1")
    expect(page.locator("#unexpected-list")).to_contain_text("CHAIR-6")
    expect(page.locator("#progress-text")).to_contain_text("1 of 5 expected found (20%)")
    page.screenshot(path="/tmp/h8-audit-sweep.png", full_page=True)

    page.click("#audit-finish")
    expect(page.locator("#audit-state")).to_have_text("Finished")
    expect(page.locator("#section-found")).to_contain_text("PUMP-1")
    expect(page.locator("#section-not_seen")).to_contain_text("MONITOR-5")  # the RTLS says here; not read
    expect(page.locator("#section-missing")).to_contain_text("PUMP-4")
