"""A handheld sweep that does not read an asset the RTLS placed in its expected room minutes ago says so
plainly, "not reached by the sweep", with the RTLS's last place and time beside it, on the page, in the CSV
and in the PDF; a hands-free audit keeps "not seen here lately"."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from reportlab import rl_config  # type: ignore[import-untyped]

from tests.tracking.assets.audit_world import AuditWorld, audit_world_make, locate, rfid_read
from tracking.assets.audit_classify import Result, result_label, seen_by
from tracking.assets.audits import audit_finish, audit_run_hands_free, audit_start_handheld, handheld_reads_record
from tracking.assets.reports import audit_report_csv, audit_report_pdf
from tracking.models import Audit, AuditItem

pytestmark = pytest.mark.django_db

SWEEP_ENDS = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
RTLS_SAW = SWEEP_ENDS - timedelta(minutes=12)  # the monitor, in its home room (the store), 12 minutes before


@pytest.mark.parametrize(("result", "sweep", "label", "by"), [
    (Result.NOT_SEEN, True, "not reached by the sweep", "rtls"),  # the sweep did not read it; the RTLS: here
    (Result.NOT_SEEN, False, "not seen here lately", "rtls"),  # hands-free audits keep theirs
    (Result.FOUND, True, "found", "sweep"),
    (Result.UNEXPECTED, True, "found here, belongs elsewhere", "sweep"),
    (Result.FOUND, False, "found", "rtls"),
    (Result.MISPLACED, True, "misplaced (seen elsewhere)", "rtls"),
    (Result.MISSING, True, "missing (seen nowhere)", "rtls"),
])
def test_it_names_each_result_and_whose_sighting_it_shows(result: Result, sweep: bool, label: str, by: str) -> None:
    assert (result_label(result, sweep=sweep), seen_by(result, sweep=sweep)) == (label, by)


def test_it_refuses_to_name_an_unknown_result() -> None:
    with pytest.raises(ValueError, match="lost"):
        result_label("lost", sweep=True)


@pytest.fixture
def world(floor_doc: dict[str, Any]) -> AuditWorld:
    world = audit_world_make(floor_doc, today=SWEEP_ENDS.date())
    locate(world, "pump-1", world.store, RTLS_SAW)
    locate(world, "monitor-5", world.store, RTLS_SAW)
    return world


@pytest.fixture
def sweep(world: AuditWorld) -> Audit:
    """A sweep of the equipment store that reads pump-1 and misses monitor-5 (the RTLS: in the store)."""
    audit = audit_start_handheld(zone_ids=[world.store.pk], now=SWEEP_ENDS - timedelta(minutes=20))
    handheld_reads_record(audit_id=audit.pk, reads=[rfid_read(world.epc("pump-1"), "store",
                                                              (SWEEP_ENDS - timedelta(minutes=5)).timestamp())])
    return audit_finish(audit_id=audit.pk, now=SWEEP_ENDS)


def test_the_sweep_keeps_the_rtls_place_and_time_of_what_it_missed(world: AuditWorld, sweep: Audit) -> None:
    item = AuditItem.objects.get(audit=sweep, asset=world.assets["monitor-5"])
    assert (item.result, item.seen_zone_id, item.seen_at) == ("not_seen", world.store.pk, RTLS_SAW)
    assert sweep.summary["counts"]["not_seen"] == 1


def _section(page: str, result: str) -> str:
    found = re.search(rf'<section class="au-section {result}" id="section-{result}">(.*?)</section>', page, re.DOTALL)
    assert found is not None, f"no {result} section"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_page_says_not_reached_by_the_sweep_with_the_rtls_place_and_time(
    client: Client, biomed: User, world: AuditWorld, sweep: Audit,
) -> None:
    client.force_login(biomed)
    page = client.get(f"/assets/audits/{sweep.pk}/").content.decode()
    section = _section(page, "not_seen")
    rtls_saw = timezone.localtime(RTLS_SAW).strftime("%Y-%m-%d %H:%M")
    assert section.startswith("Not reached by the sweep 1 ")
    for text in ("RTLS last place", "RTLS last seen", "MONITOR-5", "Equipment store · 3 North - Test Ward",
                 f"{rtls_saw} (12 minutes before the sweep ended)"):
        assert text in section, text
    assert "1 not reached by the sweep" in " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "not seen here lately" not in page.lower()
    assert "Read in" in _section(page, "found")  # what the sweep read shows where it read it


def test_the_csv_says_it_and_whose_sighting_the_place_is(world: AuditWorld, sweep: Audit) -> None:
    rows = {r["asset_number"]: r for r in csv.DictReader(io.StringIO(audit_report_csv(sweep)))}
    monitor = rows["MONITOR-5"]
    assert (monitor["result"], monitor["result_label"], monitor["seen_zone"], monitor["seen_at"],
            monitor["seen_by"]) == ("not_seen", "not reached by the sweep", "Equipment store", "2026-12-03 10:18 UTC",
                                    "rtls")
    assert (rows["PUMP-1"]["result_label"], rows["PUMP-1"]["seen_by"]) == ("found", "sweep")
    assert (rows["PUMP-4"]["result_label"], rows["PUMP-4"]["seen_by"]) == ("missing (seen nowhere)", "")  # never seen


def _pdf_text(audit: Audit, monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setattr(rl_config, "pageCompression", 0)  # the page text stays readable
    return audit_report_pdf(audit)


def test_the_pdf_says_it_with_the_rtls_place_and_time(sweep: Audit, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = _pdf_text(sweep, monkeypatch)
    for text in (b"(Not reached by the sweep: 1)", b"(RTLS last place)", b"(RTLS last seen)", b"(MONITOR-5)",
                 b"(2026-12-03 10:18 UTC)", b"(not reached by the sweep)"):
        assert text in pdf, text
    assert b"Not seen here lately" not in pdf


def test_a_hands_free_audit_keeps_not_seen_here_lately(client: Client, biomed: User, world: AuditWorld,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    locate(world, "monitor-5", world.store, SWEEP_ENDS - timedelta(hours=30))  # placed here, but not lately
    audit = audit_run_hands_free(zone_ids=[world.store.pk], now=SWEEP_ENDS)
    client.force_login(biomed)
    page = client.get(f"/assets/audits/{audit.pk}/").content.decode()
    assert _section(page, "not_seen").startswith("Not seen here lately 1 ")
    assert "not reached" not in page and "RTLS last place" not in page
    rows = {r["asset_number"]: r for r in csv.DictReader(io.StringIO(audit_report_csv(audit)))}
    assert (rows["MONITOR-5"]["result_label"], rows["MONITOR-5"]["seen_by"]) == ("not seen here lately", "rtls")
    pdf = _pdf_text(audit, monkeypatch)
    assert b"(Not seen here lately: 1)" in pdf and b"not reached" not in pdf


def test_the_asset_history_names_the_sweep_result_too(client: Client, biomed: User, world: AuditWorld,
                                                      sweep: Audit) -> None:
    client.force_login(biomed)
    history = client.get(f"/assets/audits/assets/{world.assets['monitor-5'].pk}/").content.decode()
    assert "not reached by the sweep" in history
