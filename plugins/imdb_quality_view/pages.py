"""The view's HTML: one function per page, taking the data `queries` returns. No script, no
stylesheet or font from outside: everything is inline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from html import escape
from urllib.parse import urlencode

from imdb_quality_view import charts, queries, runs

PAGES = (("batches", "Batches"), ("quarantine", "Quarantine explorer"), ("trends", "Quality trends"),
         ("ratings", "Ratings"))  # fmt: skip
STYLE = """
body { font-family: system-ui, sans-serif; margin: 16px; color: #222; font-size: 14px; }
nav a { margin-right: 16px; } nav a.current { font-weight: bold; text-decoration: none; color: #222; }
table { border-collapse: collapse; margin: 8px 0 16px; } th, td { border-bottom: 1px solid #ddd; padding: 4px 8px;
text-align: left; vertical-align: top; } td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
.verdict-failed, .outcome-fail { color: #b00020; font-weight: bold; } .verdict-warned, .outcome-warn { color: #a05a00; }
.verdict-passed, .outcome-pass { color: #1b7f2a; } form { margin: 8px 0; } figure.chart { margin: 8px 0 16px; }
figcaption { font-weight: bold; margin-bottom: 4px; } code { font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; }
"""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal | float):
        # Ratings keep their one decimal (9.0, not 9); averages and changes show up to two.
        text = f"{value:,.2f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def table(columns: Iterable[tuple[str, str]], rows: Iterable[dict], table_id: str) -> str:
    """A table of `rows` showing `columns` (key, heading); numbers right-aligned."""
    columns = list(columns)
    head = "".join(f"<th>{escape(heading)}</th>" for _, heading in columns)
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            numeric = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
            css = "number" if numeric else f"outcome-{value}" if key == "outcome" else ""
            cells.append(f'<td class="{escape(css)}" data-key="{key}">{escape(_text(value))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table id="{escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def layout(base: str, current: str, title: str, content: str) -> str:
    links = "".join(
        f'<a href="{base}/{name}" class="{"current" if name == current else ""}">{escape(label)}</a>'
        for name, label in PAGES
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} - IMDb quality</title>'
        f"<style>{STYLE}</style></head><body><nav>{links}</nav><h1>{escape(title)}</h1>{content}</body></html>"
    )


def _query(base: str, page: str, **params: object) -> str:
    kept = {name: value for name, value in params.items() if value not in (None, "")}
    return f"{base}/{page}" + (f"?{urlencode(kept)}" if kept else "")


def _batch_block(base: str, batch: dict, run_id: str | None, open_details: bool = False) -> str:
    """One batch: its figures, its files and its gate verdicts."""
    batch_id, verdict = batch["batch_id"], batch["gate_verdict"]
    run = (
        f'<a href="{escape(runs.run_path(run_id))}" target="_top" class="run-link">{escape(run_id)}</a>'
        if run_id
        else "not found in Airflow"
    )
    files = table(
        [("object_key", "file"), ("status", "ledger status"), ("rows_in", "rows in"), ("rows_loaded", "loaded"),
         ("rows_quarantined", "quarantined"), ("reason", "reason")],
        batch["files_list"], f"files-{batch_id}",
    )  # fmt: skip
    checks = table(
        [("contract", "contract"), ("check_name", "check"), ("outcome", "outcome"), ("value", "value"),
         ("threshold", "threshold"), ("message", "message")],
        batch["checks"], f"checks-{batch_id}",
    )  # fmt: skip
    quarantine_link = (
        f' - <a href="{escape(_query(base, "quarantine", batch_id=batch_id))}">quarantined rows</a>'
        if batch["rows_quarantined"]
        else ""
    )
    return (
        f'<details class="batch" data-batch-id="{escape(batch_id)}"{" open" if open_details else ""}><summary>'
        f"<code>{escape(batch_id)}</code> files {escape(_text(batch['files']))}, gate "
        f'<span class="verdict-{escape(verdict.replace(" ", "-"))}">{escape(verdict)}</span>'
        f"</summary><p>DAG run: {run}{quarantine_link}</p><h3>Files</h3>{files}<h3>Quality gate</h3>{checks}</details>"
    )


BATCH_COLUMNS = [
    ("batch_id", "batch"), ("recorded_at", "recorded"), ("statuses_text", "ledger status"), ("files", "files"),
    ("rows_in", "rows in"), ("rows_loaded", "loaded"), ("rows_new", "new"), ("rows_changed", "changed"),
    ("rows_unchanged", "unchanged"), ("rows_quarantined", "quarantined"), ("gate_verdict", "gate"),
]  # fmt: skip


def batches_page(base: str, found: list[dict], run_ids: dict[str, str], status: str | None,
                 day: date | None) -> str:
    options = "".join(
        f'<option value="{name}"{" selected" if name == status else ""}>{name}</option>'
        for name in ("", *queries.LEDGER_STATUSES)
    )
    form = (
        f'<form method="get" action="{base}/batches">Status <select name="status">{options}</select> '
        f'Day <input type="date" name="day" value="{day.isoformat() if day else ""}"> <button>Filter</button></form>'
    )
    rows = [{**batch, "statuses_text": ", ".join(batch["statuses"])} for batch in found]
    details = "".join(_batch_block(base, batch, run_ids.get(batch["batch_id"])) for batch in found)
    content = (
        f"{form}<p>{len(found)} batches</p>{table(BATCH_COLUMNS, rows, 'batches')}"
        f"<h2>Files, gate verdicts and runs</h2>{details}"
    )
    return layout(base, "batches", "Batches", content)


def run_page(base: str, dag_id: str, run_id: str, batch: dict | None) -> str:
    if batch is None:
        content = (
            f"<p>The run <code>{escape(run_id)}</code> of <code>{escape(dag_id)}</code> loaded no batch "
            "(another DAG, or the run ended before it resolved one).</p>"
        )
    else:
        content = table(BATCH_COLUMNS, [{**batch, "statuses_text": ", ".join(batch["statuses"])}], "batches")
        content += _batch_block(base, batch, run_id, open_details=True)
    return layout(base, "", "Batch of this run", content)


def quarantine_page(base: str, choices: list[dict], found: dict | None) -> str:
    current = found["batch_id"] if found else None
    options = "".join(
        f'<option value="{escape(choice["batch_id"])}"{" selected" if choice["batch_id"] == current else ""}>'
        f'{escape(choice["batch_id"])} ({choice["rows_quarantined"]} rows)</option>'
        for choice in choices
    )
    form = (
        f'<form method="get" action="{base}/quarantine">Batch <select name="batch_id">{options}</select> '
        "<button>Show</button></form>"
    )
    if found is None:
        return layout(base, "quarantine", "Quarantine explorer", form + "<p>No batch has quarantined rows.</p>")
    totals = [{"reason": reason, "rows": rows} for reason, rows in found["totals_by_reason"].items()]
    rows = [
        {"source_object": row.get("source_object"), "line_number": row.get("line_number"),
         "reasons": ", ".join(row.get("reasons", [])), "errors": "; ".join(row.get("errors", [])),
         "raw": ", ".join(f"{name}={value!r}" for name, value in (row.get("raw") or {}).items())}
        for row in found["rows"]
    ]  # fmt: skip
    shown = f"the first {len(rows)} of " if len(rows) < found["rows_total"] else ""
    content = (
        f"{form}<p>Batch <code>{escape(found['batch_id'])}</code>: {shown}{found['rows_total']} quarantined rows</p>"
        f"<h2>Totals by reason</h2>{table([('reason', 'reason'), ('rows', 'rows')], totals, 'totals-by-reason')}"
        + charts.bar_chart("Quarantined rows by reason", "chart-quarantine-reasons",
                           [total["reason"] for total in totals], {"rows": [total["rows"] for total in totals]})
        + "<h2>Rows</h2>"
        + table([("source_object", "file"), ("line_number", "line"), ("reasons", "reasons"), ("errors", "errors"),
                 ("raw", "raw values")], rows, "quarantined-rows")
    )  # fmt: skip
    return layout(base, "quarantine", "Quarantine explorer", content)


def trends_page(base: str, days: list[dict], period_days: int) -> str:
    form = (
        f'<form method="get" action="{base}/trends">Last <input type="number" name="days" min="1" max="3660" '
        f'value="{period_days}"> days <button>Show</button></form>'
    )
    labels = [day["day"].isoformat() for day in days]
    reasons = sorted({reason for day in days for reason in day["quarantined_by_reason"]})
    rows = [
        {**day, "quality_share_text": f"{day['quality_share']:.1%}" if day["quality_share"] is not None else "",
         "reasons_text": ", ".join(f"{reason}: {count}" for reason, count in day["quarantined_by_reason"].items())}
        for day in days
    ]  # fmt: skip
    content = (
        form
        + '<div class="charts">'
        + charts.bar_chart("Rows loaded vs quarantined per day", "chart-loaded-vs-quarantined", labels,
                           {"loaded": [day["rows_loaded"] for day in days],
                            "quarantined": [day["rows_quarantined"] for day in days]})
        + charts.bar_chart("Quarantined rows by reason per day", "chart-quarantine-by-reason", labels,
                           {reason: [day["quarantined_by_reason"].get(reason, 0) for day in days]
                            for reason in reasons})
        + charts.bar_chart("Failed quality-gate checks per day", "chart-gate-failures", labels,
                           {"failed checks": [day["checks_failed"] for day in days],
                            "batches failing the gate": [day["batches_failed_gate"] for day in days]})
        + charts.line_chart("Share of quality movies among new or changed movies per day", "chart-quality-share",
                            labels, {"quality share": [day["quality_share"] for day in days]})
        + "</div>"
        + table([("day", "day"), ("batches", "batches"), ("rows_in", "rows in"), ("rows_loaded", "loaded"),
                 ("rows_quarantined", "quarantined"), ("reasons_text", "quarantined by reason"),
                 ("checks_failed", "failed checks"), ("batches_failed_gate", "batches failing the gate"),
                 ("rows_recorded", "new or changed"), ("quality_share_text", "quality share")], rows, "trends")
    )  # fmt: skip
    return layout(base, "trends", "Quality trends", content)


def ratings_page(base: str, found: dict, start: date, end: date) -> str:
    form = (
        f'<form method="get" action="{base}/ratings">From <input type="date" name="start" value="{start.isoformat()}"> '
        f'to <input type="date" name="end" value="{end.isoformat()}"> (inclusive) <button>Show</button></form>'
    )

    def title(movie: dict) -> str:
        return f"{movie['series_title']} ({movie['released_year']})"

    movies, directors, genres = found["top_movies"], found["top_directors"], found["top_genres"]
    rating_moves, vote_moves = found["rating_changes"], found["vote_changes"]
    content = (
        form
        + '<div class="charts">'
        + charts.bar_chart("Top movies by rating", "chart-top-movies", [title(m) for m in movies],
                           {"IMDb rating": [m["imdb_rating"] for m in movies]}, from_zero=False)
        + charts.bar_chart("Top directors by average rating", "chart-top-directors", [d["director"] for d in directors],
                           {"average rating": [d["avg_rating"] for d in directors]}, from_zero=False)
        + charts.bar_chart("Genres by quality movies", "chart-top-genres", [g["genre"] for g in genres],
                           {"quality movies": [g["quality_movies"] for g in genres],
                            "movies": [g["movies"] for g in genres]})
        + charts.bar_chart("Largest rating changes", "chart-rating-changes", [title(m) for m in rating_moves],
                           {"rating change": [m["rating_change"] for m in rating_moves]})
        + charts.bar_chart("Largest vote changes", "chart-vote-changes", [title(m) for m in vote_moves],
                           {"vote change": [m["votes_change"] for m in vote_moves]})
        + "</div><h2>Top movies</h2>"
        + table([("series_title", "movie"), ("released_year", "year"), ("director", "director"),
                 ("primary_genre", "genre"), ("imdb_rating", "rating"), ("no_of_votes", "votes")], movies, "top-movies")
        + "<h2>Top directors</h2>"
        + table([("director", "director"), ("movies", "movies"), ("avg_rating", "average rating"),
                 ("total_votes", "votes")], directors, "top-directors")
        + "<h2>Genres</h2>"
        + table([("genre", "genre"), ("movies", "movies"), ("quality_movies", "quality movies"),
                 ("avg_rating", "average rating")], genres, "top-genres")
        + "<h2>Largest rating changes</h2>"
        + table([("series_title", "movie"), ("released_year", "year"), ("rating_before", "before"),
                 ("rating_after", "after"), ("rating_change", "change")], rating_moves, "rating-changes")
        + "<h2>Largest vote changes</h2>"
        + table([("series_title", "movie"), ("released_year", "year"), ("votes_before", "before"),
                 ("votes_after", "after"), ("votes_change", "change")], vote_moves, "vote-changes")
    )  # fmt: skip
    return layout(base, "ratings", "Ratings", content)
