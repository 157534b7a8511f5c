"""The access log: every answer that shows a protected infant's location writes one LocationAccess row per
infant shown (user, via, when, address); answers without an infant write nothing; the floor websocket logs
its first snapshot once per connection, not its frames."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from floorplans.models import Floor
from hospital_iot.asgi import application
from security import access
from security.models import Infant, LocationAccess
from security.services import infant_discharge_confirm, infant_discharge_request
from tests.security.test_api_helpers import BABY, OTHER, Nursery, nursery_setup
from tests.security.test_services_helpers import officer
from tests.tracking.whereabouts import place
from tracking.pipeline.frames import FRAME_EVENT, floor_group
from tracking.signals import locations_seen

Via = LocationAccess.Via


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    return nursery_setup(floor)


def _rows() -> list[tuple[str, str, str, str]]:
    return sorted(LocationAccess.objects.values_list("username", "tag_id", "via", "detail"))


@pytest.mark.django_db
def test_it_logs_the_located_infants_a_location_list_shows_and_nothing_else(
        api: APIClient, nurse: User, nursery: Nursery) -> None:
    place("PUMP-1", nursery.floor, 8.0, 9.5, category="infusion_pump")
    api.force_authenticate(nurse)
    assert api.get("/api/locations/", {"kind": "asset"}).status_code == 200
    assert _rows() == []  # no infant among them
    assert api.get("/api/locations/").status_code == 200
    assert _rows() == [("nurse", BABY, Via.API, "/api/locations/")]  # Baby Brown was never located
    row = LocationAccess.objects.get()
    assert row.user == nurse and row.infant == nursery.baby and row.remote_addr == "127.0.0.1"


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "params", "via"), [
    ("/api/search/", {"q": "baby"}, Via.API),
    (f"/api/tags/{BABY}/", {}, Via.API),
    (f"/api/tags/{BABY}/trail/", {}, Via.TRAIL),
])
def test_it_logs_search_tag_detail_and_trail_of_an_infant(
        api: APIClient, security_officer: User, nursery: Nursery, path: str, params: dict[str, Any], via: str) -> None:
    api.force_authenticate(security_officer)
    assert api.get(path, params).status_code == 200
    assert [(tag, v) for _, tag, v, _ in _rows()] == [(BABY, via)]


@pytest.mark.django_db
def test_it_logs_nothing_for_the_trail_of_equipment_or_a_discharged_infant(
        api: APIClient, charge_nurse: User, nursery: Nursery) -> None:
    place("PUMP-1", nursery.floor, 8.0, 9.5, category="infusion_pump")
    infant_discharge_request(infant_id=nursery.baby.pk, user=charge_nurse, reason="home")
    infant_discharge_confirm(infant_id=nursery.baby.pk, user=officer("second"))
    api.force_authenticate(charge_nurse)
    for path in ("/api/tags/PUMP-1/trail/", f"/api/tags/{BABY}/trail/", "/api/locations/"):
        assert api.get(path).status_code == 200
    assert _rows() == []


@pytest.mark.django_db
def test_each_infant_is_logged_once_per_view_and_a_failing_log_never_stops_the_answer(
        api: APIClient, nurse: User, nursery: Nursery, monkeypatch: pytest.MonkeyPatch) -> None:
    written = access.location_views_record(user=nurse, tag_ids=[BABY, BABY, OTHER, "nobody"], via=Via.API)
    assert written == 2 and sorted(LocationAccess.objects.values_list("tag_id", flat=True)) == [BABY, OTHER]
    with pytest.raises(ValueError, match="via 'fax'"):
        access.location_views_record(user=nurse, tag_ids=[BABY], via="fax")

    def broken(**_: Any) -> int:
        raise RuntimeError("database away")

    monkeypatch.setattr(access, "location_views_record", broken)
    api.force_authenticate(nurse)
    response = api.get("/api/locations/")
    assert response.status_code == 200 and [row["tag"] for row in response.json()["results"]] == [BABY]


@pytest.mark.django_db
def test_the_signal_needs_no_query_when_no_infant_is_among_the_tags(
        nurse: User, nursery: Nursery, django_assert_num_queries: Any) -> None:
    access.protected_by_tag()  # the armed-infant cache is warm, as in a running server
    with django_assert_num_queries(0):
        locations_seen(sender=None, user=nurse, tag_ids=["PUMP-1", "BADGE-7"], via=Via.API)
    with django_assert_num_queries(1):  # the one bulk insert
        locations_seen(sender=None, user=nurse, tag_ids=["PUMP-1", BABY], via=Via.API)


# ---- the floor websocket ------------------------------------------------------------------------------------


def _socket(user: User, floor_id: int) -> WebsocketCommunicator:
    client = Client()
    client.force_login(user)
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000"),
               (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    return WebsocketCommunicator(application, f"/ws/floors/{floor_id}/", headers=headers)


@pytest.mark.django_db(transaction=True)
def test_the_floor_websocket_logs_its_first_snapshot_once_not_its_frames_or_resyncs(
        security_officer: User, nursery: Nursery) -> None:
    floor_id = nursery.floor.pk
    frame = json.dumps({"type": "positions", "floor": floor_id, "seq": 1, "fields": ["tag", "x_m", "y_m"],
                        "fixes": [[BABY, 4.0, 14.0]]})

    def look() -> None:
        socket = _socket(security_officer, floor_id)  # the session is made here, outside the event loop
        async_to_sync(body)(socket)

    async def body(socket: WebsocketCommunicator) -> None:
        connected, _ = await socket.connect(timeout=3)
        assert connected
        snapshot = await socket.receive_json_from(timeout=3)
        assert [fix["tag"] for fix in snapshot["fixes"]] == [BABY]
        await get_channel_layer().group_send(floor_group(floor_id), {"type": FRAME_EVENT, "text": frame})
        assert (await socket.receive_json_from(timeout=3))["type"] == "positions"
        await socket.send_json_to({"type": "resync"})
        assert (await socket.receive_json_from(timeout=3))["type"] == "snapshot"
        await socket.disconnect()

    look()
    assert _rows() == [("security_officer", BABY, Via.FLOOR_MAP, f"ws/floors/{floor_id}/ snapshot on connect")]
    look()  # a new connection is a new look
    assert LocationAccess.objects.count() == 2
    assert Infant.objects.get(pk=nursery.baby.pk).location_views.count() == 2
