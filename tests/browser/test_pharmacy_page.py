"""The pharmacy screen in a real browser, against daphne on the test database.

The pharmacist logs in, scans a bag's tag (the scanner's Enter moves the cursor on to the patient), types an
MRN the hospital does not know and is told so next to the patient field with everything else kept, picks
Jane Doe by name, labels the bag, sees it wait in the queue, ticks it and dispenses it. The dispensed bag
says "not seen yet" until the RTLS places its tag in the corridor, which the queue shows within seconds.
Its label prints alone.

A screenshot of the screen goes to $HOSPITAL_IOT_SCREENSHOT_DIR/pharmacy.png when that is set (to refresh
docs/screenshots/), else under pytest's tmp_path.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import user_create_with_role
from floorplans.models import Floor, Zone
from infusion.bags import bag_dispense, bag_register
from infusion.models import BagEvent, InfusionBag
from infusion.services import patient_admit
from tests.browser.server import Daphne, in_a_thread
from tests.tracking.whereabouts import zone
from tracking.models import CurrentLocation, Method, Tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKSTATION = {"width": 1440, "height": 900}  # the pharmacy's desktop screen
NEW_TAG = "E280117000000B01"
ED_TAG = "E280117000000E02"
ED_NEXT_TAG = "E280117000000E03"




def _set_the_pharmacy(floor: Floor) -> User:
    """Jane Doe in bed 101A and Ed Poe in 102A; Ed's heparin was dispensed an hour ago and is at his bed, his
    piperacillin waits to be dispensed."""
    now = timezone.now()
    patient_admit(mrn="MRN100", family_name="Doe", given_name="Jane", bed=zone(floor, "3N-101-A"))
    patient_admit(mrn="MRN200", family_name="Poe", given_name="Ed", bed=zone(floor, "3N-102-A"))
    heparin = bag_register(tag_id=ED_TAG, patient_mrn="MRN200", drug="Heparin", concentration="100 units/mL",
                           volume_ml=500, ordered_rate_ml_h=18, lot="HP-2231", expires_at=now + timedelta(days=1),
                           user=None, at=now - timedelta(minutes=80))
    bag_dispense(bag_id=heparin.pk, user=None, at=now - timedelta(minutes=60))
    _seen(ED_TAG, zone(floor, "3N-102-A"))
    bag_register(tag_id=ED_NEXT_TAG, patient_mrn="MRN200", drug="Piperacillin/tazobactam", concentration="45 mg/mL",
                 volume_ml=100, ordered_rate_ml_h=200, lot="PT-0917", expires_at=now + timedelta(hours=20), user=None)
    return user_create_with_role(username="pharmacist", role=roles.PHARMACIST, password="demo-pharmacist",
                                 first_name="Priya", last_name="Raman")


def _seen(tag_id: str, where: Zone) -> None:
    """The pipeline's latest word on the tag: in `where`, just now."""
    at = timezone.now()
    CurrentLocation.objects.update_or_create(tag=Tag.objects.get(tag_id=tag_id), defaults={
        "floor": where.floor, "zone": where, "position": where.polygon.point_on_surface, "accuracy_m": 1.0,
        "method": Method.MULTILATERATION, "seen_at": at, "updated_at": at})


@pytest.fixture
def pharmacist(floor: Floor) -> User:
    return in_a_thread(lambda: _set_the_pharmacy(floor))


def _screenshot_path(tmp_path: Path) -> Path:
    folder = os.environ.get("HOSPITAL_IOT_SCREENSHOT_DIR")
    return (Path(folder) if folder else tmp_path) / "pharmacy.png"


