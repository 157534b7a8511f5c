"""Screenshots of the running demo for the README: `make screenshot` (needs the demo loaded).

Starts daphne on a spare port, logs in as the demo nurse in headless Chromium, saves PNGs to
docs/screenshots/, and stops daphne again.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.chromium import chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"daphne did not start on port {port}")


def _log_in(browser: Any, base: str, username: str, password: str) -> None:
    browser.get(f"{base}/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".card"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(port), "hospital_iot.asgi:application"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    browser = chromium(width=1500, height=1150)
    try:
        _wait_for(port)
        base = f"http://127.0.0.1:{port}"
        _log_in(browser, base, "nurse", "demo-nurse")
        browser.save_screenshot(str(OUT / "floors.png"))
        browser.find_element(By.PARTIAL_LINK_TEXT, "4 West").click()
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".plan svg"))
        browser.execute_script("document.querySelector('polygon[data-code=\"4W-405\"]').style.fill='rgba(11,110,153,.3)'")
        browser.save_screenshot(str(OUT / "floor-4w.png"))
        browser.delete_all_cookies()
        _log_in(browser, base, "biomed", "demo-biomed")
        browser.get(f"{base}/readers/?floor=" + browser.execute_script(
            "return [...document.querySelectorAll('.card')].find(c => c.textContent.includes('4 West'))"
            ".getAttribute('href').split('/')[2]"))
        browser.save_screenshot(str(OUT / "readers.png"))
        print(f"wrote floors.png, floor-4w.png and readers.png to {OUT}")
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
