"""The incident report of a Code Pink: one timeline merged from the incident's own lines (CodePinkEvent), its
alert's events, the door commands it sent (and their confirmations) and the infant's security alerts raised
meanwhile; a picture of the floor with the infant's trail during the incident; exported as CSV and PDF.

The picture is drawn with matplotlib from the floor's zones and doors (no plan image needed); the PDF is built
with reportlab's platypus from the same entries the HTML page shows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Polygon as PolygonPatch
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import cm  # type: ignore[import-untyped]
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]

from alerts.models import Alert, AlertEvent
from floorplans.models import Door, Floor, Zone
from security.models import CodePink, CodePinkEvent, DoorCommand
from tracking.models import Tag
from tracking.selectors.history import tag_trail

if TYPE_CHECKING:
    from tracking.access import AnyUser

TRAIL_BEFORE = timedelta(minutes=10)  # the trail starts this long before the incident (how it began)
TRAIL_MAX_POINTS = 5000
CSV_COLUMNS = ("at", "source", "action", "by", "note")


@dataclass(frozen=True)
class Entry:
    """One line of the merged timeline."""

    at: datetime
    source: str  # "code pink" | "alert" | "door" | "infant alert"
    action: str
    by: str = ""
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def incident_window(code_pink: CodePink, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """From a little before the start to the resolution (or now, while active)."""
    return code_pink.started_at - TRAIL_BEFORE, code_pink.resolved_at or now or timezone.now()


def _who(user: Any) -> str:
    return user.get_username() if user is not None else ""


def incident_timeline(code_pink: CodePink, *, now: datetime | None = None) -> list[Entry]:
    """Every line of the incident, oldest first (ties: infant alert, incident, alert, door).

    The incident's own lines already copy some alert steps ("alert_acknowledged") and door commands
    ("door_lock" with its command id): those are not listed twice; a controller's confirmation is added."""
    events = list(CodePinkEvent.objects.filter(code_pink=code_pink).select_related("user").order_by("at", "pk"))
    entries = [Entry(e.at, "code pink", e.action.replace("_", " "), _who(e.user), e.note, e.data) for e in events]
    mirrored = {(e.at, e.action) for e in events}
    commands_told = {str(e.data.get("command_id")) for e in events if e.data.get("command_id")}
    if code_pink.alert_id is not None:
        entries += [Entry(e.at, "alert", e.action.replace("_", " "), _who(e.user),
                          e.note or (f"to {e.audience}" if e.audience else ""))
                    for e in AlertEvent.objects.filter(alert_id=code_pink.alert_id).select_related("user")
                    .order_by("at", "pk") if (e.at, f"alert_{e.action}") not in mirrored]
    for command in DoorCommand.objects.filter(code_pink=code_pink).select_related("controller", "requested_by"):
        code = command.controller.code
        if str(command.command_id) not in commands_told:
            entries.append(Entry(command.sent_at, "door", f"{command.command} {code}", _who(command.requested_by),
                                 command.reason))
        if command.acked_at is not None:
            entries.append(Entry(command.acked_at, "door", f"{code} confirmed {command.command}"))
        if command.error:
            entries.append(Entry(command.sent_at, "door", f"{code} failed to {command.command}", note=command.error))
    if code_pink.infant_id is not None:
        start, end = incident_window(code_pink, now=now)
        alarms = Alert.objects.filter(subject_type=Alert.Subject.INFANT, subject_id=str(code_pink.infant_id),
                                      kind__startswith="security.", raised_at__gte=start, raised_at__lte=end)
        entries += [Entry(a.raised_at, "infant alert", f"{a.get_severity_display()} {a.kind}", note=a.title)
                    for a in alarms.order_by("raised_at", "pk") if a.pk != code_pink.alert_id]
    order = {"infant alert": 0, "code pink": 1, "alert": 2, "door": 3}
    return sorted(entries, key=lambda e: (e.at, order[e.source]))


def incident_trail(code_pink: CodePink, *, user: AnyUser, now: datetime | None = None) -> list[dict[str, Any]]:
    """The infant's recorded positions during the incident on floors the user may watch (trail points)."""
    infant = code_pink.infant
    tag_pk = infant.tracked_object.tag_id if infant is not None else None
    if tag_pk is None:
        return []
    start, end = incident_window(code_pink, now=now)
    tag = Tag.objects.get(pk=tag_pk)
    points: list[dict[str, Any]] = tag_trail(user=user, tag=tag, since=start, until=end + timedelta(seconds=1),
                                             limit=TRAIL_MAX_POINTS)["points"]
    return points


def report_floor(code_pink: CodePink, points: list[dict[str, Any]]) -> Floor | None:
    """The floor to draw: the incident's, else the one most of the trail lies on."""
    if code_pink.floor_id is not None:
        return code_pink.floor
    floors: list[int] = [p["floor"] for p in points]
    if not floors:
        return None
    return Floor.objects.filter(pk=max(set(floors), key=floors.count)).first()


# ---- the picture ---------------------------------------------------------------------------------------

_FILL: dict[str, str] = {Zone.Kind.NURSERY: "#fde7ef", Zone.Kind.CORRIDOR: "#f4f4f4", Zone.Kind.STAIRS: "#e6e6e6",
         Zone.Kind.ELEVATOR_LOBBY: "#e6e6e6", Zone.Kind.EXIT: "#e6e6e6"}


