"""A nurse logs in with a real browser, opens the floors and moves between them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.chromium import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.SHOW_DEMO_LOGINS = True
    call_command("load_demo", stdout=io.StringIO())


def _log_in(browser: WebDriver, base_url: str, username: str, password: str) -> None:
    browser.get(f"{base_url}/")
    assert "/accounts/login/" in browser.current_url
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "/accounts/login/" not in b.current_url)


def test_a_nurse_finds_a_room_on_the_ward_plan(browser: WebDriver, live_server: Any, demo: None) -> None:
    _log_in(browser, live_server.url, "nurse", "demo-nurse")
    cards = WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".card h2"))
    assert [card.text for card in cards] == [
        "Ground floor - Entrance, Pharmacy, Biomedical Engineering", "2 East - Maternity", "4 West - Medical/Surgical"]
    browser.find_element(By.PARTIAL_LINK_TEXT, "4 West").click()
    plan = browser.find_element(By.CSS_SELECTOR, ".plan img")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", plan) > 1000
    room = browser.find_element(By.CSS_SELECTOR, 'polygon[data-code="4W-401"]')
    ActionChains(browser).move_to_element(room).perform()
    assert room.value_of_css_property("stroke-width") == "2px"  # highlighted under the pointer
    assert "Room 401" in (room.find_element(By.TAG_NAME, "title").get_attribute("textContent") or "")
    assert not browser.find_elements(By.CSS_SELECTOR, "circle.reader")  # installation hidden from nurses
    browser.find_element(By.LINK_TEXT, "Level 2").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.TAG_NAME, "h1").text == "2 East - Maternity")


def test_a_security_officer_sees_readers_and_is_kept_out_of_patients(browser: WebDriver, live_server: Any,
                                                                    demo: None) -> None:
    _log_in(browser, live_server.url, "security", "demo-security")
    browser.find_element(By.PARTIAL_LINK_TEXT, "2 East").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "circle.reader.uwb_anchor")) >= 4
    browser.get(f"{live_server.url}/admin/infusion/patient/")
    assert "/admin/login/" in browser.current_url  # not staff: the admin asks for another account
