"""Browser test fixtures: daphne on the test database, one headless Chromium, a fresh page per test.

daphne runs in a child process, so it sees only committed rows: tests that write run with
`django_db(transaction=True)` (pytest-django empties the tables after each), and data shared by a
module's read-only tests is committed once by a module fixture, which empties the tables itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from playwright.sync_api import Browser, Page, ViewportSize
from pytest_django import DjangoDbBlocker

from tests.browser import server_settings
from tests.browser.chromium import chromium
from tests.browser.server import Daphne

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def server(django_db_setup: None, django_db_blocker: DjangoDbBlocker, var_dir: Path) -> Iterator[Daphne]:
    """daphne serving the project on the test database (HTTP and websockets, like production)."""
    database = connection.settings_dict["NAME"]
    daphne = Daphne(database=database, var_dir=var_dir, log=var_dir / "daphne.log")
    daphne.start()
    try:
        yield daphne
    finally:
        daphne.stop()
        with django_db_blocker.unblock():
            _wait_for_sessions_to_end(database)


def _wait_for_sessions_to_end(database: str, timeout_s: float = 10.0) -> None:
    """PostgreSQL ends a stopped server's sessions a moment later; the test database is dropped after this."""
    deadline = time.monotonic() + timeout_s
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                           [database])
            if cursor.fetchone() == (0,):
                return
            time.sleep(0.05)


@pytest.fixture(autouse=True)
def _like_the_server(settings: Any, var_dir: Path) -> None:
    """Plan images drawn by a test land where the server reads them; sessions are signed with its key."""
    settings.MEDIA_ROOT = var_dir / "media"
    settings.SECRET_KEY = server_settings.SECRET_KEY


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module.

    Playwright's sync API runs an asyncio loop in this thread while it is open, and Django refuses
    database calls from a thread with a running loop; the tests' own database work is synchronous
    and harmless there, so the refusal is lifted for exactly as long as Playwright is open.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with chromium() as instance:
            yield instance


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at 1280 x 800; fails the test on an uncaught script error."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"script errors on the page: {errors}"


def logged_in(page: Page, base_url: str, user: User) -> None:
    """A session cookie for the user, made here (the login form has its own tests)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}])


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Through the login form, as a person does."""
    page.goto(f"{base_url}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click(".login button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
