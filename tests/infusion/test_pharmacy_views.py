"""The pharmacy screen: who may open it, labelling a bag (good input, and each refusal of bag_register shown
next to its field with what was typed kept), dispensing one bag or several, the queue with where dispensed
bags are now, and the printable label."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import roles
from accounts.services import user_create_with_role
from floorplans.models import Floor, Zone
from infusion.bags import bag_dispense, bag_register
from infusion.models import BagEvent, InfusionBag, Patient
from infusion.selectors import pharmacy_queue
from infusion.services import patient_admit, patient_discharge
from tests.tracking.whereabouts import place, zone
from tracking.models import CurrentLocation, Method, Tag

pytestmark = pytest.mark.django_db

S = InfusionBag.Status
PAGE, QUEUE, LABEL, DISPENSE = ("/infusion/pharmacy/", "/infusion/pharmacy/queue/", "/infusion/pharmacy/bags/",
                                "/infusion/pharmacy/dispense/")


@pytest.fixture
def pharmacist(db: None) -> User:
    return user_create_with_role(username="pharmacist", role=roles.PHARMACIST, password="pw-pharmacist")


@pytest.fixture
def jane(floor: Floor) -> Patient:
    return patient_admit(mrn="MRN100", family_name="Doe", given_name="Jane", bed=zone(floor, "3N-101-A"))


def _as(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _label(**changes: Any) -> dict[str, Any]:
    """A good label form: vancomycin for Jane Doe, expiring in two days (local time, as the browser sends it)."""
    expires = timezone.localtime() + timedelta(days=2)
    return {"tag_id": "E2:80:11:70:00:00:0A:01", "patient": "MRN100", "drug": "Vancomycin",
            "concentration": "5 mg/mL", "volume_ml": "250", "ordered_rate_ml_h": "125", "lot": "LOT-4471",
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M"), **changes}


def _register(mrn: str = "MRN100", tag_id: str = "E2000001", *, drug: str = "Vancomycin", hours_ago: float = 0,
              expires_in_h: float = 48) -> InfusionBag:
    now = timezone.now()
    return bag_register(tag_id=tag_id, patient_mrn=mrn, drug=drug, concentration="5 mg/mL", volume_ml=250,
                        ordered_rate_ml_h=125, lot="L1", expires_at=now + timedelta(hours=expires_in_h), user=None,
                        at=now - timedelta(hours=hours_ago))


def _field(page: str, name: str) -> str:
    """The HTML of one field of the label form (its label, input and errors)."""
    match = re.search(rf'<div class="ib-field ph-field-{name}[^"]*">(.*?)</div>', page, re.S)
    assert match, f"no field {name}"
    return match.group(0)


# ---- who may open what ----

@pytest.mark.parametrize(("method", "url"), [("get", PAGE), ("get", QUEUE), ("get", "/infusion/pharmacy/bags/1/label/"),
                                             ("post", LABEL), ("post", DISPENSE)])
def test_it_sends_anonymous_visitors_to_log_in(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_keeps_nurses_from_labelling_and_dispensing(client: Client, jane: Patient, nurse: User,
                                                       charge_nurse: User) -> None:
    bag = _register()
    for user in (nurse, charge_nurse):
        _as(client, user)
        assert client.get(PAGE).status_code == 403
        assert client.get(QUEUE).status_code == 403
        assert client.get(f"/infusion/pharmacy/bags/{bag.pk}/label/").status_code == 403
        assert client.post(LABEL, _label(tag_id="E2000099")).status_code == 403
        assert client.post(DISPENSE, {"one": bag.pk}).status_code == 403
    bag.refresh_from_db()
    assert bag.status == S.REGISTERED and InfusionBag.objects.count() == 1


def test_the_nav_shows_pharmacy_to_the_pharmacist_and_the_administrator_only(
        client: Client, floor: Floor, pharmacist: User, nurse: User, administrator: User) -> None:
    link = 'href="/infusion/pharmacy/">Pharmacy</a>'
    assert link in _as(client, pharmacist).get(PAGE).content.decode()
    assert link in _as(client, administrator).get(PAGE).content.decode()
    assert link not in _as(client, nurse).get("/infusion/").content.decode()


def test_the_page_offers_the_admitted_patients_with_bed_and_ward_and_focuses_the_tag(
        client: Client, floor: Floor, jane: Patient, pharmacist: User) -> None:
    patient_admit(mrn="MRN300", family_name="Roe", given_name="Rita", bed=zone(floor, "3N-102-B"))
    patient_discharge(mrn="MRN300")
    page = _as(client, pharmacist).get(PAGE).content.decode()
    assert '<option value="MRN100">Doe, Jane · Bed 101A · 3 North</option>' in page
    assert "MRN300" not in page  # discharged: not offered
    assert re.search(r'<input[^>]*name="tag_id"[^>]*autofocus', page)
    assert 'list="ph-patients"' in _field(page, "patient")
    assert 'type="module" src="/static/infusion/pharmacy.js"' in page


# ---- labelling ----

def test_it_labels_a_bag_and_puts_its_label_one_click_away(client: Client, jane: Patient, pharmacist: User) -> None:
    response = _as(client, pharmacist).post(LABEL, _label())
    bag = InfusionBag.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{PAGE}?labelled={bag.pk}"
    assert bag.tracked_object.tag is not None and bag.tracked_object.tag.tag_id == "E280117000000A01"
    assert (bag.patient, bag.status, bag.drug, bag.concentration, bag.volume_ml, bag.ordered_rate_ml_h, bag.lot) == (
        jane, S.REGISTERED, "Vancomycin", "5 mg/mL", 250, 125, "LOT-4471")
    assert timezone.now() + timedelta(hours=47) < bag.expires_at < timezone.now() + timedelta(hours=49)
    event = BagEvent.objects.get(bag=bag)
    assert (event.action, event.user) == (BagEvent.Action.REGISTERED, pharmacist)
    page = client.get(response["Location"]).content.decode()
    assert f"Bag {bag.pk} labelled: Vancomycin 5 mg/mL" in page and "for Doe, Jane" in page
    assert f'href="/infusion/pharmacy/bags/{bag.pk}/label/">Print the label</a>' in page


def test_it_finds_the_patient_by_name(client: Client, jane: Patient, pharmacist: User) -> None:
    assert _as(client, pharmacist).post(LABEL, _label(patient="jane DOE")).status_code == 302
    assert InfusionBag.objects.get().patient == jane


def test_it_asks_which_patient_when_a_name_matches_several(client: Client, floor: Floor, jane: Patient,
                                                           pharmacist: User) -> None:
    patient_admit(mrn="MRN200", family_name="Doe", given_name="John", bed=zone(floor, "3N-102-A"))
    response = _as(client, pharmacist).post(LABEL, _label(patient="Doe"))
    assert response.status_code == 400
    field = _field(response.content.decode(), "patient")
    assert "More than one admitted patient matches “Doe”: Doe, Jane (MRN MRN100); Doe, John (MRN MRN200)" in field
    assert not InfusionBag.objects.exists()


def _discharged(floor: Floor) -> dict[str, Any]:
    patient_admit(mrn="MRN300", family_name="Roe", given_name="Rita", bed=zone(floor, "3N-102-B"))
    patient_discharge(mrn="MRN300")
    return {"patient": "MRN300"}


def _tag_on_a_live_bag(floor: Floor) -> dict[str, Any]:
    bag = _register(tag_id="E2000777")
    bag_dispense(bag_id=bag.pk, user=None)
    return {"tag_id": "e2-00-07-77"}


def _tag_on_a_pump(floor: Floor) -> dict[str, Any]:
    place("E2PUMP01", floor, 5.0, 5.0, category="infusion_pump")
    return {"tag_id": "E2PUMP01"}


def _past(floor: Floor) -> dict[str, Any]:
    return {"expires_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}


# (what is wrong, the form's values, the field the refusal goes to, what it says)
REFUSALS = [
    ("unknown MRN", lambda floor: {"patient": "MRN999"}, "patient", "no patient with MRN MRN999"),
    ("discharged patient", _discharged, "patient", "Rita Roe (MRN300) was discharged"),
    ("tag on another live bag", _tag_on_a_live_bag, "tag_id", "tag E2000777 is on bag"),
    ("tag on a pump", _tag_on_a_pump, "tag_id", "tag E2PUMP01 is on"),
    ("expired", _past, "expires_at", "the bag expired at"),
    ("no volume", lambda floor: {"volume_ml": "0"}, "volume_ml", "need volume &gt; 0"),
    ("negative volume", lambda floor: {"volume_ml": "-5"}, "volume_ml", "volume -5.0 mL"),
    ("no rate", lambda floor: {"ordered_rate_ml_h": "0"}, "ordered_rate_ml_h", "0 &lt; rate &lt;= 999"),
    ("rate beyond a pump", lambda floor: {"ordered_rate_ml_h": "5000"}, "ordered_rate_ml_h", "rate 5000.0 mL/h"),
    ("volume not a number", lambda floor: {"volume_ml": "lots"}, "volume_ml", "Enter a number."),
    ("no drug", lambda floor: {"drug": "  "}, "drug", "This field is required."),
    ("no lot", lambda floor: {"lot": ""}, "lot", "This field is required."),
    ("no expiry", lambda floor: {"expires_at": "tomorrow"}, "expires_at", "Enter a valid date/time."),
    ("no tag", lambda floor: {"tag_id": " : "}, "tag_id", "Scan the bag&#x27;s tag, or type its id."),
]


@pytest.mark.parametrize(("case", "wrong", "field", "says"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_it_shows_each_refusal_next_to_its_field_and_keeps_what_was_typed(
        client: Client, floor: Floor, jane: Patient, pharmacist: User, case: str, wrong: Any, field: str,
        says: str) -> None:
    values = _label(**wrong(floor))
    before = InfusionBag.objects.count()
    response = _as(client, pharmacist).post(LABEL, values)
    assert response.status_code == 400, case
    page = response.content.decode()
    html = _field(page, field)
    assert "has-error" in html and says in html, (case, html)
    assert page.count('class="ib-field-error"') == 1  # only there
    assert 'value="LOT-4471"' in page or values["lot"] == ""  # what was typed stays
    assert f'value="{values["drug"]}"' in page or not values["drug"].strip()
    assert InfusionBag.objects.count() == before


# ---- dispensing ----

def test_it_dispenses_one_bag(client: Client, jane: Patient, pharmacist: User) -> None:
    bag, other = _register(), _register(tag_id="E2000002", drug="Heparin")
    response = _as(client, pharmacist).post(DISPENSE, {"one": bag.pk, "bag": [other.pk]})  # the row's button wins
    assert response.status_code == 302 and response["Location"] == PAGE
    bag.refresh_from_db()
    other.refresh_from_db()
    assert (bag.status, bag.ward, other.status) == (S.DISPENSED, jane.ward, S.REGISTERED)
    assert BagEvent.objects.get(bag=bag, action=BagEvent.Action.DISPENSED).user == pharmacist
    assert f"Dispensed bag {bag.pk} (Vancomycin for Doe, Jane)." in client.get(PAGE).content.decode()


def test_it_dispenses_the_ticked_bags_and_names_each_one_it_refuses(client: Client, floor: Floor, jane: Patient,
                                                                    pharmacist: User) -> None:
    patient_admit(mrn="MRN200", family_name="Poe", given_name="Ed", bed=zone(floor, "3N-102-A"))
    first, second = _register(), _register("MRN200", "E2000002", drug="Heparin")
    stale = _register(tag_id="E2000003", drug="Cefazolin", hours_ago=30, expires_in_h=-2)  # expired 2 h ago
    response = _as(client, pharmacist).post(DISPENSE, {"bag": [first.pk, stale.pk, second.pk, "x"]})
    assert response.status_code == 302
    statuses = dict(InfusionBag.objects.values_list("pk", "status"))
    assert statuses == {first.pk: S.DISPENSED, second.pk: S.DISPENSED, stale.pk: S.REGISTERED}
    page = client.get(PAGE).content.decode()
    assert (f"Dispensed bag {first.pk} (Vancomycin for Doe, Jane), bag {second.pk} (Heparin for Poe, Ed)."
            in page)
    assert f"Bag {stale.pk} was not dispensed: bag {stale.pk} (Cefazolin) expired at" in page


def test_it_says_so_when_nothing_is_ticked_or_a_bag_has_gone(client: Client, jane: Patient, pharmacist: User) -> None:
    bag = _register()
    bag_dispense(bag_id=bag.pk, user=None)
    _as(client, pharmacist)
    assert client.post(DISPENSE, {}).status_code == 302
    assert "Tick the bags to dispense first." in client.get(PAGE).content.decode()
    client.post(DISPENSE, {"one": bag.pk})
    assert f"Bag {bag.pk} was not dispensed: bag {bag.pk} cannot be dispensed: it is dispensed" in client.get(
        PAGE).content.decode()
    client.post(DISPENSE, {"one": 999999})
    assert "Bag 999999 was not dispensed: no bag 999999" in client.get(PAGE).content.decode()


def test_it_dispenses_only_by_post(client: Client, pharmacist: User) -> None:
    assert _as(client, pharmacist).get(DISPENSE).status_code == 405
    assert client.get(LABEL).status_code == 405


# ---- the queue ----

def _rows(page: str, table: str) -> dict[int, str]:
    """The rows of one queue table by bag id."""
    body = re.search(rf'<table class="ph-table {table}">(.*?)</table>', page, re.S)
    assert body, f"no table {table}"
    return {int(bag): row for bag, row in re.findall(r'<tr data-bag="(\d+)"[^>]*>(.*?)</tr>', body.group(1), re.S)}


def _seen(tag_id: str, where: Zone) -> None:
    """The pipeline's latest word on the tag: in `where`, a minute ago."""
    at = timezone.now() - timedelta(minutes=1)
    CurrentLocation.objects.update_or_create(tag=Tag.objects.get(tag_id=tag_id), defaults={
        "floor": where.floor, "zone": where, "position": where.polygon.point_on_surface, "accuracy_m": 1.0,
        "method": Method.MULTILATERATION, "seen_at": at, "updated_at": at})


