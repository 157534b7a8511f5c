"""The floor pages people open: login, floors list, one floor with its plan, the plan image."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts import roles
from accounts.services import user_create_with_role
from floorplans.models import Floor
from floorplans.plans import plan_render_for_floor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("drawn_floor")]


@pytest.fixture
def drawn_floor(floor: Floor, settings: Any, tmp_path: Any) -> Floor:
    """The test floor with its plan drawn into a temporary media folder."""
    settings.MEDIA_ROOT = tmp_path
    plan_render_for_floor(floor=floor)
    return floor


def _login(client: Client, role: str) -> User:
    user = user_create_with_role(username=role, role=role, password="pw")
    client.force_login(user)
    return user


def test_pages_ask_anonymous_visitors_to_log_in(client: Client, floor: Floor) -> None:
    for url in ("/", f"/floors/{floor.pk}/", f"/floors/{floor.pk}/plan.png"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_a_user_without_a_role_is_refused(client: Client, floor: Floor) -> None:
    client.force_login(User.objects.create_user("visitor", password="pw"))
    assert client.get("/").status_code == 403
    assert client.get(f"/floors/{floor.pk}/plan.png").status_code == 403


def test_a_nurse_logs_in_with_a_password_and_sees_the_floors(client: Client, floor: Floor) -> None:
    user_create_with_role(username="nina", role=roles.NURSE, password="s3cret-Pass")
    response = client.post("/accounts/login/", {"username": "nina", "password": "s3cret-Pass"}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "3 North - Test Ward" in page and "3 beds" in page and "1 exits" in page
    assert "Nurse" in page  # the role badge


def test_a_wrong_password_is_refused_with_a_clear_message(client: Client, floor: Floor) -> None:
    user_create_with_role(username="nina", role=roles.NURSE, password="s3cret-Pass")
    response = client.post("/accounts/login/", {"username": "nina", "password": "guess"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_the_login_page_lists_demo_accounts_only_on_the_demo(client: Client, settings: Any) -> None:
    settings.SHOW_DEMO_LOGINS = False
    assert "demo-nurse" not in client.get("/accounts/login/").content.decode()
    settings.SHOW_DEMO_LOGINS = True
    assert "demo-nurse" in client.get("/accounts/login/").content.decode()


def test_the_floor_page_draws_clickable_zones_over_the_calibrated_plan(client: Client, floor: Floor) -> None:
    _login(client, roles.NURSE)
    page = client.get(f"/floors/{floor.pk}/").content.decode()
    assert f'src="/floors/{floor.pk}/plan.png"' in page
    assert 'data-code="3N-101-A"' in page and "Bed 101A" in page
    assert 'class="reader' not in page  # nurses do not see the reader installation
    plan = client.get(f"/floors/{floor.pk}/plan.png")
    assert plan.status_code == 200 and plan["Content-Type"] == "image/png"
    assert b"".join(plan.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"  # type: ignore[attr-defined]


def test_security_sees_the_readers_on_the_floor_page(client: Client, floor: Floor) -> None:
    _login(client, roles.SECURITY)
    page = client.get(f"/floors/{floor.pk}/").content.decode()
    assert page.count('class="reader ') == 3 and "RFID-X1" in page


def test_a_zone_on_the_page_sits_where_the_plan_draws_it(client: Client, floor: Floor) -> None:
    _login(client, roles.NURSE)
    page = client.get(f"/floors/{floor.pk}/").content.decode()
    affine = floor.affine
    assert affine is not None
    start = page.index('data-code="3N-ST" points="') + len('data-code="3N-ST" points="')
    first = page[start:page.index('"', start)].split()[0]
    px, py = (float(v) for v in first.split(","))
    x_m, y_m = affine.pixels_to_metres([[px, py]])[0]  # type: ignore[arg-type]
    assert (round(x_m, 1), round(y_m, 1)) == (0.0, 3.0)  # the store's first corner
