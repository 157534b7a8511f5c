"""GET /api/tags/ and /api/tracked-objects/: read-only lists with validated filters."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tracking.models import Asset, Tag
from tracking.services import asset_register, tracked_object_tag

pytestmark = pytest.mark.django_db

MAC = "AC:23:3F:A0:00:01"


@pytest.fixture
def things(db: None) -> None:
    asset_register(asset_number="IP-0001", category="infusion_pump", tag_id=MAC, tech=Tag.Tech.BLE, make="B. Braun")
    asset_register(asset_number="WC-0002", category="wheelchair", tag_id="E2801170000002", tech=Tag.Tech.RFID)
    Asset.objects.filter(asset_number="WC-0002").update(status=Asset.Status.NEEDS_CLEANING)
    tracked_object_tag(kind="staff", name="Nina Okafor", tag_id="uwb-17", tech=Tag.Tech.UWB)
    Tag.objects.create(tag_id="spare-1", tech=Tag.Tech.BLE, active=False)


TAG_QUERIES: list[tuple[str, list[str]]] = [
    ("", ["AC:23:3F:A0:00:01", "E2801170000002", "spare-1", "uwb-17"]),
    ("?tech=ble", ["AC:23:3F:A0:00:01", "spare-1"]),
    ("?active=false", ["spare-1"]),
    ("?active=true&tech=uwb", ["uwb-17"]),
    ("?q=e28011", ["E2801170000002"]),
]


def test_it_lists_tags_by_filter(api: APIClient, nurse: User, things: None) -> None:
    api.force_authenticate(nurse)
    for query, expected in TAG_QUERIES:
        response = api.get("/api/tags/" + query)
        assert response.status_code == 200
        assert [t["tag_id"] for t in response.json()["results"]] == expected, query


OBJECT_QUERIES: list[tuple[str, list[str]]] = [
    ("", ["Nina Okafor", "Wheelchair WC-0002", "infusion pump IP-0001"]),
    ("?kind=staff", ["Nina Okafor"]),
    ("?category=wheelchair", ["Wheelchair WC-0002"]),
    ("?status=needs_cleaning", ["Wheelchair WC-0002"]),
    (f"?tag={MAC}", ["infusion pump IP-0001"]),
    ("?q=pump", ["infusion pump IP-0001"]),
]


def test_it_lists_tracked_objects_by_filter(api: APIClient, nurse: User, things: None) -> None:
    api.force_authenticate(nurse)
    for query, expected in OBJECT_QUERIES:
        response = api.get("/api/tracked-objects/" + query.replace(":", "%3A"))
        assert response.status_code == 200
        assert sorted(o["name"] for o in response.json()["results"]) == expected, query


BAD: list[tuple[str, str]] = [
    ("/api/tags/?tech=wifi", "tech"),
    ("/api/tags/?active=maybe", "active"),
    ("/api/tracked-objects/?kind=robot", "kind"),
    ("/api/tracked-objects/?status=lost", "status"),
    ("/api/tracked-objects/?category=toaster", "category"),
]


@pytest.mark.parametrize(("url", "field"), BAD)
def test_it_rejects_bad_filters(api: APIClient, nurse: User, url: str, field: str) -> None:
    api.force_authenticate(nurse)
    response = api.get(url)
    assert response.status_code == 400 and field in response.json()


def test_it_finds_a_tag_by_its_id_even_with_colons_and_shows_its_object(api: APIClient, nurse: User,
                                                                        things: None) -> None:
    api.force_authenticate(nurse)
    tag = api.get(f"/api/tags/{MAC}/").json()
    assert tag | {"id": 0, "object": 0} == {"id": 0, "tag_id": MAC, "tech": "ble", "model": "", "battery_pct": None,
                                            "active": True, "object": 0}
    obj = api.get(f"/api/tracked-objects/{tag['object']}/").json()
    assert (obj["tag"], obj["asset"]["asset_number"], obj["asset"]["make"]) == (MAC, "IP-0001", "B. Braun")
    staff = api.get("/api/tracked-objects/?kind=staff").json()["results"][0]
    assert staff["asset"] is None and staff["tag"] == "uwb-17"


def test_it_is_read_only_and_needs_a_role(api: APIClient, administrator: User, visitor: User, things: None) -> None:
    api.force_authenticate(administrator)
    assert api.post("/api/tags/", {"tag_id": "x", "tech": "ble"}).status_code == 405
    assert api.delete(f"/api/tags/{MAC}/").status_code == 405
    api.force_authenticate(visitor)
    assert api.get("/api/tags/").status_code == 403
    assert api.get("/api/tracked-objects/").status_code == 403
