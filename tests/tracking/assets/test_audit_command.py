"""manage.py audit_assets: a hands-free audit from the shell with a progress bar and CSV/PDF reports, a sweep from
a reads file, and clear errors for what it cannot find."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.tracking.assets.audit_world import AuditWorld, audit_world_make, world_located
from tracking.models import Audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(floor_doc: dict[str, Any]) -> AuditWorld:
    world = audit_world_make(floor_doc)
    world_located(world, now=timezone.now())
    return world


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit_assets", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_audits_a_department_with_a_progress_bar_and_writes_both_reports(
    world: AuditWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out, _ = _run("--department", "3N", "--csv", str(tmp_path / "audit.csv"), "--pdf", str(tmp_path / "audit.pdf"))
    err = capsys.readouterr().err  # tqdm draws on the terminal's stderr
    assert "5 expected: 3 found, 1 misplaced, 0 not seen here lately, 1 missing; 1 of elsewhere found here; " \
           "PM due 2, overdue 1" in out
    assert "auditing" in err and "6/6" in err  # tqdm's bar: every asset looked at
    assert (tmp_path / "audit.csv").read_text().startswith("result,asset_number,")
    assert (tmp_path / "audit.pdf").read_bytes().startswith(b"%PDF")


def test_it_sweeps_from_a_reads_file(world: AuditWorld, tmp_path: Path) -> None:
    reads = tmp_path / "sweep.csv"
    reads.write_text(f"epc,seen_at\n{world.epc('pump-1')},{timezone.now().isoformat()}\nxyz,{timezone.now()}\n")
    out, err = _run("--zone", "L3:3N-ST", "--reads", str(reads), "--no-progress")
    assert "1 reads, 1 dropped, 0 unknown tags" in out and "row 3: tag 'xyz' is not hex" in err
    audit = Audit.objects.get()
    assert (audit.kind, audit.state, audit.summary["counts"]["found"]) == ("handheld", "finished", 1)


@pytest.mark.parametrize(("args", "message"), [
    (["--department", "4W"], "no ward '4W'"),
    (["--department", "3N-ST"], "no ward '3N-ST'"),  # a zone, but not a ward
    (["--zone", "nowhere"], "no zone 'nowhere'"),
    ([], "choose a department or at least one zone"),
    (["--department", "3N", "--handheld", "HH-1", "--reads", "x.csv"], "choose one"),
    (["--department", "3N", "--handheld", "RFID-AUD"], "installed reader"),
    (["--department", "3N", "--reads", "/nonexistent/sweep.csv"], "No such file"),
])
def test_it_says_what_it_cannot_do(world: AuditWorld, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)
