"""The batch figures the merged table's asset event carries, on a real PostgreSQL warehouse filled
by the real load path, against figures counted from the rows the test loaded."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from imdb_pipeline import batch_figures, warehouse

from tests.fixtures.warehouse import BUCKET, pass_gate_and_merge, processed_rows, publish_batch, seed_records

pytestmark = pytest.mark.postgres


def stage_and_merge(conn, s3, batch_id: str, key: str, records: list[dict], at: datetime) -> list[dict]:
    """Load the records as one batch through staging, pass its gate and merge it as the DAG does."""
    uri = f"s3://{BUCKET}/{key}"
    rows = processed_rows(records, source_object=uri, batch_id=batch_id, ingested_at=at)
    output_uri, summary = publish_batch(s3, batch_id, {uri: (len(records), rows)})
    warehouse.load_staging(conn, s3, batch_id=batch_id, output_uri=output_uri, summary=summary,
                           objects=[(BUCKET, key, f"etag-{batch_id}", at.replace(tzinfo=UTC))])  # fmt: skip
    pass_gate_and_merge(conn, batch_id)
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into movies.dq_results (batch_id, contract, check_path, outcome, checked_at)"
            " values (%s, 'imdb_movies_staging', %s, %s, %s)",
            [(batch_id, "checks.rows", "pass", at), (batch_id, "checks.meta", "warn", at)],
        )
    conn.commit()
    return rows


def test_figures_of_a_first_load_and_of_an_update(warehouse_conn, warehouse_s3):
    records = seed_records()
    seed_rows = stage_and_merge(warehouse_conn, warehouse_s3, "b1", "raw/seed.csv", records, datetime(2026, 11, 1))

    first = batch_figures.batch_figures(warehouse_conn, "b1")
    assert first == {
        "batch_id": "b1", "files": 1, "files_loaded": 1, "rows_in": len(records), "rows_loaded": len(seed_rows),
        "rows_new": len(seed_rows), "rows_changed": 0, "rows_unchanged": 0,
        "rows_quarantined": len(records) - len(seed_rows), "checks_passed": 1, "checks_warned": 1,
        "checks_failed": 0, "gate_verdict": "warned",
    }  # fmt: skip
    assert (first["rows_in"], first["rows_loaded"], first["rows_quarantined"]) == (1000, 999, 1)
    json.dumps(first)  # an asset event's extra must be JSON

    # 10 movies with new votes, 5 exactly as stored, 2 new movies.
    changed = [{**record, "No_of_Votes": str(int(record["No_of_Votes"]) + 1)} for record in records[10:20]]
    unchanged = [dict(record) for record in records[20:25]]
    new = [{**record, "Series_Title": record["Series_Title"] + " II"} for record in records[30:32]]
    update = stage_and_merge(warehouse_conn, warehouse_s3, "b2", "raw/update.csv", changed + unchanged + new,
                             datetime(2026, 11, 2))  # fmt: skip
    assert len(update) == 17
    second = batch_figures.batch_figures(warehouse_conn, "b2")
    assert {key: second[key] for key in ("rows_in", "rows_loaded", "rows_new", "rows_changed", "rows_unchanged",
                                         "rows_quarantined")} == {  # fmt: skip
        "rows_in": 17, "rows_loaded": 17, "rows_new": 2, "rows_changed": 10, "rows_unchanged": 5,
        "rows_quarantined": 0,
    }  # fmt: skip


def test_figures_of_an_unknown_batch_are_zero_and_a_failed_check_fails_the_verdict(warehouse_conn):
    assert batch_figures.batch_figures(warehouse_conn, "nothing")["gate_verdict"] == "not checked"
    assert batch_figures.batch_figures(warehouse_conn, "nothing")["rows_loaded"] == 0
    with warehouse_conn.cursor() as cursor:
        cursor.execute("insert into movies.dq_results (batch_id, contract, check_path, outcome, checked_at)"
                       " values ('b9', 'imdb_movies_staging', 'checks.meta', 'fail', %s)", (datetime(2026, 11, 3),))
    warehouse_conn.commit()
    figures = batch_figures.batch_figures(warehouse_conn, "b9")
    assert (figures["checks_failed"], figures["gate_verdict"]) == (1, "failed")


@pytest.mark.parametrize(("counts", "verdict"), [((3, 0, 0), "passed"), ((3, 1, 0), "warned"),
                                                 ((3, 1, 1), "failed"), ((0, 0, 0), "not checked")])
def test_gate_verdict_is_the_worst_outcome(counts, verdict):
    assert batch_figures.gate_verdict(*counts) == verdict

