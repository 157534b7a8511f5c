"""The ward infusion board in a real browser, against daphne on the test database.

A nurse opens 3 North's board: Jane Doe's bag infuses in bed 101A. A wrong-patient alert raised through
alerts.services (as the location rules raise it) reaches the board over ws/alerts/ and turns the bed
red within seconds; the nurse acknowledges it on the card. Scanning bags: a bag at another patient's bed
is refused with the server's reason, and a running bag is paused from its panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from alerts.models import Alert
from alerts.services import alert_raise
from floorplans.models import Floor, Zone
from infusion.bags import Place, alert_key, bag_dispense, bag_location_changed, bag_register, bag_start
from infusion.models import InfusionBag
from infusion.services import patient_admit
from tests.browser.conftest import logged_in
from tests.browser.server import Daphne, in_a_thread
from tests.tracking.whereabouts import zone
from tracking.models import CurrentLocation, Method, Tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1180, "height": 820}  # a 10-11" ward tablet, landscape
JANE_BAG, ED_BAG = "E28011700000J001", "E28011700000E002"


@dataclass
class Ward:
    ward: Zone
    jane_bed: Zone
    ed_bed: Zone
    jane_bag: InfusionBag
    ed_bag: InfusionBag




def _bag(tag_id: str, mrn: str, drug: str, concentration: str, volume_ml: float, rate_ml_h: float, *,
         at: datetime) -> InfusionBag:
    bag = bag_register(tag_id=tag_id, patient_mrn=mrn, drug=drug, concentration=concentration, volume_ml=volume_ml,
                       ordered_rate_ml_h=rate_ml_h, lot="LOT-7", expires_at=timezone.now() + timedelta(days=1),
                       user=None, at=at)
    return bag_dispense(bag_id=bag.pk, user=None, at=at + timedelta(minutes=5))


def _set_the_ward(floor: Floor, nurse: User) -> Ward:
    now = timezone.now()
    jane_bed, ed_bed = zone(floor, "3N-101-A"), zone(floor, "3N-102-A")
    patient_admit(mrn="MRN100", family_name="Doe", given_name="Jane", bed=jane_bed)
    patient_admit(mrn="MRN200", family_name="Poe", given_name="Ed", bed=ed_bed)
    jane_bag = _bag(JANE_BAG, "MRN100", "Vancomycin", "5 mg/mL", 250, 125, at=now - timedelta(minutes=90))
    bag_location_changed(bag_id=jane_bag.pk, place=Place.OWN_BED, previous=Place.OFF_WARD, zone_id=jane_bed.pk,
                         at=now - timedelta(minutes=45))
    jane_bag = bag_start(bag_id=jane_bag.pk, user=nurse, at=now - timedelta(minutes=40))
    ed_bag = _bag(ED_BAG, "MRN200", "Heparin", "100 units/mL", 500, 18, at=now - timedelta(minutes=30))
    ed_bag = bag_location_changed(bag_id=ed_bag.pk, place=Place.WARD, previous=None, zone_id=zone(floor, "3N-C").pk,
                                  at=now - timedelta(minutes=5))
    return Ward(zone(floor, "3N"), jane_bed, ed_bed, jane_bag, ed_bag)


@pytest.fixture
def ward(floor: Floor, nurse: User) -> Ward:
    """Jane Doe in bed 101A with vancomycin infusing (started 40 min ago); Ed Poe in bed 102A, his heparin
    bag on the ward, not started."""
    return in_a_thread(lambda: _set_the_ward(floor, nurse))


def _locate(tag_id: str, floor: Floor, bed: Zone) -> None:
    """The pipeline's latest word on the tag: in `bed`, just now."""
    at, point = timezone.now(), bed.polygon.point_on_surface
    CurrentLocation.objects.update_or_create(tag=Tag.objects.get(tag_id=tag_id), defaults={
        "floor": floor, "zone": bed, "position": point, "accuracy_m": 0.8, "method": Method.MULTILATERATION,
        "seen_at": at, "updated_at": at})


def _open_board(page: Page, server: Daphne, nurse: User, ward: Ward) -> None:
    page.set_viewport_size(TABLET)  # type: ignore[arg-type]
    logged_in(page, server.url, nurse)
    page.goto(f"{server.url}/infusion/wards/{ward.ward.pk}/")
    expect(page.locator(".ib-bed")).to_have_count(3)  # beds 101A, 102A, 102B


