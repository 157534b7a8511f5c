"""Audit and utilization reports: the CSV's rows, the PDF with the utilization charts embedded as images, and
the chart PNGs themselves."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.utils import timezone
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]

from tests.tracking.assets.audit_world import AuditWorld, audit_world_make, world_located
from tracking.assets.audits import audit_run_hands_free
from tracking.assets.charts import PNG_SIGNATURE, utilization_chart_png
from tracking.assets.reports import AUDIT_COLUMNS, audit_report_csv, audit_report_pdf, utilization_report_pdf
from tracking.assets.utilization import STATES, UtilizationTable
from tracking.assets.utilization_data import utilization_compute
from tracking.models import Audit


@pytest.fixture
def audit(db: None, floor_doc: dict[str, Any]) -> Audit:
    world: AuditWorld = audit_world_make(floor_doc)
    world_located(world, now=timezone.now())
    return audit_run_hands_free(department_id=world.ward.pk)


def _images_in(pdf: bytes) -> int:
    """Colour images in the PDF (each PNG's alpha channel comes as a second, grey "soft mask" image)."""
    return len(re.findall(rb"/ColorSpace\s*/DeviceRGB[^>]*/Subtype\s*/Image", pdf))


def test_the_audit_csv_lists_every_asset_worst_first(audit: Audit) -> None:
    rows = list(csv.DictReader(io.StringIO(audit_report_csv(audit))))
    assert tuple(rows[0]) == AUDIT_COLUMNS
    assert [(r["asset_number"], r["result"]) for r in rows] == [
        ("PUMP-4", "missing"), ("PUMP-3", "misplaced"), ("CHAIR-6", "unexpected"), ("MONITOR-5", "found"),
        ("PUMP-1", "found"), ("PUMP-2", "found")]
    pump3 = rows[1]
    assert (pump3["seen_zone"], pump3["seen_floor"], pump3["department"], pump3["home_zone"]) == (
        "Stairs 1", "3 North - Test Ward", "3 North", "Equipment store")
    assert (rows[0]["pm"], rows[3]["pm"], rows[4]["pm"]) == ("overdue", "due", "")


def test_the_audit_pdf_carries_the_utilization_charts(audit: Audit) -> None:
    pdf = audit_report_pdf(audit)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert _images_in(pdf) == 2  # by category and by unit
    assert len(pdf) > 20_000


def test_a_utilization_pdf_has_both_charts_and_the_table(audit: Audit) -> None:
    result = utilization_compute(start=audit.started_at - timedelta(days=7), end=audit.started_at)
    pdf = utilization_report_pdf(result)
    assert pdf.startswith(b"%PDF") and _images_in(pdf) == 2


@pytest.mark.parametrize("rows", [0, 1, 12])
def test_a_chart_is_a_png_that_grows_with_its_rows(rows: int) -> None:
    rng = np.random.default_rng(7)
    fractions = rng.dirichlet(np.ones(len(STATES)), size=rows)
    table = UtilizationTable([f"unit {i}" for i in range(rows)], [3] * rows, fractions * 3600, fractions)
    png = utilization_chart_png(table, title="Utilization by unit")
    assert png.startswith(PNG_SIGNATURE)
    width, height = ImageReader(io.BytesIO(png)).getSize()
    assert width == 880 and height == round(110 * (1.4 + 0.42 * max(rows, 1)))
