"""The frame around a plan: title band, legend band, scale bar and north arrow."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PIL import ImageDraw

from floorplans.drawing.mapping import PLAN_MARGIN_PX, PLAN_TITLE_PX
from floorplans.drawing.render_base import (
    BACKGROUND,
    INK,
    KIND_STYLE,
    MUTED,
    WALL,
    WARD_PURPLE,
    Canvas,
    Rgb,
    font,
)
from floorplans.drawing.render_symbols import (
    antenna_symbol,
    ble_symbol,
    exit_symbol,
    llrp_symbol,
    padlock_symbol,
    uwb_symbol,
)

Symbol = Callable[[ImageDraw.ImageDraw, float, float], None]
LEGEND_COLUMN_PX = 200
LEGEND_ROW_PX = 22
LEGEND_ROWS = 5
SCALE_BAR_M = 10
SCALE_STEP_M = 2
RULE_GREY: Rgb = (200, 200, 200)


def draw_title(canvas: Canvas, header: dict[str, Any], summary: str) -> None:
    floor = header["floor"]
    width_px = canvas.image.width
    title = f"Level {floor['level']} — {floor['name']}"
    canvas.draw.text((PLAN_MARGIN_PX, 12), title, fill=INK, font=font(22, bold=True))
    where = (f"{header['site']['name']}  ·  {header['building']['name']}  ·  floor {floor['code']}  ·  "
             f"{floor['width_m']:g} m × {floor['height_m']:g} m")
    canvas.draw.text((PLAN_MARGIN_PX, 42), where, fill=MUTED, font=font(13))
    canvas.draw.text((width_px - PLAN_MARGIN_PX, 42), summary, fill=MUTED, font=font(13), anchor="ra")
    canvas.draw.line([(PLAN_MARGIN_PX, PLAN_TITLE_PX - 6), (width_px - PLAN_MARGIN_PX, PLAN_TITLE_PX - 6)],
                     fill=RULE_GREY, width=1)


def _swatch(fill: Rgb) -> Symbol:
    def draw(d: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
        d.rectangle([cx - 11, cy - 7, cx + 11, cy + 7], fill=fill, outline=WALL, width=2)
    return draw


def _bed(d: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    d.rectangle([cx - 5, cy - 9, cx + 5, cy + 9], fill=BACKGROUND, outline=INK, width=2)
    d.rounded_rectangle([cx - 3, cy - 7, cx + 3, cy - 3], radius=2, fill=(214, 222, 235), outline=MUTED)


def _ward(d: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    for x in (cx - 11, cx + 1):
        d.line([(x, cy), (x + 9, cy)], fill=WARD_PURPLE, width=2)


def _antenna(d: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    antenna_symbol(d, cx - 2, cy, 0.0)


def _minew(d: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    ble_symbol(d, cx, cy, minew=True)


def _espresense(d: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    ble_symbol(d, cx, cy, minew=False)


SYMBOL_ENTRIES: tuple[tuple[str, str, Symbol], ...] = (
    ("bed", "Bed / cot", _bed),
    ("exit", "Exit door (alarmed)", exit_symbol),
    ("lock", "Lockable door", padlock_symbol),
    ("ward", "Ward boundary", _ward),
    ("llrp_reader", "RFID reader (LLRP)", llrp_symbol),
    ("antenna", "RFID antenna", _antenna),
    ("ble_espresense", "BLE gateway (ESPresense)", _espresense),
    ("ble_minew", "BLE gateway (Minew)", _minew),
    ("uwb_anchor", "UWB anchor", uwb_symbol),
)


def legend_entries(zone_kinds: set[str], symbols: set[str]) -> list[tuple[str, Symbol]]:
    """Swatches of the zone kinds present (in KIND_STYLE order), then the symbols present."""
    entries = [(label, _swatch(fill)) for kind, (fill, label) in KIND_STYLE.items()
               if kind in zone_kinds and kind not in ("ward", "bed")]
    entries += [(label, symbol) for key, label, symbol in SYMBOL_ENTRIES if key in symbols]
    return entries


def draw_legend(canvas: Canvas, entries: list[tuple[str, Symbol]], *, top_px: float) -> None:
    canvas.draw.line([(PLAN_MARGIN_PX, top_px + 4), (canvas.image.width - PLAN_MARGIN_PX, top_px + 4)],
                     fill=RULE_GREY, width=1)
    for i, (label, symbol) in enumerate(entries):
        column, row = divmod(i, LEGEND_ROWS)
        x_px = PLAN_MARGIN_PX + column * LEGEND_COLUMN_PX
        y_px = top_px + 24 + row * LEGEND_ROW_PX
        symbol(canvas.draw, x_px + 12, y_px)
        canvas.draw.text((x_px + 32, y_px), label, fill=INK, font=font(12), anchor="lm")


def draw_scale_bar(canvas: Canvas, *, left_px: float, top_px: float) -> None:
    """SCALE_BAR_M metres in alternating SCALE_STEP_M blocks, labelled every block."""
    step_px = SCALE_STEP_M * canvas.px_per_m
    for i in range(SCALE_BAR_M // SCALE_STEP_M):
        x0 = left_px + i * step_px
        canvas.draw.rectangle([x0, top_px, x0 + step_px, top_px + 8], fill=INK if i % 2 == 0 else BACKGROUND,
                              outline=INK)
    for metres in range(0, SCALE_BAR_M + 1, SCALE_STEP_M):
        label = f"{metres} m" if metres == SCALE_BAR_M else str(metres)
        canvas.draw.text((left_px + metres * canvas.px_per_m, top_px + 12), label, fill=INK, font=font(11), anchor="ma")
    canvas.draw.text((left_px, top_px - 6), "Scale", fill=MUTED, font=font(11), anchor="ld")


def draw_north_arrow(canvas: Canvas, *, cx: float, cy: float, rotation_deg: float) -> None:
    """North from the geo-reference: +x has compass bearing rotation_deg + 90, so north is that far CCW of +x."""
    north = math.radians(rotation_deg + 90.0)
    dx, dy = math.cos(north), -math.sin(north)  # screen y runs down
    px, py = -dy, dx
    tip = (cx + 24 * dx, cy + 24 * dy)
    notch = (cx - 8 * dx, cy - 8 * dy)
    left = (cx - 16 * dx + 11 * px, cy - 16 * dy + 11 * py)
    right = (cx - 16 * dx - 11 * px, cy - 16 * dy - 11 * py)
    canvas.draw.polygon([tip, left, notch], fill=INK, outline=INK)
    canvas.draw.polygon([tip, notch, right], fill=BACKGROUND, outline=INK)
    canvas.draw.text((cx + 36 * dx, cy + 36 * dy), "N", fill=INK, font=font(15, bold=True), anchor="mm")
