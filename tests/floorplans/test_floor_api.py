"""The floor REST API: GeoJSON out, spatial queries, and validated writes (table-driven)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts import roles
from accounts.services import user_create_with_role
from floorplans.models import Floor, Zone
from floorplans.services import floor_file_check, floor_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(api: APIClient) -> APIClient:
    api.force_authenticate(user_create_with_role(username="admin", role=roles.ADMINISTRATOR, password="pw"))
    return api


def test_it_serves_a_floor_as_geojson(admin_api: APIClient, floor: Floor, floor_doc: dict[str, Any]) -> None:
    body = admin_api.get(f"/api/floors/{floor.pk}/geojson/").json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in body["features"]] == [
        f["properties"]["code"] for f in floor_doc["features"]
    ]


def test_it_answers_which_zones_hold_a_point_and_what_is_near(admin_api: APIClient, floor: Floor) -> None:
    at = admin_api.get(f"/api/floors/{floor.pk}/zones-at/", {"x_m": 1.5, "y_m": 13.0}).json()
    assert [z["code"] for z in at] == ["3N-101-A", "3N-101", "3N"]
    near = admin_api.get(f"/api/floors/{floor.pk}/zones-at/", {"x_m": "28", "y_m": "7", "distance_m": "1.5"}).json()
    assert [(z["code"], z["distance_m"]) for z in near] == [("ST-1", 1.0)]
    nearest = admin_api.get(f"/api/floors/{floor.pk}/zones-nearest/", {"x_m": "28", "y_m": "4", "kind": "storage"})
    assert nearest.json()["code"] == "3N-ST"
    missing = admin_api.get(f"/api/floors/{floor.pk}/zones-nearest/", {"x_m": "1", "y_m": "1", "kind": "nursery"})
    assert missing.status_code == 404
    bad = admin_api.get(f"/api/floors/{floor.pk}/zones-at/", {"x_m": "east"})
    assert bad.status_code == 400 and set(bad.json()) == {"x_m", "y_m"}


def _ring(*corners: tuple[float, float]) -> list[list[list[float]]]:
    return [[list(c) for c in (*corners, corners[0])]]


ZONE_WRITES: list[tuple[dict[str, Any], int, str]] = [
    ({"polygon": {"type": "Polygon", "coordinates": _ring((12, 1), (14, 1), (14, 2), (12, 2))}}, 201, ""),
    (
        {"polygon": {"type": "Polygon", "coordinates": _ring((28, 1), (34, 1), (34, 2), (28, 2))}},
        400,
        "outside the floor extent",
    ),
    (
        {"polygon": {"type": "Polygon", "coordinates": _ring((12, 1), (14, 2), (14, 1), (12, 2))}},
        400,
        "Self-intersection",
    ),
    ({"polygon": {"type": "LineString", "coordinates": [[1, 1], [2, 2]]}}, 400, "expected a GeoJSON Polygon"),
    ({"kind": "helipad"}, 400, "not a valid choice"),
    ({"code": "3N-101"}, 400, "must make a unique set"),
]


@pytest.mark.parametrize(("change", "status", "message"), ZONE_WRITES)
def test_it_validates_zone_writes(
    admin_api: APIClient, floor: Floor, change: dict[str, Any], status: int, message: str
) -> None:
    body = {
        "floor": floor.pk,
        "code": "3N-NEW",
        "name": "New store",
        "kind": "storage",
        "polygon": {"type": "Polygon", "coordinates": _ring((12, 1), (14, 1), (14, 2), (12, 2))},
        **change,
    }
    response = admin_api.post("/api/zones/", body, format="json")
    assert response.status_code == status, response.content
    assert message in response.content.decode()


def test_it_refuses_a_parent_zone_from_another_floor(
    admin_api: APIClient, floor: Floor, floor_doc: dict[str, Any]
) -> None:
    floor_doc["hospital_iot"]["floor"].update(code="L5", level=5)
    for f in floor_doc["features"]:
        if f["properties"]["feature"] == "reader":
            f["properties"]["code"] += "-L5"
    other = floor_import(
        floor_file=floor_file_check(floor_doc)
    ).floor
    body = {
        "floor": floor.pk,
        "code": "3N-NEW",
        "name": "x",
        "kind": "storage",
        "parent": Zone.objects.get(floor=other, code="3N").pk,
        "polygon": {"type": "Polygon", "coordinates": _ring((12, 1), (14, 1), (14, 2), (12, 2))},
    }
    response = admin_api.post("/api/zones/", body, format="json")
    assert response.status_code == 400 and "same floor" in response.content.decode()


def test_it_creates_a_reader_with_its_antennas(admin_api: APIClient, floor: Floor) -> None:
    door = floor.doors.get(code="X-1")
    body: dict[str, Any] = {
        "code": "RFID-X2",
        "name": "Second exit reader",
        "kind": "llrp_reader",
        "protocol": "rfid_llrp",
        "address": "127.0.0.1:15099",
        "floor": floor.pk,
        "position": {"type": "Point", "coordinates": [25, 9]},
        "antennas": [
            {"port": 1, "position": {"type": "Point", "coordinates": [25, 9.2]}, "door": door.pk, "side": "inside"},
            {"port": 2, "position": {"type": "Point", "coordinates": [27, 9.2]}, "door": door.pk, "side": "outside"},
        ],
    }
    created = admin_api.post("/api/readers/", body, format="json")
    assert created.status_code == 201, created.content
    assert [a["side"] for a in created.json()["antennas"]] == ["inside", "outside"]
    body["code"] = "RFID-X3"
    body["antennas"][1]["port"] = 1
    repeated = admin_api.post("/api/readers/", body, format="json")
    assert repeated.status_code == 400 and "antenna ports repeat" in repeated.content.decode()


def test_it_filters_readers_by_floor_and_kind(admin_api: APIClient, floor: Floor) -> None:
    listed = admin_api.get("/api/readers/", {"floor": str(floor.pk), "kind": "ble_gateway"}).json()
    assert [r["code"] for r in listed["results"]] == ["BLE-101"]


def test_it_calibrates_a_floor_from_control_points(admin_api: APIClient, floor: Floor) -> None:
    points = [{"px": 0, "py": 800, "x_m": 0, "y_m": 0}, {"px": 1200, "py": 0, "x_m": 30, "y_m": 20},
              {"px": 1200, "py": 800, "x_m": 30, "y_m": 0}]
    response = admin_api.post(f"/api/floors/{floor.pk}/calibrate/", {"control_points": points}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["plan_residual_m"] == pytest.approx(0.0, abs=1e-9)
    assert response.json()["plan_affine"] == pytest.approx([0.025, 0.0, 0.0, 0.0, -0.025, 20.0], abs=1e-9)
    collinear = [{"px": i, "py": i, "x_m": i, "y_m": i} for i in range(3)]
    refused = admin_api.post(f"/api/floors/{floor.pk}/calibrate/", {"control_points": collinear}, format="json")
    assert refused.status_code == 400 and "collinear" in refused.content.decode()
    too_few = admin_api.post(f"/api/floors/{floor.pk}/calibrate/", {"control_points": points[:1]}, format="json")
    assert too_few.status_code == 400


def test_it_takes_a_plan_image_upload(admin_api: APIClient, floor: Floor, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "white").save(buffer, format="PNG")
    upload = SimpleUploadedFile("plan.png", buffer.getvalue(), content_type="image/png")
    response = admin_api.put(f"/api/floors/{floor.pk}/plan/", {"plan_image": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["plan_url"] == f"/floors/{floor.pk}/plan.png"
    junk = SimpleUploadedFile("plan.png", b"not an image", content_type="image/png")
    refused = admin_api.put(f"/api/floors/{floor.pk}/plan/", {"plan_image": junk}, format="multipart")
    assert refused.status_code == 400


def test_the_admin_recalibrates_a_floor_when_its_control_points_change(client: Any, floor: Floor) -> None:
    client.force_login(user_create_with_role(username="admin", role=roles.ADMINISTRATOR, password="pw"))
    url = f"/admin/floorplans/floor/{floor.pk}/change/"
    form = {"building": floor.building_id, "code": "L3", "level": 3, "name": "3 North", "width_m": 30,
            "height_m": 20, "geo_rotation_deg": 0, "plan_image": "",
            "control_points": '[{"px": 0, "py": 200, "x_m": 0, "y_m": 0}, {"px": 300, "py": 0, "x_m": 30, "y_m": 20}]'}
    assert client.post(url, form).status_code == 302
    floor.refresh_from_db()
    assert floor.plan_affine == pytest.approx([0.1, 0.0, 0.0, 0.0, -0.1, 20.0], abs=1e-9)
    form["control_points"] = '[{"px": 0, "py": 0}]'
    page = client.post(url, form)
    assert page.status_code == 200 and "need [" in page.content.decode()