def trail_png(*, floor: Floor, points: list[dict[str, Any]], title: str = "", dpi: int = 110) -> bytes:
    """The floor's zones and doors (exits red) with the trail on it, as PNG bytes (points of other floors
    are left out)."""
    aspect = floor.height_m / floor.width_m if floor.width_m else 0.6
    # a figure of its own with the Agg canvas (no pyplot: no global state, safe in any thread)
    figure = MplFigure(figsize=(8.0, max(2.5, min(8.0, 8.0 * aspect))), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for zone in Zone.objects.filter(floor=floor).order_by("-kind"):
        outline = zone.kind == Zone.Kind.WARD
        axes.add_patch(PolygonPatch(list(zone.polygon.exterior_ring.coords), closed=True,
                                    facecolor="none" if outline else _FILL.get(zone.kind, "#ffffff"),
                                    edgecolor="#8899aa" if outline else "#b0bac4",
                                    linewidth=1.2 if outline else 0.6, linestyle="--" if outline else "-"))
    for door in Door.objects.filter(floor=floor):
        xs, ys = zip(*door.line.coords, strict=True)
        axes.plot(xs, ys, color="#c62828" if door.is_exit else "#5b6877", linewidth=3 if door.is_exit else 1.5)
    here = [(p["x_m"], p["y_m"]) for p in points if p["floor"] == floor.pk]
    if here:
        xs, ys = zip(*here, strict=True)
        axes.plot(xs, ys, color="#d81b60", linewidth=2, marker=".", markersize=3, label="infant's trail")
        axes.plot(xs[0], ys[0], "o", color="#ffffff", markeredgecolor="#d81b60", markersize=8, label="first")
        axes.plot(xs[-1], ys[-1], "o", color="#d81b60", markersize=9, label="last")
        axes.legend(loc="upper right", fontsize=7)
    axes.set_xlim(0, floor.width_m)
    axes.set_ylim(0, floor.height_m)
    axes.set_aspect("equal")
    axes.set_xlabel("x (m)", fontsize=8)
    axes.set_ylabel("y (m)", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.set_title(title or f"{floor.name}: {len(here)} positions", fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# ---- CSV and PDF ----------------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return timezone.localtime(at).isoformat(timespec="seconds")


def _human(at: datetime) -> str:
    return timezone.localtime(at).strftime("%d %b %Y %H:%M:%S %Z")


def incident_csv(entries: list[Entry]) -> str:
    """The timeline as CSV (local times, ISO 8601 with the offset)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow([_iso(entry.at), entry.source, entry.action, entry.by, entry.note])
    return out.getvalue()


def incident_facts(code_pink: CodePink) -> list[tuple[str, str]]:
    """The incident's header lines (label, value)."""
    infant = code_pink.infant
    place = code_pink.floor.name if code_pink.floor else f"all floors of {code_pink.building.name}"
    return [
        ("Incident", f"Code Pink {code_pink.pk}{' (DRILL)' if code_pink.drill else ''}"),
        ("Trigger", code_pink.get_trigger_display()),
        ("Scope", place),
        ("Infant", infant.tracked_object.name if infant else "none named"),
        ("Started", f"{_human(code_pink.started_at)} by {_who(code_pink.started_by) or 'the system'}"),
        ("State", code_pink.get_state_display()),
        ("Resolved", f"{_human(code_pink.resolved_at)} by {_who(code_pink.resolved_by)}" if code_pink.resolved_at
         else "not yet"),
        ("Resolution", code_pink.resolution or ""),
    ]


def incident_pdf(code_pink: CodePink, entries: list[Entry], *, picture: bytes | None, compress: bool = True) -> bytes:
    """The report as a PDF: the facts, the floor with the trail, the timeline table.

    compress=False writes the page streams uncompressed (tests read the text straight from the bytes)."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=f"Code Pink {code_pink.pk} incident report",
                                 author="hospital_iot", leftMargin=1.6 * cm, rightMargin=1.6 * cm,
                                 topMargin=1.4 * cm, bottomMargin=1.4 * cm, pageCompression=1 if compress else 0)
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    story: list[Any] = [Paragraph(f"Code Pink {code_pink.pk} — incident report"
                                  f"{' (DRILL)' if code_pink.drill else ''}", styles["Title"])]
    facts = Table([[label, Paragraph(_escape(value), small)] for label, value in incident_facts(code_pink)],
                  colWidths=[3 * cm, 14.5 * cm])
    facts.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8), ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [facts, Spacer(1, 0.4 * cm)]
    if picture is not None:
        story += [Image(io.BytesIO(picture), width=17 * cm, height=_height_cm(picture, 17) * cm), Spacer(1, 0.3 * cm)]
    story.append(Paragraph(f"Timeline ({len(entries)} entries)", styles["Heading2"]))
    rows = [["Time", "Source", "What", "By", "Note"]] + [
        [timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.source, Paragraph(_escape(e.action), small),
         e.by, Paragraph(_escape(e.note), small)] for e in entries]
    timeline = Table(rows, colWidths=[3.2 * cm, 2.0 * cm, 4.6 * cm, 2.4 * cm, 5.6 * cm], repeatRows=1)
    timeline.setStyle(TableStyle([
        ("FONTSIZE", (0, 0), (-1, -1), 8), ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e8ee")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#b0bac4")),
    ]))
    story.append(timeline)
    document.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _height_cm(png: bytes, width_cm: float) -> float:
    from PIL import Image as PilImage  # Pillow, which reportlab uses for images anyway

    with PilImage.open(io.BytesIO(png)) as image:
        return width_cm * image.height / image.width
