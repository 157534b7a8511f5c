"""The tracking API is in the OpenAPI schema, with its query parameters and paged lists."""

from __future__ import annotations

import io
from typing import Any

import yaml
from django.core.management import call_command


def _schema() -> dict[str, Any]:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return dict(yaml.safe_load(out.getvalue()))


def test_it_documents_every_tracking_endpoint_with_its_parameters() -> None:
    paths = _schema()["paths"]
    expected = {
        "/api/locations/": {"floor", "zone", "kind", "category", "q", "limit", "offset"},
        "/api/search/": {"q", "floor", "limit", "offset"},
        "/api/nearest/": {"category", "zone", "available", "limit"},
        "/api/occupancy/": {"floor"},
        "/api/tags/{tag_id}/trail/": {"tag_id", "since", "until", "limit"},
        "/api/tags/": {"tech", "active", "q", "limit", "offset"},
        "/api/tracked-objects/": {"kind", "category", "status", "tag", "q", "limit", "offset"},
    }
    for path, parameters in expected.items():
        assert {p["name"] for p in paths[path]["get"]["parameters"]} == parameters, path
    locations = paths["/api/locations/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert locations["$ref"].endswith("/PaginatedLocationList")
    assert "post" not in paths["/api/tags/"]
