"""Bar charts drawn on the server as SVG: programmed and spent État money per axis. No chart library to ship, and
every chart has its table beside it (the figures a screen reader reads; the SVG is hidden from it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from markupsafe import Markup, escape

from pacte.web.formats import AXES


class AxisFigure(Protocol):
    axis: str
    programmed: int
    spent: int


def bars(figures: Sequence[AxisFigure], width: int = 640, row: int = 44) -> Markup:
    top = max([1, *(f.programmed for f in figures), *(f.spent for f in figures)])
    label_w, chart_w = 170, width - 180
    parts = [
        f'<svg class="pacte-chart" role="img" aria-hidden="true" focusable="false" width="100%" '
        f'viewBox="0 0 {width} {row * len(figures) + 10}" preserveAspectRatio="xMinYMin meet">'
    ]
    for i, f in enumerate(figures):
        y = i * row + 4
        programmed = round(chart_w * f.programmed / top)
        spent = round(chart_w * f.spent / top)
        parts.append(f'<text x="0" y="{y + 22}">{escape(AXES.get(f.axis, f.axis))}</text>')
        parts.append(f'<rect class="programmed" x="{label_w}" y="{y}" width="{programmed}" height="16"></rect>')
        parts.append(f'<rect class="spent" x="{label_w}" y="{y + 18}" width="{spent}" height="16"></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))