def test_the_queue_lists_bags_to_dispense_and_where_the_dispensed_ones_are_now(
        client: Client, floor: Floor, jane: Patient, pharmacist: User) -> None:
    waiting = _register(tag_id="E2000001")
    seen = bag_dispense(bag_id=_register(tag_id="E2000002", drug="Heparin").pk, user=None)
    unseen = bag_dispense(bag_id=_register(tag_id="E2000003", drug="Cefazolin").pk, user=None)
    old = _register(tag_id="E2000004", drug="Meropenem", hours_ago=30)
    bag_dispense(bag_id=old.pk, user=None, at=timezone.now() - timedelta(hours=25))  # left a day ago
    _seen("E2000002", zone(floor, "3N-C"))  # the RTLS has it in the corridor
    page = _as(client, pharmacist).get(QUEUE).content.decode()
    assert list(_rows(page, "ph-waiting")) == [waiting.pk]
    assert "E2000001" in _rows(page, "ph-waiting")[waiting.pk]
    dispensed = _rows(page, "ph-dispensed")
    assert list(dispensed) == [unseen.pk, seen.pk]  # latest first; the one of yesterday is gone
    assert "Corridor" in dispensed[seen.pk] and floor.name in dispensed[seen.pk]
    assert "Dispensed (in transport)" in dispensed[seen.pk]
    assert "not seen yet" in dispensed[unseen.pk]
    assert _rows(_as(client, pharmacist).get(PAGE).content.decode(), "ph-dispensed").keys() == dispensed.keys()


