"""The PAR page: nurses see each level's available count against its target as a bar with the critical mark,
and which are below critical; biomedical engineering adds, edits and deletes levels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from floorplans.models import Floor, Zone
from tests.tracking.assets.test_rules_helpers import asset_make, locate
from tracking.assets import rules
from tracking.assets.services_rules import parlevel_save
from tracking.models import ParLevel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    rules.reset()
    yield
    rules.reset()


@pytest.fixture
def level(floor: Floor) -> ParLevel:
    store = Zone.objects.get(floor=floor, code="3N-ST")
    locate(asset_make("IP-1"), store)
    return parlevel_save(zone=store, category="infusion_pump", target_count=4, critical_count=2)


def test_nurses_see_the_levels_with_their_bars(client: Client, nurse: User, level: ParLevel) -> None:
    client.force_login(nurse)
    html = client.get("/assets/par/").content.decode()
    assert "1 of 1 level below critical" in html
    assert 'aria-valuenow="1"' in html and "width: 25%" in html and "left: 50%" in html
    assert "below critical" in html and "Add a PAR level" not in html and "delete" not in html
    assert client.get(f"/assets/par/{level.pk}/").status_code == 403


def test_biomed_adds_edits_and_deletes_a_level(client: Client, biomed: User, floor: Floor) -> None:
    client.force_login(biomed)
    store = Zone.objects.get(floor=floor, code="3N-ST")
    response = client.post("/assets/par/new/", {"zone": store.pk, "category": "wheelchair", "target_count": 2,
                                                "critical_count": 1})
    assert response.status_code == 302
    par = ParLevel.objects.get(category="wheelchair")
    assert par.ward is None  # the store's own ward is told
    refused = client.post(f"/assets/par/{par.pk}/", {"zone": store.pk, "category": "wheelchair", "target_count": 2,
                                                     "critical_count": 5})
    assert refused.status_code == 400 and "cannot be above the target" in refused.content.decode()
    client.post(f"/assets/par/{par.pk}/delete/")
    assert not ParLevel.objects.exists()


def test_security_may_not_open_the_par_page(client: Client, security_officer: User) -> None:
    client.force_login(security_officer)
    assert client.get("/assets/par/").status_code == 403
