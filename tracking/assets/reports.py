"""Audit and utilization reports: CSV (one row per asset / per group) and PDF (reportlab platypus) with the
utilization charts as images.

The audit PDF: what was audited and when, the counts, the assets by result (missing and misplaced first,
with where they were last seen and their PM flags; in a handheld sweep, the expected assets it did not read
although the RTLS places them here are "not reached by the sweep", with the RTLS's last place and time),
then the utilization of the audited assets over the `UTILIZATION_DAYS` before the audit, by category and by
unit. The CSV says the same per row: `result_label` in words, `seen_by` whose sighting the place and time
are ("sweep": read by it; "rtls": the RTLS's last fix).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import cm  # type: ignore[import-untyped]
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from tracking.assets.audit_classify import RESULT_LABELS, SWEEP_RESULT_LABELS, result_label, seen_by
from tracking.assets.audit_selectors import audit_items, audit_place
from tracking.assets.charts import LABELS, utilization_chart_png
from tracking.assets.utilization import STATES, UtilizationTable
from tracking.assets.utilization_data import Utilization, utilization_compute
from tracking.models import Audit, AuditItem

UTILIZATION_DAYS: Final = 30
AUDIT_COLUMNS: Final = ("result", "asset_number", "category", "make", "model", "serial_number", "department",
                        "home_zone", "seen_zone", "seen_floor", "seen_at", "pm_due_on", "pm",
                        "result_label", "seen_by")  # added last: the earlier columns keep their places
PAGE_WIDTH: Final = A4[0] - 3 * cm


def result_titles(*, sweep: bool) -> dict[str, str]:
    """Section titles by result, worst first; a sweep's not_seen is "Not reached by the sweep"."""
    labels = SWEEP_RESULT_LABELS if sweep else RESULT_LABELS
    return {result.value: label[0].upper() + label[1:] for result, label in labels.items()}


def seen_headings(result: str, *, sweep: bool) -> tuple[str, str]:
    """The headings of an item's place and time: the sweep's read, the RTLS's last fix in a sweep, or plain."""
    if not sweep:
        return "last seen", "when"
    return ("read in", "read at") if seen_by(result, sweep=True) == "sweep" else ("RTLS last place", "RTLS last seen")


def is_sweep(audit: Audit) -> bool:
    return audit.kind == Audit.Kind.HANDHELD


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at is not None else ""


def pm_text(item: AuditItem) -> str:
    if item.pm_overdue:
        return "overdue"
    return "due" if item.pm_due else ""


def audit_report_rows(audit: Audit) -> list[dict[str, str]]:
    """One row per item, worst first. result_label says it in words (a sweep's not_seen: "not reached by the
    sweep"); seen_by says whose sighting seen_zone / seen_at are: "sweep" (read by it) or "rtls" (last fix)."""
    rows = []
    sweep = is_sweep(audit)
    for item in audit_items(audit.pk):
        asset = item.asset
        rows.append({
            "result": item.result, "result_label": result_label(item.result, sweep=sweep),
            "asset_number": asset.asset_number, "category": asset.get_category_display(),
            "make": asset.make, "model": asset.model, "serial_number": asset.serial_number,
            "department": asset.department.name if asset.department else "",
            "home_zone": asset.home_zone.name if asset.home_zone else "",
            "seen_zone": item.seen_zone.name if item.seen_zone else "",
            "seen_floor": item.seen_zone.floor.name if item.seen_zone else "",
            "seen_at": _when(item.seen_at), "seen_by": seen_by(item.result, sweep=sweep) if item.seen_at else "",
            "pm_due_on": asset.pm_due_on.isoformat() if asset.pm_due_on else "",
            "pm": pm_text(item),
        })
    return rows


def audit_report_csv(audit: Audit) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(audit_report_rows(audit))
    return out.getvalue()


