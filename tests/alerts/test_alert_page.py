"""The /alerts/ page and the admin pages of alerts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from alerts.models import Alert
from tests.alerts.conftest import Raise


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_loads_its_module_and_the_csrf_token_for_a_nurse(nurse: User) -> None:
    response = _client(nurse).get("/alerts/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "alerts/alerts.js" in page and 'type="module"' in page
    assert 'data-can-change="1"' in page and "csrfmiddlewaretoken" in page
    assert "csrftoken" in response.cookies


def test_the_page_needs_a_login_and_the_permission(client: Client, visitor: User) -> None:
    assert client.get("/alerts/").status_code == 302
    assert _client(visitor).get("/alerts/").status_code == 403


@pytest.mark.parametrize("path", ["/static/alerts/alerts.js", "/static/alerts/alert_feed.js",
                                  "/static/alerts/alerts.css"])
def test_the_static_files_are_served(client: Client, path: str) -> None:
    assert client.get(path).status_code == 200


def test_an_administrator_reads_alerts_and_edits_policies_in_the_admin(administrator: User, raise_alert: Raise) -> None:
    alert = raise_alert()
    client = _client(administrator)
    assert client.get("/admin/alerts/alert/").status_code == 200
    assert client.get(f"/admin/alerts/alert/{alert.pk}/change/").status_code == 200  # a read-only view
    assert client.get("/admin/alerts/escalationpolicy/").status_code == 200
    assert client.get("/admin/alerts/webhook/add/").status_code == 200
    assert client.get("/admin/alerts/webhookdelivery/").status_code == 200
    assert Alert.objects.count() == 1
