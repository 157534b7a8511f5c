"""Utilization charts as PNG, drawn on the server with matplotlib (no pyplot, so no global state or GUI):
one horizontal stacked bar per group (category or unit), each state a colour, fractions of the group's time."""

from __future__ import annotations

import io
from typing import Final

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tracking.assets.utilization import STATES, UtilizationTable

# colour-blind-safe (Okabe-Ito), in STATES order; labels as a biomed engineer says them
COLOURS: Final = {"in_use": "#0072B2", "available": "#009E73", "needs_cleaning": "#E69F00",
                  "out_for_repair": "#CC79A7", "missing": "#D55E00", "retired": "#999999", "unknown": "#DDDDDD"}
LABELS: Final = {"in_use": "in use", "available": "available", "needs_cleaning": "needs cleaning",
                 "out_for_repair": "out for repair", "missing": "missing", "retired": "retired", "unknown": "unknown"}
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


def utilization_chart_png(table: UtilizationTable, *, title: str, dpi: int = 110) -> bytes:
    """A stacked bar per row of `table` (0-100 % of its time), with the asset count beside each label."""
    rows = max(len(table.labels), 1)
    figure = Figure(figsize=(8.0, 1.4 + 0.42 * rows), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    names = [f"{label} ({n})" for label, n in zip(table.labels, table.assets, strict=True)]
    y = list(range(len(names)))
    left = [0.0] * len(names)
    shown = [s for i, s in enumerate(STATES) if table.fractions.size and table.fractions[:, i].sum() > 0]
    for state in shown:
        i = STATES.index(state)
        values = [float(v) * 100 for v in table.fractions[:, i]]
        bars = axes.barh(y, values, left=left, color=COLOURS[state], label=LABELS[state], height=0.7,
                         edgecolor="white", linewidth=0.5)
        for bar, value in zip(bars, values, strict=True):
            if value >= 8:  # label the segments wide enough to hold a number
                axes.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, f"{value:.0f}%",
                          ha="center", va="center", fontsize=7, color="white" if state != "unknown" else "black")
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(y, names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("share of the period's time (%)", fontsize=8)
    axes.tick_params(axis="x", labelsize=8)
    axes.set_title(title, fontsize=10, loc="left")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if not names:
        axes.text(50, 0, "no assets in this selection", ha="center", va="center", fontsize=9, color="#666666")
        axes.set_yticks([])
        axes.set_ylim(-1, 1)
    if shown:
        figure.legend(loc="outside lower center", ncols=len(shown), fontsize=7, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
