"""The OpenAPI schema builds without warnings and its docs are served from the installed package."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from accounts import roles
from accounts.services import user_create_with_role


def test_the_schema_builds_and_validates_without_warnings() -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    paths = schema["paths"]
    for path in ("/api/sites/", "/api/buildings/", "/api/floors/", "/api/zones/", "/api/doors/", "/api/readers/",
                 "/api/floors/{id}/geojson/", "/api/floors/import/", "/api/floors/{id}/zones-at/"):
        assert path in paths, path
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


@pytest.mark.django_db
def test_the_browsable_docs_load_without_a_cdn(client: Client) -> None:
    client.force_login(user_create_with_role(username="nurse", role=roles.NURSE, password="pw"))
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page and "cdn." not in page
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_the_health_endpoint_reports_postgis(client: Client) -> None:
    body = client.get("/health/").json()
    assert body["status"] == "ok" and body["postgis"].startswith("3.")


@pytest.mark.django_db
def test_the_docs_and_schema_need_a_login(client: Client) -> None:
    assert client.get("/api/schema/").status_code in {401, 403}
    assert client.get("/api/docs/").status_code in {401, 403}