def test_a_wrong_patient_alert_turns_the_bed_red_at_once_and_the_nurse_acknowledges_it(
        page: Page, server: Daphne, floor: Floor, nurse: User, ward: Ward) -> None:
    _open_board(page, server, nurse, ward)
    jane = page.locator('.ib-bed[data-code="3N-101-A"]')
    expect(jane).to_have_attribute("data-state", "infusing")
    expect(jane.locator(".ib-patient")).to_contain_text("Doe, Jane")
    expect(jane.locator(".ib-bag")).to_contain_text("Vancomycin")
    expect(jane.locator(".ib-left")).to_contain_text("min left")  # 250 mL at 125 mL/h, 40 min in: 1 h 20 min
    expect(jane.locator(".ib-state")).to_have_text("Infusing")
    expect(page.locator('.ib-bed[data-code="3N-102-B"]')).to_have_attribute("data-state", "empty")
    expect(page.locator(".ib-conn")).to_have_attribute("data-state", "live")
    expect(jane).not_to_have_class("is-alarm")

    alert = in_a_thread(lambda: alert_raise(  # what the location rules raise once the bag has stayed at Ed's bed
        kind="infusion.wrong_patient", severity=Alert.Severity.HIGH,
        key=alert_key("infusion.wrong_patient", ward.jane_bag.pk),
        title="Bag at the wrong patient", message="Jane Doe's vancomycin is at Bed 102A (Ed Poe)",
        subject_type="bag", subject_id=str(ward.jane_bag.pk), subject_label="Vancomycin for Doe, Jane",
        audience="nurses", ward_id=ward.ward.pk, floor_id=floor.pk, zone_id=ward.ed_bed.pk))
    # over the websocket, well before the board's next read (every 5 s) could have shown it
    expect(jane).to_have_class("ib-bed is-alarm is-unacknowledged", timeout=3_000)
    ed = page.locator('.ib-bed[data-code="3N-102-A"]')  # where the bag was found
    expect(ed).to_have_class("ib-bed is-alarm is-unacknowledged")
    expect(ed.locator(".ib-alarm")).to_contain_text("Another patient's bag is here: Vancomycin for Doe, Jane")
    expect(jane.locator(".ib-alarm")).to_contain_text("Bag at the wrong patient")
    expect(page.locator(".ib-summary")).to_contain_text("2 beds in alarm")
    page.screenshot(path=str(Path(server.log).with_name("infusion-board-alarm.png")))  # next to daphne's log

    jane.locator(".ib-alarm").get_by_role("button", name="Acknowledge").click()
    expect(jane.locator(".ib-alarm")).to_have_class("ib-alarm is-acknowledged")
    expect(jane.locator(".ib-alarm")).to_contain_text("Acknowledged by nurse")
    expect(jane).to_have_class("ib-bed is-alarm")  # still in alarm until resolved, no longer flashing
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by) == (Alert.State.ACKNOWLEDGED, nurse)


def test_a_scanned_bag_at_another_patients_bed_is_refused_with_the_reason_and_a_running_bag_is_paused(
        page: Page, server: Daphne, floor: Floor, nurse: User, ward: Ward) -> None:
    _locate(ED_BAG, floor, ward.jane_bed)  # Ed's heparin has been carried to Jane's bed
    _open_board(page, server, nurse, ward)

    scan = page.get_by_label("Scan a bag")
    expect(scan).to_be_focused()  # a handheld scanner types into it at once
    scan.fill(":".join(ED_BAG.lower()[i:i + 2] for i in range(0, len(ED_BAG), 2)))  # as printed on a label
    scan.press("Enter")
    panel = page.locator(".ib-panel")
    expect(panel.locator("h2")).to_have_text("Heparin 100 units/mL")
    expect(panel.locator(".ib-actions button")).to_have_text(["Start", "Return to pharmacy", "Waste"])
    panel.get_by_role("button", name="Start").click()
    expect(panel.get_by_label("Rate (mL/h)")).to_have_value("18")
    panel.locator(".ib-ask").get_by_role("button", name="Start").click()
    expect(panel.locator(".ib-refusal")).to_contain_text("bag is for Ed Poe (MRN200) in Bed 102A; this is Bed 101A")
    page.screenshot(path=str(Path(server.log).with_name("infusion-refused.png")))  # next to daphne's log
    ward.ed_bag.refresh_from_db()
    assert ward.ed_bag.status == InfusionBag.Status.ON_WARD

    scan.fill(JANE_BAG)
    scan.press("Enter")
    expect(panel.locator("h2")).to_have_text("Vancomycin 5 mg/mL")
    expect(panel.locator(".ib-actions button")).to_have_text(["Pause", "Change rate", "Complete", "Discontinue"])
    panel.get_by_role("button", name="Pause").click()
    expect(panel.locator(".ib-done")).to_contain_text("Paused at")
    expect(panel.locator(".ib-actions button")).to_have_text(["Resume", "Change rate", "Complete", "Discontinue"])
    expect(page.locator('.ib-bed[data-code="3N-101-A"]')).to_have_attribute("data-state", "paused")
    ward.jane_bag.refresh_from_db()
    assert ward.jane_bag.status == InfusionBag.Status.PAUSED


