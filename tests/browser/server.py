"""daphne (HTTP and websockets, the project's ASGI app) in a child process, on the tests' database; and
`in_a_thread`, for calling services from a test that drives the browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from django.db import connections

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Daphne:
    """`start()`, `stop()` and `url`; the same port across restarts, so browsers can reconnect."""

    def __init__(self, *, database: str, var_dir: Path, log: Path, settings: str = "tests.browser.server_settings"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, "POSTGRES_DB": database, "HOSPITAL_IOT_VAR_DIR": str(var_dir),
                    "DJANGO_SETTINGS_MODULE": settings}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> None:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                   "hospital_iot.asgi:application"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}; see {self.log}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not listen on {self.port} within {timeout_s} s; see {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


T = TypeVar("T")


def in_a_thread(work: Callable[[], T]) -> T:
    """Run `work` in another thread: Playwright's loop runs in this one, and the services' broadcasts after
    commit (async_to_sync to the channel layer) refuse a thread with a running loop."""
    def run() -> T:
        try:
            return work()
        finally:
            connections.close_all()  # its own connection: closed, so the test database can be dropped

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
