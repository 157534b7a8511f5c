"""Audits and their items in the admin: listed, filtered by status, department and date, searched by asset
number, name or tag; nobody adds or edits them by hand (the services write them); items are read only; a
running sweep may be cancelled from the list (through the service)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.tracking.assets.audit_world import AuditWorld, audit_world_make, world_located
from tracking.assets.audits import audit_finish, audit_run_hands_free, audit_start_handheld
from tracking.models import Audit, AuditItem

pytestmark = pytest.mark.django_db

AUDITS = "/admin/tracking/audit/"
ITEMS = "/admin/tracking/audititem/"


@pytest.fixture
def world(floor_doc: dict[str, Any]) -> AuditWorld:
    world = audit_world_make(floor_doc)
    world_located(world, now=timezone.now())
    return world


@pytest.fixture
def audits(world: AuditWorld) -> dict[str, Audit]:
    """A hands-free audit of the ward a week ago, one of the store now, and a sweep of the store still running."""
    return {"ward": audit_run_hands_free(department_id=world.ward.pk, now=timezone.now() - timedelta(days=7)),
            "store": audit_run_hands_free(zone_ids=[world.store.pk]),
            "sweep": audit_start_handheld(zone_ids=[world.store.pk])}


@pytest.fixture
def admin_client(client: Client, biomed: User) -> Client:
    client.force_login(biomed)  # a staff role that keeps the equipment records
    return client


def _listed(client: Client, url: str) -> set[int]:
    """The pks of the rows a changelist shows (each row links to its object's page)."""
    changelist, _, _ = url.partition("?")
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return {int(pk) for pk in re.findall(rf'href="{changelist}(\d+)/change/', response.content.decode())}


def _pks(audits: dict[str, Audit], *names: str) -> set[int]:
    return {audits[name].pk for name in names}


@pytest.mark.parametrize(("query", "expected"), [
    ("", ("ward", "store", "sweep")),
    ("?state__exact=running", ("sweep",)),
    ("?kind__exact=hands_free", ("ward", "store")),
    ("?department__id__exact={ward}", ("ward",)),
    ("?started_at__gte={since}", ("store", "sweep")),  # the admin's date filter: since a day ago
    ("?q=MONITOR-5", ("ward", "store")),  # the audits that listed it (the sweep has no items yet)
    ("?q={chair_epc}", ("ward", "store")),  # by tag: the wheelchair of elsewhere, found in the store
    ("?q=no-such-asset", ()),
])
def test_it_lists_filters_and_searches_audits(admin_client: Client, world: AuditWorld, audits: dict[str, Audit],
                                              query: str, expected: tuple[str, ...]) -> None:
    since = quote(str(timezone.now() - timedelta(days=1)))  # as DateFieldListFilter writes it: aware
    url = AUDITS + query.format(ward=world.ward.pk, since=since, chair_epc=world.epc("chair-6"))
    assert _listed(admin_client, url) == _pks(audits, *expected)


def test_audits_are_read_only_and_link_to_their_items(admin_client: Client, audits: dict[str, Audit]) -> None:
    store = audits["store"]
    assert admin_client.get(f"{AUDITS}add/").status_code == 403
    detail = admin_client.get(f"{AUDITS}{store.pk}/change/")
    items = AuditItem.objects.filter(audit=store).count()
    assert detail.status_code == 200
    assert f'href="{ITEMS}?audit__id__exact={store.pk}">{items} items</a>' in detail.content.decode()
    assert admin_client.post(f"{AUDITS}{store.pk}/change/", {"state": "cancelled"}).status_code == 403
    store.refresh_from_db()
    assert store.state == Audit.State.FINISHED


def test_items_are_listed_by_audit_filtered_and_searched_but_never_edited(
    admin_client: Client, world: AuditWorld, audits: dict[str, Audit],
) -> None:
    store = audits["store"]
    in_store = set(AuditItem.objects.filter(audit=store).values_list("pk", flat=True))
    assert _listed(admin_client, f"{ITEMS}?audit__id__exact={store.pk}") == in_store
    missing = set(AuditItem.objects.filter(result="missing").values_list("pk", flat=True))
    assert missing and _listed(admin_client, f"{ITEMS}?result__exact=missing") == missing
    owned = set(AuditItem.objects.filter(asset__department=world.ward).values_list("pk", flat=True))
    assert _listed(admin_client, f"{ITEMS}?asset__department__id__exact={world.ward.pk}") == owned
    monitor = set(AuditItem.objects.filter(asset__asset_number="MONITOR-5").values_list("pk", flat=True))
    assert len(monitor) == 2 and _listed(admin_client, f"{ITEMS}?q=monitor-5") == monitor

    item = AuditItem.objects.filter(audit=store).first()
    assert item is not None
    assert admin_client.get(f"{ITEMS}add/").status_code == 403
    assert admin_client.get(f"{ITEMS}{item.pk}/change/").status_code == 200
    assert admin_client.post(f"{ITEMS}{item.pk}/change/", {"result": "found"}).status_code == 403
    assert admin_client.post(f"{ITEMS}{item.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditItem.objects.filter(pk=item.pk, result=item.result).exists()


def test_a_running_sweep_is_cancelled_through_the_service(admin_client: Client, audits: dict[str, Audit]) -> None:
    response = admin_client.post(AUDITS, {"action": "audits_cancel",
                                          "_selected_action": [audits["sweep"].pk, audits["store"].pk]}, follow=True)
    assert "1 sweep cancelled; 1 not running sweeps left as they were." in response.content.decode()
    sweep = Audit.objects.get(pk=audits["sweep"].pk)
    assert (sweep.state, sweep.summary["cancelled_by"]) == (Audit.State.CANCELLED, "biomed")
    assert Audit.objects.get(pk=audits["store"].pk).state == Audit.State.FINISHED


def test_a_sweeps_items_say_not_reached_by_the_sweep(admin_client: Client, audits: dict[str, Audit]) -> None:
    sweep = audit_finish(audit_id=audits["sweep"].pk)  # nothing read: the RTLS placed two of them in the store
    page = admin_client.get(f"{ITEMS}?audit__id__exact={sweep.pk}&result__exact=not_seen").content.decode()
    assert page.count("<td class=\"field-result_text\">not reached by the sweep</td>") == 2
    hands_free = admin_client.get(f"{ITEMS}?audit__id__exact={audits['store'].pk}").content.decode()
    assert "not reached" not in hands_free
