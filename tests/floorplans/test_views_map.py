"""The live floor map's pages: who may open which floor, what the page boots with, and the map data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from shapely.geometry import Point, shape

from floorplans.drawing.mapping import PLAN_LEGEND_PX, PLAN_MARGIN_PX, PLAN_PX_PER_M, PLAN_TITLE_PX
from floorplans.models import Floor
from floorplans.plans import plan_render_for_floor
from tests.tracking.whereabouts import floor_above, floor_elsewhere, scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawn_floor(floor: Floor, settings: Any, tmp_path: Any) -> Floor:
    """The test floor with its plan drawn (and calibrated) into a temporary media folder."""
    settings.MEDIA_ROOT = tmp_path
    plan_render_for_floor(floor=floor)
    floor.refresh_from_db()
    return floor


def _as(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _config(page: str) -> dict[str, Any]:
    start = page.index('<script id="floormap-config" type="application/json">') + len(
        '<script id="floormap-config" type="application/json">')
    return json.loads(page[start:page.index("</script>", start)])  # type: ignore[no-any-return]


@pytest.mark.parametrize("url", ["/map/", "/floors/{pk}/map/", "/floors/{pk}/map.json"])
def test_it_sends_anonymous_visitors_to_log_in(client: Client, floor: Floor, url: str) -> None:
    response = client.get(url.format(pk=floor.pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/map/", "/floors/{pk}/map/", "/floors/{pk}/map.json"])
def test_it_refuses_a_user_without_a_role(client: Client, floor: Floor, visitor: User, url: str) -> None:
    assert _as(client, visitor).get(url.format(pk=floor.pk)).status_code == 403


def test_it_opens_the_first_floor_then_the_one_looked_at_last(client: Client, floor: Floor, nurse: User) -> None:
    upstairs = floor_above(floor)
    _as(client, nurse)
    assert client.get("/map/")["Location"] == f"/floors/{floor.pk}/map/"
    assert client.get(f"/floors/{upstairs.pk}/map.json").status_code == 200  # switching floors on the page
    assert client.get("/map/")["Location"] == f"/floors/{upstairs.pk}/map/"


def test_the_page_boots_with_the_floors_the_urls_and_leaflet_from_static(client: Client, drawn_floor: Floor,
                                                                         nurse: User) -> None:
    upstairs = floor_above(drawn_floor)
    page = _as(client, nurse).get(f"/floors/{drawn_floor.pk}/map/").content.decode()
    config = _config(page)
    assert config["floor"] == drawn_floor.pk
    assert [(f["id"], f["level"], f["name"]) for f in config["floors"]] == [
        (drawn_floor.pk, 3, "3 North - Test Ward"), (upstairs.pk, 4, "Level 4")]
    assert config["floors"][0]["data_url"] == f"/floors/{drawn_floor.pk}/map.json"
    assert config["urls"]["socket"] == "/ws/floors/{floor}/" and config["urls"]["search"] == "/api/search/"
    assert {"value": "infusion_pump", "label": "infusion pump"} in config["categories"]
    assert config["can_trail"] is True  # a nurse sees the last hour of a marker's trail
    assert 'src="/static/leaflet/leaflet.js"' in page and 'href="/static/leaflet/leaflet.css"' in page
    assert 'type="module" src="/static/floormap/main.js"' in page
    assert "//unpkg" not in page and "cdn" not in page.lower()  # nothing from outside


def test_it_lists_only_the_floors_of_the_users_scope(client: Client, floor: Floor, nurse: User) -> None:
    upstairs, elsewhere = floor_above(floor), floor_elsewhere()
    scope(nurse, "3 North", floors=(floor,))
    _as(client, nurse)
    assert [f["id"] for f in _config(client.get(f"/floors/{floor.pk}/map/").content.decode())["floors"]] == [floor.pk]
    for other in (upstairs, elsewhere):
        assert client.get(f"/floors/{other.pk}/map/").status_code == 403
        assert client.get(f"/floors/{other.pk}/map.json").status_code == 403
    assert client.get("/floors/999999/map/").status_code == 404


def test_it_explains_when_there_is_no_floor_to_watch(client: Client, floor: Floor) -> None:
    planner = User.objects.create_user("planner", password="pw")  # sees plans, not where things are
    planner.user_permissions.add(Permission.objects.get(codename="view_floor"))
    response = _as(client, planner).get("/map/")
    assert response.status_code == 403 and "no floor whose live positions you may watch" in response.content.decode()
    assert client.get(f"/floors/{floor.pk}/map/").status_code == 403


def test_the_map_data_puts_the_plan_image_where_its_calibration_says(client: Client, drawn_floor: Floor,
                                                                      nurse: User) -> None:
    data = _as(client, nurse).get(f"/floors/{drawn_floor.pk}/map.json").json()
    assert (data["width_m"], data["height_m"]) == (30.0, 20.0)
    assert data["plan"]["url"] == f"/floors/{drawn_floor.pk}/plan.png"
    # the drawing frames the floor with margins: left/right, a title band above, a legend band below
    (south, west), (north, east) = data["plan"]["bounds"]
    assert west == pytest.approx(-PLAN_MARGIN_PX / PLAN_PX_PER_M, abs=1e-3)
    assert east == pytest.approx(30 + PLAN_MARGIN_PX / PLAN_PX_PER_M, abs=1e-3)
    assert south == pytest.approx(-PLAN_LEGEND_PX / PLAN_PX_PER_M, abs=1e-3)
    assert north == pytest.approx(20 + PLAN_TITLE_PX / PLAN_PX_PER_M, abs=1e-3)


def test_the_map_data_has_zones_in_metres_labels_inside_them_and_doors(client: Client, drawn_floor: Floor,
                                                                        nurse: User) -> None:
    data = _as(client, nurse).get(f"/floors/{drawn_floor.pk}/map.json").json()
    zones = {zone["code"]: zone for zone in data["zones"]}
    assert zones["3N-101"]["rings"] == [[[0.0, 11.0], [5.0, 11.0], [5.0, 16.0], [0.0, 16.0], [0.0, 11.0]]]
    assert data["zones"][0]["kind"] == "ward"  # largest first, so rooms and beds lie on top
    for zone in data["zones"]:
        if zone["kind"] in {"ward", "bed", "corridor"}:
            assert zone["label"] is None, zone["code"]
        else:
            polygon = shape({"type": "Polygon", "coordinates": zone["rings"]})
            assert polygon.contains(Point(zone["label"])), zone["code"]
    exits = [door for door in data["doors"] if door["is_exit"]]
    assert exits == [{"code": "X-1", "name": "Stairs 1 exit", "is_exit": True, "line": [[26.0, 8.5], [26.0, 10.5]]}]


def test_the_map_data_shows_readers_only_to_roles_that_look_after_them(client: Client, floor: Floor, nurse: User,
                                                                      security_officer: User) -> None:
    assert _as(client, nurse).get(f"/floors/{floor.pk}/map.json").json()["readers"] == []
    readers = _as(Client(), security_officer).get(f"/floors/{floor.pk}/map.json").json()["readers"]
    assert sorted(r["code"] for r in readers) == ["BLE-101", "RFID-X1", "UWB-1"]
    assert {"code": "UWB-1", "name": "Anchor corridor west", "kind": "uwb_anchor", "x_m": 0.5, "y_m": 9.5} in readers


@pytest.mark.parametrize(("affine", "has_plan"), [
    ([0.05, 0.0, 0.0, 0.0, -0.05, 20.0], True),  # the small ward's own calibration: 20 px per metre
    ([0.05, 0.01, 0.0, 0.01, -0.05, 20.0], False),  # rotated: an image overlay cannot show it
    (None, False),  # not calibrated
])
def test_the_map_draws_the_plan_only_when_it_is_calibrated_and_upright(
        client: Client, drawn_floor: Floor, nurse: User, affine: list[float] | None, has_plan: bool) -> None:
    Floor.objects.filter(pk=drawn_floor.pk).update(plan_affine=affine)
    plan = _as(client, nurse).get(f"/floors/{drawn_floor.pk}/map.json").json()["plan"]
    assert (plan is not None) == has_plan
