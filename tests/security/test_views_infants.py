"""The infants page: the protected infants with place, band and escort; the enrolment prompts and the enrol
form; escort start / end; the two-person discharge; match checks; and the access log page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from alerts.models import Alert
from floorplans.models import Floor
from security.access import location_views_record
from security.models import EscortPass, Infant, LocationAccess, Mother, TagState
from tests.security.test_api_helpers import BABY, OTHER, Nursery, nursery_setup
from tests.security.test_services_helpers import band, mother_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    return nursery_setup(floor)


def _messages(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]  # type: ignore[attr-defined]


def test_the_page_lists_infants_with_their_place_and_prompts_for_new_bands(
        client: Client, nurse: User, nursery: Nursery) -> None:
    band("B003")
    client.force_login(nurse)
    page = client.get("/security/infants/").content.decode()
    assert "Baby Jones" in page and "Room 101, " in page and "Ann Jones" in page and "strap closed" in page
    assert 'data-tag="B003"' in page and "?tag=B003&amp;open=enrol#enrol" in page
    assert "Start escort" not in page and "Request discharge" not in page  # nurses enrol, they do not escort
    assert list(LocationAccess.objects.values_list("tag_id", "via")) == [(BABY, "console")]
    prefilled = client.get("/security/infants/", {"tag": "B003", "open": "enrol"}).content.decode()
    assert 'value="B003"' in prefilled and '<details id="enrol" class="form-card" open>' in prefilled


def test_a_nurse_enrols_the_infant_of_a_prompt_and_a_loose_strap_is_refused(
        client: Client, nurse: User, nursery: Nursery) -> None:
    band("B003")
    band("B004", TagState.Strap.LOOSE)
    client.force_login(nurse)
    form = {"enrol-name": "Baby Green", "enrol-ward": nursery.w.ward.pk, "enrol-mother": nursery.mother.pk}
    refused = client.post("/security/infants/enrol/", {**form, "enrol-tag_id": "B004"})
    assert refused.status_code == 400 and "strap" in refused.content.decode().lower()
    enrolled = client.post("/security/infants/enrol/", {**form, "enrol-tag_id": "B003"}, follow=True)
    assert "Baby Green is protected on 3 North." in _messages(enrolled)
    assert Infant.objects.get(tracked_object__name="Baby Green").mother == nursery.mother


def test_a_mothers_band_is_registered_from_a_prompt(client: Client, nurse: User, nursery: Nursery) -> None:
    band("A009")
    client.force_login(nurse)
    response = client.post("/security/infants/mothers/", {"mother-tag_id": "A009", "mother-name": "Cleo Green",
                                                          "mother-ward": nursery.w.ward.pk}, follow=True)
    assert "Cleo Green wears tag A009 for match checks." in _messages(response)
    assert Mother.objects.filter(tracked_object__name="Cleo Green").exists()


def test_a_charge_nurse_escorts_an_infant_and_ends_the_escort(
        client: Client, charge_nurse: User, nursery: Nursery) -> None:
    client.force_login(charge_nurse)
    path = f"/security/infants/{nursery.baby.pk}/escort/"
    started = client.post(path, {"escort-destination": "radiology", "escort-minutes": "30"}, follow=True)
    assert "Baby Jones may leave for radiology for 30 min." in _messages(started)
    assert "to <strong>radiology</strong>" in started.content.decode()
    twice = client.post(path, {"escort-destination": "NICU", "escort-minutes": "30"}, follow=True)
    assert any("already on an escort" in m for m in _messages(twice))
    assert any("For (minutes)" in m for m in _messages(client.post(path, {"escort-destination": "x",
                                                                          "escort-minutes": "0"}, follow=True)))
    ended = client.post(f"{path}end/", {"note-note": "back"}, follow=True)
    assert "Baby Jones is back: exit alarms armed again." in _messages(ended)
    assert EscortPass.objects.get().end_note == "back"


def test_the_discharge_needs_a_second_person(client: Client, charge_nurse: User, security_officer: User,
                                             nursery: Nursery) -> None:
    client.force_login(charge_nurse)
    path = f"/security/infants/{nursery.other.pk}/discharge/"
    assert "Give the reason for the discharge." in _messages(client.post(f"{path}request/", follow=True))
    requested = client.post(f"{path}request/", {"discharge-reason": "home"}, follow=True)
    assert any("a second person must confirm" in m for m in _messages(requested))
    assert 'disabled title="a second person must confirm"' in requested.content.decode()
    mine = client.post(f"{path}confirm/", follow=True)
    assert "A second person must confirm this discharge: you requested it." in _messages(mine)
    client.force_login(security_officer)
    confirmed = client.post(f"{path}confirm/", follow=True)
    assert "Baby Brown is discharged: protection ended." in _messages(confirmed)
    assert Infant.objects.get(pk=nursery.other.pk).state == Infant.State.DISCHARGED
    assert client.post(f"/security/infants/{nursery.baby.pk}/discharge/burn/").status_code == 404


def test_a_nurse_may_not_escort_or_discharge(client: Client, nurse: User, nursery: Nursery) -> None:
    client.force_login(nurse)
    assert client.post(f"/security/infants/{nursery.baby.pk}/escort/",
                       {"escort-destination": "x", "escort-minutes": "5"}).status_code == 403
    assert client.post(f"/security/infants/{nursery.baby.pk}/discharge/request/",
                       {"discharge-reason": "x"}).status_code == 403
    assert not EscortPass.objects.exists()


def test_a_wrong_pairing_from_the_page_raises_the_mismatch(client: Client, nurse: User, nursery: Nursery) -> None:
    bea = mother_make(nursery.w, "A002", patient=nursery.w.bea)
    client.force_login(nurse)
    right = client.post("/security/infants/match/", {"match-mother": nursery.mother.pk,
                                                     "match-infant": nursery.baby.pk}, follow=True)
    assert "Baby Jones and Ann Jones match." in _messages(right)
    wrong = client.post("/security/infants/match/", {"match-mother": bea.pk, "match-infant": nursery.baby.pk},
                        follow=True)
    assert any(m.startswith("MISMATCH: Baby Jones is not Bea Brown's infant") for m in _messages(wrong))
    assert Alert.objects.filter(kind="security.mismatch", state="new").count() == 1
    assert "Mismatch" in wrong.content.decode()


def test_the_access_log_page_is_for_security_and_filters(
        client: Client, nurse: User, security_officer: User, nursery: Nursery) -> None:
    location_views_record(user=nurse, tag_ids=[BABY], via="trail", detail="GET /api/tags/B001/trail/")
    location_views_record(user=nurse, tag_ids=[OTHER], via="api", detail="GET /api/locations/")
    client.force_login(nurse)
    assert client.get("/security/access-log/").status_code == 403
    client.force_login(security_officer)
    page = client.get("/security/access-log/").content.decode()
    assert "GET /api/tags/B001/trail/" in page and "GET /api/locations/" in page and "2 lines" in page
    trails = client.get("/security/access-log/", {"via": "trail"}).content.decode()
    assert "GET /api/tags/B001/trail/" in trails and "GET /api/locations/" not in trails
    by_infant = client.get("/security/access-log/", {"infant": nursery.other.pk}).content.decode()
    assert "1 line" in by_infant and "Baby Brown" in by_infant
