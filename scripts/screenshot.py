"""Screenshots of the running demo for the README: `make screenshot` (needs the demo loaded).

Starts daphne on a spare port and, for the live floor map, the demo's moving parts (the emulated
readers and the RTLS pipeline, as `make run` does); logs in as the demo nurse in headless Chromium
(Playwright driving Debian's chromium), saves PNGs to docs/screenshots/, and stops everything again.
`--no-live` leaves the emulators and the pipeline out (the map then shows the positions already stored,
if any were seen in the last 10 minutes).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.chromium import chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PYTHON = str(ROOT / ".venv/bin/python")
LIVE_TIMEOUT_S = 60.0


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


def _start(*command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(command), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _log_in(page: Page, base: str, username: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click(".login button[type=submit]")
    page.wait_for_selector(".card")


def _pages(browser: Browser, base: str) -> None:
    page = browser.new_page(viewport={"width": 1500, "height": 1150})
    _log_in(page, base, "nurse", "demo-nurse")
    page.screenshot(path=OUT / "floors.png")
    page.locator(".card", has_text="4 West").get_by_role("link", name="Plan and zones").click()
    page.wait_for_selector(".plan svg")
    page.evaluate("document.querySelector('polygon[data-code=\"4W-405\"]').style.fill='rgba(11,110,153,.3)'")
    page.screenshot(path=OUT / "floor-4w.png")
    _log_in(page, base, "biomed", "demo-biomed")
    href = page.locator(".card", has_text="4 West").get_by_role("link", name="Plan and zones").get_attribute("href")
    page.goto(f"{base}/readers/?floor={(href or '').split('/')[2]}")
    page.screenshot(path=OUT / "readers.png")
    page.close()


def _floor_map(browser: Browser, base: str, *, live: bool) -> None:
    """The live map of 4 West at 1280 x 800, once markers are on it; an infusion pump picked by search."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    _log_in(page, base, "nurse", "demo-nurse")
    page.locator(".card", has_text="4 West").get_by_role("link", name="Live map").click()
    page.wait_for_selector('.fm-conn[data-state="live"]')
    if live:  # the pipeline places the emulated tags within seconds
        page.wait_for_function("document.querySelectorAll('.fm-marker').length >= 10", timeout=LIVE_TIMEOUT_S * 1000)
    if page.locator(".fm-marker").count():
        page.fill("#fm-q", "infusion pump")
        page.press("#fm-q", "Enter")
        page.wait_for_selector(".fm-results li")
        page.wait_for_timeout(1500)  # markers glide to their latest positions
    page.screenshot(path=OUT / "floor-map.png")
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-live", action="store_true", help="no emulators and pipeline: the stored positions only")
    live = not parser.parse_args().no_live
    OUT.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    processes = [_start(str(ROOT / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(port),
                        "hospital_iot.asgi:application")]
    if live:
        processes += [_start(PYTHON, "manage.py", "run_emulators"), _start(PYTHON, "manage.py", "run_rtls")]
    try:
        _wait_for(port)
        base = f"http://127.0.0.1:{port}"
        with chromium() as browser:
            _pages(browser, base)
            _floor_map(browser, base, live=live)
        print(f"wrote floors.png, floor-4w.png, readers.png and floor-map.png to {OUT}")
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
