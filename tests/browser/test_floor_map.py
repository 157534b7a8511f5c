"""The live floor map in a real browser, fed through the real websocket.

daphne serves the page and the consumer; the test puts tags on the floor in the database (the snapshot
reads them) and sends pipeline frames into the Redis channel layer, as the pipeline does.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.utils import timezone
from playwright.sync_api import Page, expect

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor
from floorplans.plans import plan_render_for_floor
from tests.browser.conftest import logged_in
from tests.browser.server import Daphne
from tests.tracking.whereabouts import floor_above, place, zone
from tracking.models import CurrentLocation, LocationHistory, Method, Tag
from tracking.pipeline.frames import FIX_FIELDS
from tracking.store.partitions import history_partitions_maintain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUMP, CHAIR, BADGE = "E28011700000020F00000001", "AC233F000001", "AC233F000002"


@pytest.fixture
def ward(floor: Floor) -> Floor:
    """3 North with its plan drawn, an infusion pump in room 101, a wheelchair in the corridor, a nurse's
    badge in the store; another floor above with a second wheelchair."""
    plan_render_for_floor(floor=floor)
    place(PUMP, floor, 3.0, 14.8, zone=zone(floor, "3N-101"), category="infusion_pump", accuracy_m=1.5)
    place(CHAIR, floor, 14.0, 9.5, zone=zone(floor, "3N-C"), category="wheelchair", status="in_use")
    place(BADGE, floor, 3.0, 5.5, zone=zone(floor, "3N-ST"), kind="staff", name="Nurse Ada Lovelace")
    place("AC233F000009", floor_above(floor), 5.0, 5.0, category="wheelchair")
    return floor


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fix(tag: str, x_m: float, y_m: float, *, zone_id: int | None, at: datetime, **extra: Any) -> dict[str, Any]:
    fix = {"tag": tag, "object": None, "name": "", "kind": "asset", "category": "infusion_pump", "x_m": x_m,
           "y_m": y_m, "accuracy_m": 0.8, "zone": zone_id, "stationary": False, "seen_at": _iso(at)}
    return {**fix, **extra}


def _positions(floor: Floor, seq: int, fixes: list[dict[str, Any]], *, left: tuple[str, ...] | list[str] = ()
               ) -> dict[str, Any]:
    """A positions frame as the pipeline writes it (tracking.pipeline.frames): rows, and no descriptions
    (the page has them from its snapshot)."""
    at = timezone.now()
    rows = [[f["tag"], f["x_m"], f["y_m"], f["accuracy_m"], f["zone"], int(f["stationary"]),
             round((at - datetime.fromisoformat(f["seen_at"])).total_seconds() * 1000)] for f in fixes]
    return {"type": "positions", "floor": floor.pk, "seq": seq, "at": _iso(at), "fields": list(FIX_FIELDS),
            "fixes": rows, "objects": {}, "left": list(left)}


def _send(floor: Floor, message: dict[str, Any]) -> None:
    """A frame into the floor's group, as the pipeline sends it (from another thread: Playwright runs an
    event loop in this one)."""
    event = {"type": "floor.frame", "text": json.dumps(message)}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(async_to_sync(get_channel_layer().group_send), f"floor.{floor.pk}", event).result(timeout=10)


def _open_map(page: Page, server: Daphne, floor: Floor, user: User, *, markers: int = 3) -> None:
    logged_in(page, server.url, user)
    page.goto(f"{server.url}/floors/{floor.pk}/map/")
    expect(page.locator(".fm-conn")).to_have_attribute("data-state", "live")
    expect(page.locator(".fm-marker")).to_have_count(markers)


def _marker_in_zone(page: Page, tag: str, code: str) -> bool:
    """Is the marker's centre, on screen, inside the zone's outline as drawn (its screen bounds)?"""
    return bool(page.evaluate("""([tag, code]) => {
        const marker = document.querySelector(`.fm-marker[data-tag="${tag}"]`).getBoundingClientRect();
        const zone = document.querySelector(`path.fm-zone[data-code="${code}"]`).getBoundingClientRect();
        const x = marker.left + marker.width / 2, y = marker.top + marker.height / 2;
        return x > zone.left && x < zone.right && y > zone.top && y < zone.bottom;
    }""", [tag, code]))


def _wait_in_zone(page: Page, tag: str, code: str, *, timeout_ms: int = 5000) -> None:
    """Until the marker has glided into the zone."""
    page.wait_for_function("""([tag, code]) => {
        const marker = document.querySelector(`.fm-marker[data-tag="${tag}"]`)?.getBoundingClientRect();
        const zone = document.querySelector(`path.fm-zone[data-code="${code}"]`)?.getBoundingClientRect();
        if (!marker || !zone) return false;
        const x = marker.left + marker.width / 2, y = marker.top + marker.height / 2;
        return x > zone.left && x < zone.right && y > zone.top && y < zone.bottom;
    }""", arg=[tag, code], timeout=timeout_ms)


def test_a_nurse_sees_the_snapshot_and_a_frame_moves_a_marker_into_another_room(
        page: Page, server: Daphne, ward: Floor, nurse: User) -> None:
    _open_map(page, server, ward, nurse)
    expect(page.locator(".fm-status h1")).to_have_text("3 North - Test Ward")
    expect(page.locator(".fm-floors a")).to_have_text(["L3 3 North - Test Ward", "L4 Level 4"])
    assert page.locator("img.fm-plan").evaluate("img => img.complete && img.naturalWidth") > 0
    kinds = page.locator(".fm-marker").evaluate_all("els => els.map(e => e.dataset.kind).sort()")
    assert kinds == ["infusion_pump", "staff", "wheelchair"]  # an icon per kind
    expect(page.locator("path.fm-halo")).to_have_count(3)  # accuracy circles
    expect(page.locator(".fm-count")).to_have_text("3 on this floor")
    assert _marker_in_zone(page, PUMP, "3N-101") and _marker_in_zone(page, BADGE, "3N-ST")

    room_102 = zone(ward, "3N-102")
    _send(ward, _positions(ward, 7, [_fix(PUMP, 7.5, 14.8, zone_id=room_102.pk, at=timezone.now())], left=[BADGE]))
    expect(page.locator(".fm-marker")).to_have_count(2)  # the badge left the floor
    _wait_in_zone(page, PUMP, "3N-102")
    assert not _marker_in_zone(page, PUMP, "3N-101")

    # frame 8 is lost: frame 9 shows the gap, the page asks for a snapshot, and the snapshot (the database,
    # where the test never moved anything) puts the badge and the pump back where they are stored
    _send(ward, _positions(ward, 9, []))
    expect(page.locator(".fm-marker")).to_have_count(3)
    _wait_in_zone(page, PUMP, "3N-101")


def test_search_lists_matches_with_room_and_time_highlights_them_and_finds_them_on_other_floors(
        page: Page, server: Daphne, ward: Floor, nurse: User) -> None:
    _open_map(page, server, ward, nurse)
    page.fill("#fm-q", "infusion pump")
    page.press("#fm-q", "Enter")
    results = page.locator(".fm-results li")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Room 101")
    expect(results.first).to_contain_text("1 min ago")
    expect(page.locator(f'.fm-marker[data-tag="{PUMP}"]')).to_have_class(re.compile(r"\bis-hit\b"))
    expect(page.locator(".fm-marker.is-hit")).to_have_count(1)

    page.fill("#fm-q", "wheelchair")
    page.press("#fm-q", "Enter")
    expect(results).to_have_count(2)
    expect(page.locator(f'.fm-marker[data-tag="{CHAIR}"]')).to_have_class(re.compile(r"\bis-hit\b"))
    results.locator("button", has_text="Level 4").click()  # the one upstairs
    expect(page.locator(".fm-status h1")).to_have_text("Level 4")
    expect(page.locator('.fm-floors a[aria-current="page"]')).to_have_text("L4 Level 4")
    assert page.url.endswith(f"/floors/{Floor.objects.get(level=4).pk}/map/")
    expect(page.locator(".fm-marker.is-hit")).to_have_count(1)
    page.go_back()
    expect(page.locator(".fm-status h1")).to_have_text("3 North - Test Ward")
    expect(page.locator(".fm-marker")).to_have_count(3)


def test_nearest_available_lists_by_distance_from_a_room_tapped_on_the_map(page: Page, server: Daphne, ward: Floor,
                                                                          nurse: User) -> None:
    place("AC233F00000A", ward, 8.0, 5.0, zone=zone(ward, "3N-DU"), category="wheelchair")
    _open_map(page, server, ward, nurse, markers=4)
    page.select_option("#fm-category", "wheelchair")
    room = page.locator('path.fm-zone[data-code="3N-102"]')
    box = room.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] - 8, box["y"] + 8)  # a corner of room 102, clear of its beds
    expect(page.locator("#fm-room option:checked")).to_have_text("Room 102")
    expect(room).to_have_class(re.compile(r"\bis-chosen\b"))
    page.click(".fm-nearest button[type=submit]")
    results = page.locator(".fm-results li")
    expect(results).to_have_count(2)  # the corridor one is in use
    expect(results.first).to_contain_text("Dirty utility")
    expect(results.nth(1)).to_contain_text("1 floor away")
    expect(page.locator(".fm-marker.is-hit")).to_have_count(1)  # the one on this floor
    page.uncheck(".fm-nearest input[name=available]")
    page.click(".fm-nearest button[type=submit]")
    expect(results).to_have_count(3)  # this floor by distance, then the floor above
    expect(results.first).to_contain_text("Corridor")
    expect(results.first).to_contain_text("in use")
    expect(results.nth(1)).to_contain_text("Dirty utility")


def test_tapping_a_marker_shows_its_details_and_last_hour_trail(page: Page, server: Daphne, ward: Floor,
                                                                charge_nurse: User) -> None:
    now = timezone.now()
    history_partitions_maintain(now=now - timedelta(days=1), days_ahead=1)
    corridor = zone(ward, "3N-C")
    LocationHistory.objects.bulk_create([
        LocationHistory(tag=Tag.objects.get(tag_id=PUMP), floor=ward, zone=corridor, accuracy_m=1.0,
                        position=Point(20 - minutes / 5, 9.5, srid=FLOOR_SRID), method=Method.TRACKED,
                        seen_at=now - timedelta(minutes=minutes))
        for minutes in (50, 40, 30, 20, 10)
    ])
    _open_map(page, server, ward, charge_nurse)
    page.locator(f'.fm-marker[data-tag="{PUMP}"]').click()
    panel = page.locator(".fm-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_contain_text("infusion pump")
    for fact in ("available", f"A-{PUMP}", PUMP, "Room 101", "± 1.5 m", "1 min ago"):
        expect(panel.locator("dl")).to_contain_text(fact)
    expect(panel.locator(".fm-trail-note")).to_contain_text("Trail: 5 positions on this floor")
    expect(page.locator("path.fm-trail")).to_have_count(1)
    panel.locator(".fm-close").click()
    expect(panel).to_be_hidden()
    expect(page.locator("path.fm-trail")).to_have_count(0)


def test_it_warns_when_data_goes_stale_reconnects_with_a_resync_and_greys_old_markers(
        page: Page, server: Daphne, ward: Floor, nurse: User) -> None:
    page.clock.install()
    _open_map(page, server, ward, nurse)
    indicator, banner = page.locator(".fm-conn"), page.locator(".fm-stale")
    expect(banner).to_be_hidden()
    page.clock.fast_forward(16_000)  # no frame, not even a heartbeat
    expect(banner).to_contain_text("No live data for 1")
    _send(ward, {"type": "heartbeat", "floor": ward.pk, "at": _iso(timezone.now()), "lag_s": 0.2})
    expect(banner).to_be_hidden()

    server.stop()
    expect(indicator).to_have_attribute("data-state", "reconnecting")
    # while the server is away the pump moves to room 102: only a fresh snapshot can tell
    CurrentLocation.objects.filter(tag__tag_id=PUMP).update(
        position=Point(7.5, 14.8, srid=FLOOR_SRID), zone=zone(ward, "3N-102"), seen_at=timezone.now())
    page.clock.fast_forward(16_000)
    expect(banner).to_contain_text("The connection is down")
    server.start()
    page.clock.fast_forward(30_000)  # past any backoff
    expect(indicator).to_have_attribute("data-state", "live")
    expect(banner).to_be_hidden()
    _wait_in_zone(page, PUMP, "3N-102")

    expect(page.locator(".fm-marker.is-old")).to_have_count(0)
    page.clock.fast_forward(90_000)  # the other two were last seen 1 min ago, by the server's clock
    expect(page.locator(".fm-marker.is-old")).to_have_count(2)
