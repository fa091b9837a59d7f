"""Charts as inline SVG, drawn on the server: no script and nothing fetched by the browser.

Every data point is its own element with class `point` and `data-series`, `data-label` and
`data-value` attributes (and a tooltip), so a test can count and read them.
"""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 720, 280
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 16, 24, 96
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - MARGIN_LEFT - MARGIN_RIGHT, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
MAX_LABELS = 16
LABEL_CHARS = 22


class _Scale:
    """Values from `low` to `high` (0 always included) onto the plot's height."""

    def __init__(self, values: list[float]):
        self.low, self.high = min([*values, 0.0]), max([*values, 0.0])
        self.span = (self.high - self.low) or 1.0

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
    zero = scale.y(0)
    axis = [
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{HEIGHT - MARGIN_BOTTOM}" stroke="#999"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{zero:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{zero:.1f}" stroke="#999"/>',
    ]
    for step in range(5):
        value = scale.low + scale.span * step / 4
        axis.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{scale.y(value) + 4:.1f}" text-anchor="end" font-size="10">'
            f"{_number(value)}</text>"
        )
    legend = [
        f'<rect x="{MARGIN_LEFT + 170 * index}" y="{HEIGHT - 14}" width="10" height="10" '
        f'fill="{PALETTE[index % len(PALETTE)]}"/>'
        f'<text x="{MARGIN_LEFT + 14 + 170 * index}" y="{HEIGHT - 5}" font-size="11">{escape(name)}</text>'
        for index, name in enumerate(series)
    ]
    return (
        f'<figure class="chart" id="{escape(chart_id)}"><figcaption>{escape(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">{"".join(axis)}{"".join(body)}{"".join(legend)}</svg></figure>'
    )


def _empty(title: str, chart_id: str) -> str:
    return (
        f'<figure class="chart empty" id="{escape(chart_id)}"><figcaption>{escape(title)}</figcaption>'
        "<p>No data.</p></figure>"
    )


def _point_attributes(name: str, label: str, value: float) -> str:
    return f'class="point" data-series="{escape(name)}" data-label="{escape(label)}" data-value="{value:g}"'


def bar_chart(title: str, chart_id: str, labels: list[str], series: dict[str, list[float]]) -> str:
    """Grouped bars from the zero line (up or down): one group per label, one bar (a `point`) per series."""
    if not labels or not series:
        return _empty(title, chart_id)
    scale = _Scale([float(value) for values in series.values() for value in values])
    group_width = PLOT_WIDTH / len(labels)
    bar_width = max(group_width * 0.8 / len(series), 1)
    zero = scale.y(0)
    body = []
    for index, label in enumerate(labels):
        x0 = MARGIN_LEFT + group_width * index + group_width * 0.1
        for position, (name, values) in enumerate(series.items()):
            value = float(values[index])
            top, bottom = sorted((scale.y(value), zero))
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
