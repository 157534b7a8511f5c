"""The incident report: one timeline merged by time from the incident's lines, its alert's events and its door
commands (nothing twice), the floor picture with the infant's trail, the CSV and the PDF."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_acknowledge, alert_raise
from floorplans.models import Floor
from security import report
from security.codepink import code_pink_start
from security.models import CodePink, DoorCommand
from tests.security.test_api_helpers import BABY, Nursery, nursery_setup, walk

pytestmark = pytest.mark.django_db

CORRIDOR_WALK = [(5.0, 9.5), (10.0, 9.5), (15.0, 9.5), (20.0, 9.5), (24.0, 9.5)]  # towards the stairs exit


@pytest.fixture
def nursery(floor: Floor) -> Nursery:
    return nursery_setup(floor)


@pytest.fixture
def start() -> datetime:
    return timezone.now().replace(microsecond=0) - timedelta(minutes=10)


@pytest.fixture
def incident(nursery: Nursery, security_officer: User, start: datetime) -> CodePink:
    """Baby Jones walked down the corridor to the stairs; an exit alarm, then a Code Pink an officer called
    (the exit locked and the controller confirmed it), acknowledged with a note."""
    walk(BABY, nursery.floor, CORRIDOR_WALK, start=start - timedelta(minutes=2), every=timedelta(seconds=30))
    alert_raise(kind="security.exit_alarm", severity=Alert.Severity.CRITICAL,
                key=f"security.exit_alarm:{nursery.baby.pk}", title="Baby Jones at the stairs exit",
                subject_type=Alert.Subject.INFANT, subject_id=str(nursery.baby.pk), audience="security",
                at=start - timedelta(seconds=5))
    code_pink = code_pink_start(trigger=CodePink.Trigger.MANUAL, building_id=nursery.floor.building_id,
                                floor_id=nursery.floor.pk, infant_id=nursery.baby.pk, user=security_officer,
                                note="seen at the stairs", at=start)
    DoorCommand.objects.filter(code_pink=code_pink).update(acked_at=start + timedelta(seconds=1))
    assert code_pink.alert is not None
    alert_acknowledge(alert_id=code_pink.alert.pk, user=security_officer, note="on my way to the stairs",
                      at=start + timedelta(seconds=30))
    return CodePink.objects.get(pk=code_pink.pk)


def test_the_timeline_merges_incident_alert_and_doors_by_time_without_repeating_a_line(incident: CodePink) -> None:
    entries = report.incident_timeline(incident)
    lines = [(e.source, e.action) for e in entries]
    assert lines[0] == ("infant alert", "Critical security.exit_alarm")  # 5 s before the start
    assert ("code pink", "started") in lines and ("door", "maglock-3N confirmed lock") in lines
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    acknowledged = [e for e in entries if "acknowledged" in e.action]
    assert len(acknowledged) == 1 and acknowledged[0].note == "on my way to the stairs"  # mirrored once, not twice
    locks = [line for line in lines if "lock" in line[1] and "confirmed" not in line[1]]
    assert locks == [("code pink", "door lock")]  # the incident's own line names the command: not repeated


def test_the_trail_covers_the_incident_and_the_picture_is_a_png(incident: CodePink, security_officer: User) -> None:
    points = report.incident_trail(incident, user=security_officer)
    assert [(p["x_m"], p["y_m"]) for p in points] == CORRIDOR_WALK
    floor = report.report_floor(incident, points)
    assert floor is not None and floor == incident.floor
    png = report.trail_png(floor=floor, points=points)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_the_csv_has_one_row_per_timeline_entry(incident: CodePink) -> None:
    entries = report.incident_timeline(incident)
    rows = list(csv.reader(io.StringIO(report.incident_csv(entries))))
    assert tuple(rows[0]) == report.CSV_COLUMNS and len(rows) == len(entries) + 1
    started = next(row for row in rows if row[2] == "started")
    assert started[1:4] == ["code pink", "started", "security_officer"] and started[4] == "seen at the stairs"


def test_the_pdf_is_a_pdf_with_the_facts_the_picture_and_the_timeline(incident: CodePink,
                                                                     security_officer: User) -> None:
    entries = report.incident_timeline(incident)
    assert incident.floor is not None
    picture = report.trail_png(floor=incident.floor, points=report.incident_trail(incident, user=security_officer))
    pdf = report.incident_pdf(incident, entries, picture=picture, compress=False)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = b" ".join(re.findall(rb"\((.*?)\) Tj", pdf)).decode("latin-1")
    for words in (f"Code Pink {incident.pk}", "Baby Jones", "maglock-3N confirmed lock", "on my way to the stairs",
                  f"Timeline \\({len(entries)} entries\\)"):
        assert words in text, words
    assert b"/Subtype /Image" in pdf
    compressed = report.incident_pdf(incident, entries, picture=None)
    assert compressed.startswith(b"%PDF-") and b"maglock-3N" not in compressed  # its streams are deflated


def test_an_incident_without_infant_or_floor_has_no_trail(nursery: Nursery, security_officer: User,
                                                          start: datetime) -> None:
    whole = code_pink_start(trigger=CodePink.Trigger.MANUAL, building_id=nursery.floor.building_id,
                            user=security_officer, drill=True, at=start)
    assert report.incident_trail(whole, user=security_officer) == []
    assert report.report_floor(whole, []) is None
    facts = dict(report.incident_facts(whole))
    assert facts["Incident"].endswith("(DRILL)") and facts["Scope"].startswith("all floors of")
