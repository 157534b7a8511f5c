"""The registry pages: the list and its filters, one asset (place, histories, status form, trail image),
the import (upload -> dry-run preview with row errors -> import), the CSV export, who may open what,
and the admin's status actions."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from floorplans.geometry import FLOOR_SRID
from floorplans.models import Floor, Zone
from tests.tracking.assets.registry_data import csv_text, pump
from tests.tracking.whereabouts import floor_elsewhere, scope, zone
from tracking.assets.registry import assets_import_csv
from tracking.assets.registry.columns import EXPORT_NAMES
from tracking.models import Asset, AssetStatusChange, AssetVerification, CurrentLocation, Method, Tag

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # staged uploads go here, not into var/


@pytest.fixture
def fleet(floor: Floor) -> dict[str, Asset]:
    """Three pumps and a monitor; PM overdue on one, due soon on another; two located."""
    today = timezone.localdate()
    assets_import_csv(data=csv_text([
        pump(1, pm_due_on=str(today - timedelta(days=3))),
        pump(2, pm_due_on=str(today + timedelta(days=10)), status="needs_cleaning"),
        pump(3, pm_due_on=str(today + timedelta(days=200)), department=""),
        pump(4, category="monitor", make="Philips", model="MX450", pm_due_on=""),
    ]), dry_run=False)
    locate("AC233F000001", floor, 2.0, 5.0, zone=zone(floor, "3N-ST"))
    locate("AC233F000002", floor, 1.5, 13.0, zone=zone(floor, "3N-101-A"))
    return {a.asset_number: a for a in Asset.objects.all()}


def locate(tag_id: str, floor: Floor, x_m: float, y_m: float, *, zone: Zone) -> None:
    """A located tag, seen a minute ago (as the pipeline writes it)."""
    seen_at = timezone.now() - timedelta(minutes=1)
    CurrentLocation.objects.update_or_create(tag=Tag.objects.get(tag_id=tag_id), defaults={
        "floor": floor, "zone": zone, "position": Point(x_m, y_m, srid=FLOOR_SRID), "accuracy_m": 1.2,
        "method": Method.MULTILATERATION, "seen_at": seen_at, "updated_at": seen_at})


def _as(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _numbers(html: str) -> list[str]:
    table = html[html.index('id="asset-table"'):]
    return [n for n in ("BME-00001", "BME-00002", "BME-00003", "BME-00004") if f">{n}</a>" in table]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["BME-00001", "BME-00002", "BME-00003", "BME-00004"]),
    ("?q=philips", ["BME-00004"]),
    ("?q=BD+00000002", ["BME-00002"]),
    ("?category=infusion_pump&status=needs_cleaning", ["BME-00002"]),
    ("?pm=overdue", ["BME-00001"]),
    ("?pm=due", ["BME-00002"]),
    ("?q=AC233F000003", ["BME-00003"]),
])
def test_it_lists_and_filters_the_registry(client: Client, biomed: User, fleet: dict[str, Asset], query: str,
                                           expected: list[str]) -> None:
    page = _as(client, biomed).get("/assets/" + query)
    assert page.status_code == 200
    assert _numbers(page.content.decode()) == expected


def test_it_filters_by_department_and_shows_where_and_pm_state(client: Client, nurse: User,
                                                               fleet: dict[str, Asset], floor: Floor) -> None:
    html = _as(client, nurse).get("/assets/", {"department": zone(floor, "3N").pk}).content.decode()
    assert _numbers(html) == ["BME-00001", "BME-00002", "BME-00004"]
    assert "Bed 101A, Room 101</span>" in html and "not located" in html
    assert "· overdue" in html and "· due soon" in html
    assert "Import CSV" not in html  # a nurse reads the registry, does not import


def test_it_shows_one_asset_with_its_place_histories_and_trail(client: Client, biomed: User,
                                                               fleet: dict[str, Asset], floor: Floor) -> None:
    asset = fleet["BME-00002"]
    AssetVerification.objects.create(asset=asset, at=timezone.now(), how="manual", zone=zone(floor, "3N-ST"),
                                     user=biomed)
    html = _as(client, biomed).get(f"/assets/{asset.pk}/").content.decode()
    assert "Bed 101A, Room 101" in html and "3 North - Test Ward" in html
    status_history = html[html.index('id="status-history"'):html.index('id="verifications"')]
    assert "needs cleaning" in status_history and "CSV import" in status_history
    assert "checked by a person" in html[html.index('id="verifications"'):]
    assert 'id="status-form"' in html and f"/assets/{asset.pk}/trail.png?hours=24" in html
    image = client.get(f"/assets/{asset.pk}/trail.png", {"hours": "8"})
    assert image.status_code == 200 and image["Content-Type"] == "image/png" and image.content.startswith(PNG)
    assert client.get(f"/assets/{asset.pk}/trail.png", {"hours": "5"}).status_code == 404


def test_it_tells_never_located_and_hidden_places_apart(client: Client, nurse: User, fleet: dict[str, Asset],
                                                        floor: Floor) -> None:
    _as(client, nurse)
    assert "Never located" in client.get(f"/assets/{fleet['BME-00003'].pk}/").content.decode()
    scope(nurse, "elsewhere", buildings=(floor_elsewhere().building,))
    html = client.get(f"/assets/{fleet['BME-00001'].pk}/").content.decode()
    where = html[html.index('id="asset-place"'):html.index("<h2>Record</h2>")]
    assert "Located on a floor you may not watch." in where and "Equipment store" not in where
    assert 'id="status-form"' not in html and 'id="verifications"' not in html  # no change, no audit rights


def test_it_sets_the_status_by_hand_through_the_status_service(client: Client, biomed: User,
                                                                fleet: dict[str, Asset]) -> None:
    asset = fleet["BME-00001"]
    response = _as(client, biomed).post(f"/assets/{asset.pk}/status/", {"status": "out_for_repair"}, follow=True)
    assert "BME-00001 is now out for repair." in response.content.decode()
    change = AssetStatusChange.objects.filter(asset=asset).get()
    assert (change.from_status, change.to_status, change.source, change.user) == ("available", "out_for_repair",
                                                                                  "manual", biomed)
    again = client.post(f"/assets/{asset.pk}/status/", {"status": "out_for_repair"}, follow=True)
    assert "is out for repair already" in again.content.decode()


def _upload(client: Client, text: str, name: str = "inventory.csv") -> Any:
    return client.post("/assets/import/", {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def test_it_previews_an_upload_then_imports_it(client: Client, biomed: User, floor: Floor) -> None:
    _as(client, biomed)
    assert client.get("/assets/import/").status_code == 200
    preview = _upload(client, csv_text([pump(1), pump(2, status="in_use")]))
    html = preview.content.decode()
    assert preview.status_code == 200 and "Ready to import" in html and 'id="import-confirm"' in html
    assert '<b id="count-created">2</b>' in html and not Asset.objects.exists()  # the preview writes nothing
    token = html.split('name="token" value="')[1].split('"')[0]
    done = client.post("/assets/import/", {"token": token}, follow=True)
    assert "Imported inventory.csv: 2 assets created, 0 updated, 0 unchanged, 1 status change." in \
        done.content.decode()
    assert Asset.objects.count() == 2 and AssetStatusChange.objects.get().user == biomed
    replay = client.post("/assets/import/", {"token": token}, follow=True)  # used up: nothing twice
    assert "That preview has expired" in replay.content.decode() and Asset.objects.count() == 2


def test_it_shows_the_row_errors_and_offers_no_import(client: Client, biomed: User, floor: Floor) -> None:
    response = _upload(_as(client, biomed), csv_text([pump(1), pump(2, category="toaster", home_zone="nowhere")]))
    html = response.content.decode()
    assert response.status_code == 400 and "Nothing was imported" in html and 'id="import-confirm"' not in html
    errors = html[html.index('id="import-errors"'):]
    assert "<td>category</td><td><code>toaster</code></td><td>not a category" in errors
    assert "<td>home_zone</td><td><code>nowhere</code></td><td>no zone has this code</td>" in errors
    unusable = _upload(client, "make,model\nBD,x\n", name="wrong.csv")
    assert unusable.status_code == 400 and "wrong.csv: no asset_number column" in unusable.content.decode()


def test_it_shows_what_changed_in_the_registry_since_the_preview(client: Client, biomed: User,
                                                                 floor: Floor) -> None:
    html = _upload(_as(client, biomed), csv_text([pump(1)])).content.decode()
    token = html.split('name="token" value="')[1].split('"')[0]
    assets_import_csv(data=csv_text([pump(9, tag_id="AC233F000001")]), dry_run=False)  # someone took the tag
    response = client.post("/assets/import/", {"token": token})
    assert response.status_code == 409 and "is carried by asset BME-00009" in response.content.decode()
    assert not Asset.objects.filter(asset_number="BME-00001").exists()


def test_it_offers_the_sample_file_which_imports_into_the_demo_zones(client: Client, biomed: User) -> None:
    sample = _as(client, biomed).get("/assets/import/sample.csv")
    text = b"".join(sample.streaming_content).decode()  # type: ignore[attr-defined]
    assert sample.status_code == 200 and text.startswith("asset_number,category,")
    assert len(text.splitlines()) == 13


def test_it_exports_the_filtered_registry_with_places_on_watched_floors(client: Client, nurse: User,
                                                                        fleet: dict[str, Asset]) -> None:
    response = _as(client, nurse).get("/assets/export.csv", {"category": "infusion_pump"})
    assert response["Content-Type"] == "text/csv; charset=utf-8" and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert list(rows[0]) == list(EXPORT_NAMES)
    assert [r["asset_number"] for r in rows] == ["BME-00001", "BME-00002", "BME-00003"]
    assert (rows[1]["zone"], rows[1]["zone_name"], rows[1]["x_m"], rows[1]["floor"]) == ("3N-101-A", "Bed 101A",
                                                                                      "1.50", "L3")
    assert rows[2]["zone"] == "" and rows[2]["last_seen_at"] == ""
    scope(nurse, "elsewhere", buildings=(floor_elsewhere().building,))
    hidden = b"".join(client.get("/assets/export.csv").streaming_content).decode()  # type: ignore[attr-defined]
    assert "Bed 101A" not in hidden and "BME-00002" in hidden


@pytest.mark.parametrize(("persona", "path", "expected"), [
    ("visitor", "/assets/", 403),
    ("visitor", "/assets/export.csv", 403),
    ("nurse", "/assets/import/", 403),
    ("nurse", "/assets/import/sample.csv", 403),
    ("security_officer", "/assets/", 200),
    ("security_officer", "/assets/import/", 403),
    ("biomed", "/assets/import/", 200),
    ("biomed", "/assets/nearest/", 200),
])
def test_it_lets_each_role_open_only_its_pages(client: Client, request: pytest.FixtureRequest, floor: Floor,
                                               persona: str, path: str, expected: int) -> None:
    _as(client, request.getfixturevalue(persona))
    assert client.get(path).status_code == expected


def test_it_sends_an_anonymous_visitor_to_log_in(client: Client) -> None:
    response = client.get("/assets/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_keeps_the_admin_status_read_only_and_sets_it_through_actions(client: Client, administrator: User,
                                                                         fleet: dict[str, Asset]) -> None:
    _as(client, administrator)
    assert client.get("/admin/tracking/asset/").status_code == 200
    page = client.get(f"/admin/tracking/asset/{fleet['BME-00001'].pk}/change/").content.decode()
    assert 'name="status"' not in page and "Asset status changes" in page
    ids = [fleet["BME-00001"].pk, fleet["BME-00002"].pk]
    client.post("/admin/tracking/asset/", {"action": "set_status_needs_cleaning", "_selected_action": ids})
    assert list(AssetStatusChange.objects.filter(source="manual").values_list("asset__asset_number", "user")) == [
        ("BME-00001", administrator.pk)]  # BME-00002 needed cleaning already
    export = client.post("/admin/tracking/asset/", {"action": "assets_export_csv", "_selected_action": ids})
    assert b"".join(export.streaming_content).decode().count("\r\n") == 3  # type: ignore[attr-defined]
    assert client.get("/admin/tracking/assetstatuschange/").status_code == 200
    assert client.get("/admin/tracking/assetstatuschange/add/").status_code == 403
    assert client.get("/admin/tracking/assetverification/").status_code == 200
