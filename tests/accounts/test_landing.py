"""After logging in, each role lands on the first page it may open."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts import roles
from accounts.services import user_create_with_role

pytestmark = pytest.mark.django_db


def _logged_in(username: str, role: str | None) -> Client:
    if role is None:
        User.objects.create_user(username=username, password=f"pw-{username}")
    else:
        user_create_with_role(username=username, role=role, password=f"pw-{username}")
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": f"pw-{username}"})
    assert response.status_code == 302 and response["Location"] == "/accounts/landing/"
    return client


@pytest.mark.parametrize(("role", "page"), [
    (roles.NURSE, "/"), (roles.BIOMED, "/"), (roles.SECURITY, "/"), (roles.ADMINISTRATOR, "/"),
    (roles.PHARMACIST, "/infusion/pharmacy/"),
])
def test_each_role_lands_on_a_page_it_may_open(role: str, page: str) -> None:
    client = _logged_in(f"u-{role}", role)
    landed = client.get("/accounts/landing/")
    assert landed.status_code == 302 and landed["Location"] == page
    assert client.get(page).status_code == 200


def test_an_account_without_a_role_is_told_why_it_sees_nothing() -> None:
    response = _logged_in("nobody", None).get("/accounts/landing/")
    assert response.status_code == 403


def test_landing_asks_anonymous_visitors_to_log_in() -> None:
    response = Client().get("/accounts/landing/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
