"""A real headless Chromium (Debian's /usr/bin/chromium, no browser download), driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# no background traffic: this machine's network is closed
QUIET = ["--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", "--no-sandbox"]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium for the length of the block; open pages with browser.new_page(viewport=...)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET)
        try:
            yield browser
        finally:
            browser.close()
