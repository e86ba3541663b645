"""Charts drawn on the server as SVG: no script, no inline style, every text escaped.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and ``<desc>``; the page puts
the same numbers in a table next to it for anyone who cannot see the drawing. Markup is built
with ``Markup.format``, which escapes every argument, so names typed by users (channel names)
can only ever be text. Colours are SVG presentation attributes, which the console's CSP allows
where ``style`` attributes are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

# The per-day chart spans the page; the bar chart sits in a half-width column, and a narrower
# drawing keeps its text as large there.
LINE_WIDTH = 720
BAR_WIDTH = 500
LEFT, RIGHT, TOP = 48, 16, 16
PLOT_HEIGHT = 200
PLOT_BOTTOM = TOP + PLOT_HEIGHT
X_LABEL_GAP = 18
LEGEND_TOP = PLOT_BOTTOM + 40
LEGEND_COLUMNS = 3
LEGEND_ROW = 20
MAX_X_LABELS = 8
MAX_LEGEND_NAME = 28
GRID = "#d9dde5"
AXIS = "#5b6474"
# Okabe-Ito colours, told apart with most kinds of colour blindness; after a full round
# the lines are dashed, so two channels never look the same.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    color: str


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Round y-axis values from 0 to at least ``maximum``, steps of 1, 2 or 5 times 10^n."""
    if maximum <= 0:
        return [0, 1]
    step = 1
    while step * count < maximum:
        step = _next_step(step)
    top = -(-maximum // step) * step
    return list(range(0, top + 1, step))


def _next_step(step: int) -> int:
    """1, 2, 5, 10, 20, 50, 100, ..."""
    digits = str(step)
    leading, zeros = int(digits[0]), len(digits) - 1
    following = {1: 2, 2: 5, 5: 10}[leading]
    return following * 10**zeros


def line_style(index: int) -> tuple[str, str]:
    """The stroke colour and dash pattern of the ``index``-th series."""
    return PALETTE[index % len(PALETTE)], DASHES[index // len(PALETTE) % len(DASHES)]


def _clip(name: str, limit: int = MAX_LEGEND_NAME) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _svg_open(chart_id: str, width: int, height: int, title: str, description: str) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img"'
        ' aria-labelledby="{id}-title {id}-desc" id="{id}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
    ).format(w=width, h=height, id=chart_id, title=title, desc=description)


def _y_axis(width: int, ticks: Sequence[int], y_of: dict[int, float]) -> list[Markup]:
    parts = []
    for tick in ticks:
        y = y_of[tick]
        parts.append(
            Markup(
                '<line x1="{x1}" y1="{y:.1f}" x2="{x2}" y2="{y:.1f}" stroke="{c}"'
                ' stroke-width="1"/>'
                '<text x="{tx}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle">'
                "{label}</text>"
            ).format(x1=LEFT, x2=width - RIGHT, y=y, c=GRID, tx=LEFT - 6, label=tick)
        )
    parts.append(
        Markup(
            '<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="{c}" stroke-width="1"/>'
            '<line x1="{x}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{c}"'
            ' stroke-width="1"/>'
        ).format(x=LEFT, top=TOP, bottom=PLOT_BOTTOM, right=width - RIGHT, c=AXIS)
    )
    return parts


def _scale(ticks: Sequence[int]) -> tuple[float, dict[int, float]]:
    """Pixels per unit, and the y of each tick."""
    per_unit = PLOT_HEIGHT / ticks[-1]
    return per_unit, {tick: PLOT_BOTTOM - tick * per_unit for tick in ticks}


def _x_positions(count: int) -> list[float]:
    span = LINE_WIDTH - RIGHT - LEFT
    if count == 1:
        return [LEFT + span / 2]
    return [LEFT + span * n / (count - 1) for n in range(count)]


def _legend(series: Sequence[Series]) -> list[Markup]:
    parts = [Markup('<g class="legend">')]
    column_width = (LINE_WIDTH - LEFT - RIGHT) / LEGEND_COLUMNS
    for index, item in enumerate(series):
        row, column = divmod(index, LEGEND_COLUMNS)
        x = LEFT + column * column_width
        y = LEGEND_TOP + row * LEGEND_ROW
        color, dash = line_style(index)
        parts.append(
            Markup(
                '<line x1="{x:.1f}" y1="{y}" x2="{x2:.1f}" y2="{y}" stroke="{c}"'
                ' stroke-width="3"{dash}/>'
                '<text x="{tx:.1f}" y="{y}" dominant-baseline="middle">{name}</text>'
            ).format(
                x=x,
                x2=x + 20,
                y=y,
                c=color,
                dash=Markup(' stroke-dasharray="{}"').format(dash) if dash else "",
                tx=x + 26,
                name=_clip(item.name),
            )
        )
    parts.append(Markup("</g>"))
    return parts


def line_chart(chart_id: str, title: str, days: Sequence[date], series: Sequence[Series]) -> Markup:
    """One polyline per series over ``days``, with y ticks, date labels and a legend."""
    ticks = nice_ticks(max((max(s.values, default=0) for s in series), default=0))
    per_unit, y_of = _scale(ticks)
    xs = _x_positions(len(days))
    legend_rows = -(-len(series) // LEGEND_COLUMNS)
    height = LEGEND_TOP + max(legend_rows, 1) * LEGEND_ROW
    names = ", ".join(s.name for s in series) or "none"
    description = (
        f"{len(days)} days from {days[0].isoformat()} to {days[-1].isoformat()}; "
        f"one line per channel: {names}."
    )
    parts = [
        _svg_open(chart_id, LINE_WIDTH, height, title, description),
        *_y_axis(LINE_WIDTH, ticks, y_of),
    ]
    label_step = -(-len(days) // MAX_X_LABELS)
    for n in range(0, len(days), label_step):
        parts.append(
            Markup('<text x="{x:.1f}" y="{y}" text-anchor="middle">{label}</text>').format(
                x=xs[n], y=PLOT_BOTTOM + X_LABEL_GAP, label=days[n].strftime("%m-%d")
            )
        )
    for index, item in enumerate(series):
        color, dash = line_style(index)
        values = list(item.values)
        coordinates = list(zip(xs, values, strict=True))
        if len(coordinates) == 1:
            # A line needs two points: one day is drawn flat across the plot.
            coordinates = [(LEFT, values[0]), (LINE_WIDTH - RIGHT, values[0])]
        points = " ".join(f"{x:.1f},{PLOT_BOTTOM - v * per_unit:.1f}" for x, v in coordinates)
        parts.append(
            Markup(
                '<polyline points="{points}" fill="none" stroke="{c}" stroke-width="2"'
                ' stroke-linejoin="round"{dash}><title>{name}</title></polyline>'
            ).format(
                points=points,
                c=color,
                dash=Markup(' stroke-dasharray="{}"').format(dash) if dash else "",
                name=item.name,
            )
        )
    parts.extend(_legend(series))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """Vertical bars with their value above and their label below."""
    ticks = nice_ticks(max((bar.value for bar in bars), default=0))
    per_unit, y_of = _scale(ticks)
    slot = (BAR_WIDTH - LEFT - RIGHT) / max(len(bars), 1)
    bar_width = slot * 0.6
    height = PLOT_BOTTOM + X_LABEL_GAP + 12
    description = "; ".join(f"{bar.label}: {bar.value}" for bar in bars) + "."
    parts = [
        _svg_open(chart_id, BAR_WIDTH, height, title, description),
        *_y_axis(BAR_WIDTH, ticks, y_of),
    ]
    for index, bar in enumerate(bars):
        x = LEFT + slot * index + (slot - bar_width) / 2
        bar_height = bar.value * per_unit
        parts.append(
            Markup(
                '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{c}">'
                "<title>{label}: {value}</title></rect>"
                '<text x="{cx:.1f}" y="{ty:.1f}" text-anchor="middle">{value}</text>'
                '<text x="{cx:.1f}" y="{ly}" text-anchor="middle">{label}</text>'
            ).format(
                x=x,
                y=PLOT_BOTTOM - bar_height,
                w=bar_width,
                h=bar_height,
                c=bar.color,
                label=bar.label,
                value=bar.value,
                cx=x + bar_width / 2,
                ty=PLOT_BOTTOM - bar_height - 4,
                ly=PLOT_BOTTOM + X_LABEL_GAP,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