def _queries_for_the_queue() -> int:
    """What the queue page reads: the queue, and each row's patient, bed and ward as the template shows them."""
    with CaptureQueriesContext(connection) as queries:
        queue = pharmacy_queue()
        shown = [(row.bag.patient.bed, row.bag.patient.ward, row.bag.ward) for row in queue.waiting + queue.dispensed]
    assert len(shown) == len(queue.waiting) + len(queue.dispensed)
    return len(queries)


def test_the_queue_reads_the_same_few_queries_for_two_bags_or_eight(floor: Floor, jane: Patient) -> None:
    for n in range(2):
        bag_dispense(bag_id=_register(tag_id=f"E20000{n:02d}").pk, user=None)
        _seen(f"E20000{n:02d}", zone(floor, "3N-C"))
    few = _queries_for_the_queue()
    for n in range(2, 8):
        bag = _register(tag_id=f"E20000{n:02d}")
        if n % 2:
            bag_dispense(bag_id=bag.pk, user=None)
            _seen(f"E20000{n:02d}", zone(floor, "3N-101-A"))
    assert _queries_for_the_queue() == few == 4


def test_the_queue_marks_an_expired_bag_and_a_patient_gone_from_his_bed(client: Client, floor: Floor,
                                                                      jane: Patient, pharmacist: User) -> None:
    stale = _register(hours_ago=30, expires_in_h=-1)
    patient_discharge(mrn="MRN100")
    row = _rows(_as(client, pharmacist).get(QUEUE).content.decode(), "ph-waiting")[stale.pk]
    assert "expired" in row and "no bed (discharged?)" in row


# ---- the label ----

def test_the_label_shows_what_the_ward_checks_before_hanging_the_bag(client: Client, jane: Patient,
                                                                    pharmacist: User) -> None:
    _as(client, pharmacist).post(LABEL, _label())
    bag = InfusionBag.objects.get()
    page = client.get(f"/infusion/pharmacy/bags/{bag.pk}/label/").content.decode()
    sticker = page[page.index('<article class="ph-sticker"'):page.index("</article>")]
    expires = timezone.localtime(bag.expires_at).strftime("%-d %b %Y %H:%M")
    for text in ("DOE, Jane", "MRN <strong class=\"ph-mrn\">MRN100</strong>", "Bed 101A · 3 North", "Vancomycin",
                 "5 mg/mL", "250 mL", "125 mL/h", "LOT-4471", expires, "E280117000000A01",
                 f"Bag {bag.pk}", "by pharmacist"):
        assert text in sticker, text
    assert "/static/infusion/pharmacy.css" in page and 'class="ph-printing"' in page


def test_the_label_of_an_unknown_bag_is_404(client: Client, pharmacist: User) -> None:
    assert _as(client, pharmacist).get("/infusion/pharmacy/bags/999999/label/").status_code == 404
