"""Charts as inline SVG, drawn on the server: no script and nothing fetched by the browser.

Every data point is its own element with class `point` and `data-series`, `data-label` and
`data-value` attributes (and a tooltip), so a test can count and read them.
"""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 720, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 16, 24, 56
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _frame(title: str, chart_id: str, body: list[str], top: float, series: list[str]) -> str:
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    axis = [
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{HEIGHT - MARGIN_BOTTOM}" stroke="#999"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{HEIGHT - MARGIN_BOTTOM}" x2="{WIDTH - MARGIN_RIGHT}" '
        f'y2="{HEIGHT - MARGIN_BOTTOM}" stroke="#999"/>',
    ]
    for step in range(5):
        value = top * step / 4
        y = HEIGHT - MARGIN_BOTTOM - plot_height * step / 4
        axis.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{_number(value)}</text>'
        )
    legend = [
        f'<rect x="{MARGIN_LEFT + 130 * index}" y="{HEIGHT - 14}" width="10" height="10" '
        f'fill="{PALETTE[index % len(PALETTE)]}"/>'
        f'<text x="{MARGIN_LEFT + 14 + 130 * index}" y="{HEIGHT - 5}" font-size="11">{escape(name)}</text>'
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


def bar_chart(title: str, chart_id: str, labels: list[str], series: dict[str, list[float]]) -> str:
    """Grouped bars: one group per label, one bar (a `point`) per series."""
    if not labels or not series:
        return _empty(title, chart_id)
    top = max([float(value) for values in series.values() for value in values] + [0]) or 1
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    group_width = plot_width / len(labels)
    bar_width = max(group_width * 0.8 / len(series), 1)
    body = []
    for index, label in enumerate(labels):
        x0 = MARGIN_LEFT + group_width * index + group_width * 0.1
        for position, (name, values) in enumerate(series.items()):
            value = float(values[index])
            height = plot_height * value / top
            body.append(
                f'<rect class="point" data-series="{escape(name)}" data-label="{escape(label)}" data-value="{value:g}" '
                f'x="{x0 + bar_width * position:.1f}" y="{HEIGHT - MARGIN_BOTTOM - height:.1f}" '
                f'width="{bar_width:.1f}" height="{max(height, 0.5):.1f}" fill="{PALETTE[position % len(PALETTE)]}">'
                f"<title>{escape(name)} {escape(label)}: {_number(value)}</title></rect>"
            )
        if len(labels) <= 16 or index % max(len(labels) // 12, 1) == 0:
            body.append(
                f'<text x="{x0 + group_width * 0.4:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" text-anchor="middle" '
                f'font-size="10">{escape(label[:18])}</text>'
            )
    return _frame(title, chart_id, body, top, list(series))


def line_chart(title: str, chart_id: str, labels: list[str], series: dict[str, list[float | None]]) -> str:
    """Lines with a marker (a `point`) per known value; unknown values (None) leave a gap."""
    known = [float(value) for values in series.values() for value in values if value is not None]
    if not labels or not known:
        return _empty(title, chart_id)
    top = max(known) or 1
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_width / max(len(labels) - 1, 1)
    body = []
    for position, (name, values) in enumerate(series.items()):
        colour = PALETTE[position % len(PALETTE)]
        points = [
            (MARGIN_LEFT + step * index if len(labels) > 1 else MARGIN_LEFT + plot_width / 2,
             HEIGHT - MARGIN_BOTTOM - plot_height * float(value) / top, label, float(value))
            for index, (label, value) in enumerate(zip(labels, values, strict=True))
            if value is not None
        ]  # fmt: skip
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, label, value in points:
            body.append(
                f'<circle class="point" data-series="{escape(name)}" data-label="{escape(label)}" '
                f'data-value="{value:g}" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(name)} {escape(label)}: {_number(value)}</title></circle>"
            )
    for index, label in enumerate(labels):
        if len(labels) <= 16 or index % max(len(labels) // 12, 1) == 0:
            x = MARGIN_LEFT + step * index if len(labels) > 1 else MARGIN_LEFT + plot_width / 2
            body.append(
                f'<text x="{x:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" text-anchor="middle" font-size="10">'
                f"{escape(label[:18])}</text>"
            )
    return _frame(title, chart_id, body, top, list(series))