def test_the_pharmacist_labels_a_scanned_bag_dispenses_it_and_sees_it_reach_the_ward(
        page: Page, server: Daphne, floor: Floor, pharmacist: User, tmp_path: Path) -> None:
    page.set_viewport_size(WORKSTATION)  # type: ignore[arg-type]
    page.goto(f"{server.url}/infusion/pharmacy/")  # the login form sends her back here
    page.fill("input[name=username]", "pharmacist")
    page.fill("input[name=password]", "demo-pharmacist")
    page.click(".login button[type=submit]")
    expect(page.locator("h1")).to_have_text("Pharmacy")
    expect(page.locator(".topbar nav")).to_contain_text("Pharmacy")

    tag, patient = page.get_by_label("Tag", exact=True), page.get_by_label("Patient", exact=True)
    expect(tag).to_be_focused()  # ready for the scanner
    page.keyboard.type("e2:80:11:70:00:00:0b:01")  # a handheld scanner types the label's id...
    page.keyboard.press("Enter")  # ...and presses Enter
    expect(tag).to_have_value(NEW_TAG)
    expect(patient).to_be_focused()
    page.keyboard.type("MRN999")
    expect(page.locator("#ph-patient-echo")).to_have_text("No admitted patient matches")
    page.get_by_label("Drug").fill("Vancomycin")
    page.get_by_label("Concentration").fill("5 mg/mL")
    page.get_by_label("Volume (mL)").fill("250")
    page.get_by_label("Ordered rate (mL/h)").fill("125")
    page.get_by_label("Lot", exact=True).fill("VN-5521")
    page.get_by_label("Expires").fill((timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Label the bag").click()

    expect(page.locator(".ph-field-patient .ib-field-error")).to_have_text("no patient with MRN MRN999")
    expect(patient).to_be_focused()  # where the problem is
    expect(page.get_by_label("Drug")).to_have_value("Vancomycin")  # the rest as typed
    expect(tag).to_have_value(NEW_TAG)
    patient.fill("jane doe")
    expect(page.locator("#ph-patient-echo")).to_have_text("→ Doe, Jane · Bed 101A · 3 North (MRN MRN100)")
    page.get_by_role("button", name="Label the bag").click()

    bag = InfusionBag.objects.get(tracked_object__tag__tag_id=NEW_TAG)
    expect(page.locator(".ph-labelled")).to_contain_text(
        f"Bag {bag.pk} labelled: Vancomycin 5 mg/mL 250 mL for Doe, Jane")
    waiting = page.locator(f'.ph-waiting tr[data-bag="{bag.pk}"]')
    expect(waiting).to_contain_text(NEW_TAG)
    expect(waiting).to_have_class("is-new")
    expect(tag).to_be_focused()  # ready for the next bag
    expect(tag).to_have_value("")

    selected = page.locator(".ph-dispense-selected")
    expect(selected).to_be_disabled()
    waiting.get_by_label(f"tick bag {bag.pk}").check()
    expect(selected).to_have_text("Dispense selected (1)")
    selected.click()
    expect(page.locator(".ib-message.success")).to_have_text(f"Dispensed bag {bag.pk} (Vancomycin for Doe, Jane).")
    expect(page.locator(".ph-waiting tr[data-bag]")).to_have_count(1)  # Ed's piperacillin still waits
    expect(waiting).to_have_count(0)
    sent = page.locator(f'.ph-dispensed tr[data-bag="{bag.pk}"]')
    expect(sent).to_contain_text("Dispensed (in transport)")
    expect(sent.locator(".ph-where")).to_have_text("not seen yet")
    expect(page.locator(f'.ph-dispensed tr[data-tag="{ED_TAG}"] .ph-where')).to_contain_text("Bed 102A")
    bag.refresh_from_db()
    assert bag.status == InfusionBag.Status.DISPENSED
    assert BagEvent.objects.get(bag=bag, action=BagEvent.Action.DISPENSED).user == pharmacist

    in_a_thread(lambda: _seen(NEW_TAG, zone(floor, "3N-C")))  # the porter carries it onto the ward
    expect(sent.locator(".ph-where")).to_contain_text("Corridor", timeout=12_000)  # the queue's next read
    shot = _screenshot_path(tmp_path)
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    sent.get_by_role("link", name="Label").click()
    sticker = page.locator(".ph-sticker")
    expect(sticker).to_contain_text("DOE, Jane")
    expect(sticker.locator(".ph-tag")).to_have_text(NEW_TAG)
    expect(sticker.locator(".ph-bag-id")).to_have_text(f"Bag {bag.pk}")
    expect(sticker).to_contain_text("by Priya Raman")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print the label")).to_be_hidden()
    expect(sticker).to_be_visible()
    page.screenshot(path=str(Path(server.log).with_name("pharmacy-label-print.png")))  # next to daphne's log