def utilization_report_csv(utilization: Utilization) -> str:
    """One row per category and unit: assets, hours and share of each state."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["category · unit", "assets", *(f"{s}_h" for s in STATES), *(f"{s}_share" for s in STATES)])
    table = utilization.by_category_unit
    for label, n, seconds, fractions in zip(table.labels, table.assets, table.seconds, table.fractions, strict=True):
        writer.writerow([label, n, *(f"{s / 3600:.2f}" for s in seconds), *(f"{f:.4f}" for f in fractions)])
    return out.getvalue()


# ---- PDF -----------------------------------------------------------------------------------------------

_STYLES = getSampleStyleSheet()
_GRID = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica", 8), ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def _image(png: bytes, width: float = PAGE_WIDTH) -> Image:
    w, h = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _table(rows: Sequence[Sequence[Any]], widths: Sequence[float] | None = None) -> Table:
    table = Table([list(r) for r in rows], colWidths=widths, repeatRows=1)
    table.setStyle(_GRID)
    return table


def _charts(utilization: Utilization, *, what: str) -> list[Any]:
    period = f"{utilization.start:%Y-%m-%d} to {utilization.end:%Y-%m-%d}"
    parts: list[Any] = []
    for table, by in ((utilization.by_category, "category"), (utilization.by_unit, "unit")):
        png = utilization_chart_png(table, title=f"Utilization of {what} by {by}, {period}")
        parts += [_image(png), Spacer(1, 0.3 * cm)]
    return parts


def _pdf(story: list[Any], *, title: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm,
                                 topMargin=1.5 * cm, bottomMargin=1.5 * cm, title=title, author="hospital_iot")
    document.build(story)
    return buffer.getvalue()


def _counts_table(audit: Audit) -> Table:
    counts = (audit.summary or {}).get("counts") or {}
    names = ("found", "misplaced", "not_seen", "missing", "unexpected", "pm_due", "pm_overdue")
    not_seen = "not reached by the sweep" if is_sweep(audit) else "not seen here"
    header = ["expected", "found", "misplaced", not_seen, "missing", "unexpected", "PM due", "PM overdue"]
    return _table([header, [audit.summary.get("expected", 0), *(counts.get(n, 0) for n in names)]])


def _rules_text(audit: Audit) -> str:
    missing = f"missing = seen nowhere for {audit.missing_after_days} days."
    if not is_sweep(audit):
        return f"Found = seen in place within {audit.seen_within_h} h; {missing}"
    return ("Found = read by the sweep; not reached by the sweep = not read by it although the RTLS places it "
            f"here (its last place and time are listed); {missing}")


def _result_sections(audit: Audit) -> list[Any]:
    """The assets by result, worst first, each under its heading with whose sighting its place and time are."""
    rows = audit_report_rows(audit)
    sweep = is_sweep(audit)
    widths = [2.4 * cm, 3.0 * cm, 3.2 * cm, 3.8 * cm, 3.2 * cm, 2.4 * cm]
    story: list[Any] = []
    for result, heading in result_titles(sweep=sweep).items():
        chosen = [r for r in rows if r["result"] == result]
        if not chosen:
            continue
        story += [Paragraph(f"{heading}: {len(chosen)}", _STYLES["Heading3"]),
                  _table([["asset", "category", "make / model", *seen_headings(result, sweep=sweep), "PM"]]
                         + [[r["asset_number"], r["category"], f"{r['make']} {r['model']}".strip(),
                             ", ".join(p for p in (r["seen_zone"], r["seen_floor"]) if p), r["seen_at"],
                             f"{r['pm']} {r['pm_due_on']}".strip() if r["pm"] else r["pm_due_on"]] for r in chosen],
                         widths),
                  Spacer(1, 0.3 * cm)]
    return story


def audit_report_pdf(audit: Audit, *, utilization_days: int = UTILIZATION_DAYS) -> bytes:
    title = f"{audit.get_kind_display().capitalize()} audit of {audit_place(audit)}"
    by = audit.started_by.username if audit.started_by else "the system"
    story: list[Any] = [
        Paragraph(title, _STYLES["Title"]),
        Paragraph(f"Audit {audit.pk}, {audit.state}; started {_when(audit.started_at)} by {by}"
                  + (f", ended {_when(audit.ended_at)}" if audit.ended_at else "")
                  + (f"; reader {audit.reader}" if audit.reader else "") + ".", _STYLES["Normal"]),
        Paragraph(_rules_text(audit), _STYLES["Normal"]),
        Spacer(1, 0.4 * cm), _counts_table(audit), Spacer(1, 0.4 * cm), *_result_sections(audit),
    ]
    asset_ids = list(AuditItem.objects.filter(audit=audit).values_list("asset_id", flat=True))
    end = audit.started_at
    utilization = utilization_compute(start=end - timedelta(days=utilization_days), end=end, asset_ids=asset_ids)
    story += [Paragraph(f"Utilization of the audited assets, {utilization_days} days before the audit",
                        _STYLES["Heading2"]), *_charts(utilization, what="the audited assets")]
    return _pdf(story, title=title)


def _utilization_table(table: UtilizationTable) -> Table:
    header = ["", "assets", *(LABELS[s] for s in STATES)]
    rows = [[label, n, *(f"{f * 100:.0f}%" for f in fractions)]
            for label, n, fractions in zip(table.labels, table.assets, table.fractions, strict=True)]
    widths = [4.6 * cm, 1.2 * cm] + [1.6 * cm] * len(STATES)
    return _table([header, *rows], widths)


def utilization_report_pdf(utilization: Utilization, *, title: str = "Equipment utilization") -> bytes:
    story: list[Any] = [
        Paragraph(title, _STYLES["Title"]),
        Paragraph(f"{_when(utilization.start)} to {_when(utilization.end)}{' (now)' if utilization.up_to_now else ''}."
                  " Missing = seen nowhere for more than "
                  f"{utilization.missing_after_h:g} h while available, in use or needing cleaning.",
                  _STYLES["Normal"]),
        Spacer(1, 0.4 * cm), *_charts(utilization, what="equipment"),
        Paragraph("By category and unit", _STYLES["Heading2"]), _utilization_table(utilization.by_category_unit),
    ]
    return _pdf(story, title=title)
