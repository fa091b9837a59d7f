"""A merged batch's figures, for the `extra` of the merged table's asset event, so Airflow's
Assets view (and any DAG scheduled on the table) sees what the batch changed without the warehouse.

Plain function over a DB-API connection (psycopg or redshift_connector); read-only.
"""

from __future__ import annotations

from typing import Any

from imdb_pipeline import db

FIGURES_SQL = "quality/select_batch_figures.sql"


def gate_verdict(checks_passed: int, checks_warned: int, checks_failed: int) -> str:
    """failed, warned or passed by the worst outcome of the batch's checks; not checked without any."""
    if checks_failed:
        return "failed"
    if checks_warned:
        return "warned"
    return "passed" if checks_passed else "not checked"


def batch_figures(conn: Any, batch_id: str) -> dict:
    """batch id, files, rows in / loaded / new / changed / unchanged / quarantined, check counts and
    the gate verdict of `batch_id`, as JSON-ready ints and strings.

    Unchanged rows were loaded (merged) but equal to the stored movie, so no history was recorded.
    """
    with db.transaction(conn) as cursor:
        db.execute(cursor, db.sql_text(FIGURES_SQL), {"batch_id": batch_id})
        names = [column[0] for column in cursor.description]
        figures = {name: int(value) for name, value in zip(names, cursor.fetchone(), strict=True)}
    figures["rows_unchanged"] = figures["rows_loaded"] - figures["rows_new"] - figures["rows_changed"]
    verdict = gate_verdict(figures["checks_passed"], figures["checks_warned"], figures["checks_failed"])
    return {"batch_id": batch_id, **figures, "gate_verdict": verdict}