def test_an_unknown_tag_says_so(page: Page, server: Daphne, nurse: User, ward: Ward) -> None:
    _open_board(page, server, nurse, ward)
    scan = page.get_by_label("Scan a bag")
    scan.fill("E2NOSUCHTAG")
    scan.press("Enter")
    expect(page.locator(".ib-panel .ib-refusal")).to_contain_text("No bag carries tag E2NOSUCHTAG")


def test_a_bags_custody_timeline_shows_each_step_with_place_and_person(
        page: Page, server: Daphne, nurse: User, ward: Ward) -> None:
    _open_board(page, server, nurse, ward)
    page.locator('.ib-bed[data-code="3N-101-A"] .ib-bag').click()
    page.get_by_role("link", name="Custody timeline and FHIR record →").click()
    expect(page.locator("h1")).to_contain_text("Vancomycin")
    steps = page.locator(".ib-step")
    expect(steps.locator(".ib-what")).to_have_text(
        ["Registered in pharmacy", "Dispensed (in transport)", "Arrived on the ward", "Arrived at the bedside",
         "Infusion started"])
    expect(steps.nth(3)).to_contain_text("at Bed 101A")
    expect(steps.nth(4)).to_contain_text("by nurse")
    expect(steps.nth(4)).to_contain_text("125 mL/h")
    expect(page.locator(".ib-panel .ib-actions button")).to_have_text(["Pause", "Change rate", "Complete",
                                                                      "Discontinue"])
    page.screenshot(path=str(Path(server.log).with_name("infusion-timeline.png")))
    fhir = page.get_by_role("link", name="FHIR MedicationAdministration")
    assert fhir.get_attribute("href") == f"/api/infusion/bags/{ward.jane_bag.pk}/fhir/"


def test_a_charge_nurse_admits_into_a_free_bed_and_is_told_when_a_bed_is_taken(
        page: Page, server: Daphne, charge_nurse: User, ward: Ward) -> None:
    _open_board(page, server, charge_nurse, ward)
    page.locator('.ib-bed[data-code="3N-102-B"]').get_by_role("button", name="Admit here").click()
    dialog = page.get_by_role("dialog", name="Admit a patient")
    expect(dialog.get_by_label("Bed")).to_have_value(str(zone(ward.ward.floor, "3N-102-B").pk))
    dialog.get_by_label("MRN").fill("MRN300")
    dialog.get_by_label("Family name").fill("Roe")
    dialog.get_by_label("Given name").fill("Rita")
    dialog.get_by_label("Bed").select_option(label="3 North · Bed 101A — Doe, Jane")  # taken: the server says so
    dialog.get_by_role("button", name="Admit").click()
    dialog = page.get_by_role("dialog", name="Admit a patient")
    expect(dialog.locator(".ib-form-error")).to_contain_text("occupied by Doe, Jane (MRN100)")
    expect(dialog.get_by_label("Family name")).to_have_value("Roe")
    page.screenshot(path=str(Path(server.log).with_name("infusion-admit-refused.png")))
    dialog.get_by_label("Bed").select_option(label="3 North · Bed 102B — free")
    dialog.get_by_role("button", name="Admit").click()
    expect(page.locator(".ib-message")).to_have_text("Roe, Rita admitted to Bed 102B.")
    expect(page.locator('.ib-bed[data-code="3N-102-B"] .ib-patient')).to_contain_text("Roe, Rita")
