"""An asset's recent trail on its floor as a PNG: the zones' outlines, the path it took (older points
lighter), where it is now. Pure: arrays and outlines in, PNG bytes out (matplotlib, no pyplot)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

PATH_COLOUR: Final = "#0072B2"
NOW_COLOUR: Final = "#D55E00"
ZONE_EDGE: Final = "#9aa5b1"
HOME_FILL: Final = "#e3f1e8"


@dataclass(frozen=True, slots=True)
class Outline:
    label: str
    xy_m: npt.NDArray[np.float64]  # (k, 2) floor metres, the ring of a zone
    home: bool = False  # the asset's home zone: shaded


def trail_png(*, outlines: Sequence[Outline], xy_m: npt.NDArray[np.float64], width_m: float, height_m: float,
              title: str, dpi: int = 100) -> bytes:
    """The floor (width_m x height_m, y up) with the zones and the trail `xy_m` (n, 2), oldest first.

    n may be 0: the floor is drawn with a note that the trail is empty.
    """
    if xy_m.ndim != 2 or (len(xy_m) and xy_m.shape[1] != 2):
        raise ValueError(f"trail {xy_m.shape}: need (n, 2)")
    scale = 9.0 / max(width_m, height_m)
    figure = Figure(figsize=(max(width_m * scale, 3.0), max(height_m * scale, 2.0) + 0.5), dpi=dpi,
                    layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for outline in outlines:
        ring = outline.xy_m
        axes.fill(ring[:, 0], ring[:, 1], facecolor=HOME_FILL if outline.home else "none", edgecolor=ZONE_EDGE,
                  linewidth=0.6)
        if len(ring) and outline.label:
            centre = ring.mean(axis=0)
            axes.text(centre[0], centre[1], outline.label, ha="center", va="center", fontsize=6, color="#5b6877")
    if len(xy_m):
        # older -> newer: fading in, so the direction of travel reads at a glance
        segments = np.stack([xy_m[:-1], xy_m[1:]], axis=1)  # (n-1, 2, 2)
        colours = np.tile(to_rgba(PATH_COLOUR), (len(segments), 1))
        colours[:, 3] = np.linspace(0.25, 1.0, len(segments))
        axes.add_collection(LineCollection(list(segments), colors=colours, linewidths=1.6))
        axes.scatter(xy_m[:1, 0], xy_m[:1, 1], s=18, color=PATH_COLOUR, alpha=0.4, label="oldest point", zorder=3)
        axes.scatter(xy_m[-1:, 0], xy_m[-1:, 1], s=60, color=NOW_COLOUR, label="latest", zorder=4)
        axes.legend(loc="upper right", fontsize=7, frameon=True)
    else:
        axes.text(width_m / 2, height_m / 2, "no recorded positions in this period", ha="center", va="center",
                  fontsize=10, color=NOW_COLOUR)
    axes.set_xlim(0, width_m)
    axes.set_ylim(0, height_m)
    axes.set_aspect("equal")
    axes.set_xlabel("x (m)", fontsize=8)
    axes.set_ylabel("y (m)", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.set_title(title, fontsize=10)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
