"""run_readers as an operator runs it: a process that Ctrl-C (or SIGTERM) stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from floorplans.models import Floor

pytestmark = pytest.mark.django_db(transaction=True)  # the child process must see the committed floor

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_it_stops_cleanly_on_ctrl_c_and_sigterm(floor: Floor, how: signal.Signals) -> None:
    env = {**os.environ, "POSTGRES_DB": connection.settings_dict["NAME"], "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "manage.py", "run_readers", "--sink", "log", "--health-every", "0.5"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        deadline = time.monotonic() + 30
        assert child.stdout is not None
        for line in child.stdout:  # wait until it supervises, then interrupt it
            if "run_readers:" in line or time.monotonic() > deadline:
                break
        time.sleep(1.5)
        child.send_signal(how)
        output, _ = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, output
    assert "run_readers stopped" in output and "Traceback" not in output
