"""Charts as inline SVG, drawn on the server: no script and nothing fetched by the browser.

Every data point is its own element with class `point` and `data-series`, `data-label` and
`data-value` attributes (and a tooltip), so a test can count and read them.
"""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 720, 280
# The left margin leaves room for the first x label (LABEL_CHARS at font size 10, slanted 30 degrees).
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 112, 16, 24, 96
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - MARGIN_LEFT - MARGIN_RIGHT, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
MAX_LABELS = 16
LABEL_CHARS = 22
LEGEND_LEFT, LEGEND_ITEM_WIDTH, LEGEND_CHARS = 8, 176, 26
LEGEND_PER_ROW = (WIDTH - LEGEND_LEFT) // LEGEND_ITEM_WIDTH


class _Scale:
    """Values from `low` to `high` onto the plot's height; bars rise from `baseline`.

    With from_zero the range includes 0 and bars start there. Without it (values such as ratings,
    all far from 0) the axis starts at the whole number below the lowest value less a half, so that
    9.3 and 8.6 differ visibly; the axis labels say where it starts.
    """

    def __init__(self, values: list[float], from_zero: bool = True):
        if from_zero:
            self.low, self.high = min([*values, 0.0]), max([*values, 0.0])
        else:
            self.low, self.high = float(math.floor(min(values) - 0.5)), max(values)
        self.span = (self.high - self.low) or 1.0
        self.baseline = min(max(0.0, self.low), self.high)

    def y(self, value: float) -> float:
        return HEIGHT - MARGIN_BOTTOM - PLOT_HEIGHT * (value - self.low) / self.span


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _x_labels(labels: list[str], x_of) -> list[str]:
    """Labels under the x axis, slanted so long titles do not overlap (at most MAX_LABELS shown)."""
    every = max(len(labels) // MAX_LABELS, 1)
    texts = []
    for index, label in enumerate(labels):
        if index % every:
            continue
        x, y = x_of(index), HEIGHT - MARGIN_BOTTOM + 12
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        texts.append(
            f'<text x="{x:.1f}" y="{y}" text-anchor="end" font-size="10" transform="rotate(-30 {x:.1f} {y})">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
        )
    return texts


def _frame(title: str, chart_id: str, body: list[str], scale: _Scale, series: list[str]) -> str:
    base = scale.y(scale.baseline)
    axis = [
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{HEIGHT - MARGIN_BOTTOM}" stroke="#999"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{base:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{base:.1f}" stroke="#999"/>',
    ]
    for step in range(5):
        value = scale.low + scale.span * step / 4
        axis.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{scale.y(value) + 4:.1f}" text-anchor="end" font-size="10">'
            f"{_number(value)}</text>"
        )
    # The legend wraps after LEGEND_PER_ROW series (a day can have many quarantine reasons); the
    # picture grows by one row each time.
    legend = []
    for index, name in enumerate(series):
        x, y = LEGEND_LEFT + LEGEND_ITEM_WIDTH * (index % LEGEND_PER_ROW), HEIGHT - 14 + 16 * (index // LEGEND_PER_ROW)
        legend.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[index % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(name[:LEGEND_CHARS])}</text>'
        )
    height = HEIGHT + 16 * ((len(series) - 1) // LEGEND_PER_ROW)
    return (
        f'<figure class="chart" id="{escape(chart_id)}"><figcaption>{escape(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">{"".join(axis)}{"".join(body)}{"".join(legend)}</svg></figure>'
    )


def _empty(title: str, chart_id: str) -> str:
    return (
        f'<figure class="chart empty" id="{escape(chart_id)}"><figcaption>{escape(title)}</figcaption>'
        "<p>No data.</p></figure>"
    )


def _point_attributes(name: str, label: str, value: float) -> str:
    return f'class="point" data-series="{escape(name)}" data-label="{escape(label)}" data-value="{value:g}"'


def bar_chart(
    title: str, chart_id: str, labels: list[str], series: dict[str, list[float]], from_zero: bool = True
) -> str:
    """Grouped bars from the baseline (up or down): one group per label, one bar (a `point`) per series.

    from_zero=False for values compared by their differences, such as ratings (see _Scale).
    """
    if not labels or not series:
        return _empty(title, chart_id)
    scale = _Scale([float(value) for values in series.values() for value in values], from_zero)
    group_width = PLOT_WIDTH / len(labels)
    bar_width = max(group_width * 0.8 / len(series), 1)
    base = scale.y(scale.baseline)
    body = []
    for index, label in enumerate(labels):
        x0 = MARGIN_LEFT + group_width * index + group_width * 0.1
        for position, (name, values) in enumerate(series.items()):
            value = float(values[index])
            top, bottom = sorted((scale.y(value), base))
            body.append(
                f'<rect {_point_attributes(name, label, value)} x="{x0 + bar_width * position:.1f}" y="{top:.1f}" '
                f'width="{bar_width:.1f}" height="{max(bottom - top, 0.5):.1f}" '
                f'fill="{PALETTE[position % len(PALETTE)]}">'
                f"<title>{escape(name)} {escape(label)}: {_number(value)}</title></rect>"
            )
    body += _x_labels(labels, lambda index: MARGIN_LEFT + group_width * (index + 0.5))
    return _frame(title, chart_id, body, scale, list(series))


def line_chart(title: str, chart_id: str, labels: list[str], series: dict[str, list[float | None]]) -> str:
    """Lines with a marker (a `point`) per known value; unknown values (None) get no marker."""
    known = [float(value) for values in series.values() for value in values if value is not None]
    if not labels or not known:
        return _empty(title, chart_id)
    scale = _Scale(known)
    step = PLOT_WIDTH / max(len(labels) - 1, 1)

    def x_of(index: int) -> float:
        return MARGIN_LEFT + step * index if len(labels) > 1 else MARGIN_LEFT + PLOT_WIDTH / 2

    body = []
    for position, (name, values) in enumerate(series.items()):
        colour = PALETTE[position % len(PALETTE)]
        points = [
            (x_of(index), scale.y(float(value)), label, float(value))
            for index, (label, value) in enumerate(zip(labels, values, strict=True))
            if value is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, label, value in points:
            body.append(
                f'<circle {_point_attributes(name, label, value)} cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(name)} {escape(label)}: {_number(value)}</title></circle>"
            )
    body += _x_labels(labels, x_of)
    return _frame(title, chart_id, body, scale, list(series))
