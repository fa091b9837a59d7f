"""A run's batch from asset events or a listing, and its staging, on a real moto server and PostgreSQL:
the steps the DAG's resolve_batch and load_staging tasks call, driven without Airflow."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from imdb_pipeline import ledger, runs
from imdb_pipeline.batch import ObjectVersion

from tests.fixtures.warehouse import BUCKET, publish_batch

pytestmark = [pytest.mark.postgres, pytest.mark.emulator]

RUN_AFTER = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def put(s3, key: str) -> ObjectVersion:
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=b"Series_Title\nx\n")["ETag"]
    return ObjectVersion(BUCKET, key, etag.strip('"'))


def event_for(version: ObjectVersion) -> dict:
    body = {"detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": version.bucket}, "object": {"key": version.key, "etag": version.etag}}}
    return {"from_trigger": True, "payload": {"message_batch": [{"Body": json.dumps(body)}]}}  # fmt: skip


def resolve(s3, conn, extras=(), start=datetime(2026, 11, 20, tzinfo=UTC), end=RUN_AFTER, run_id="run-1"):
    return runs.resolve_run_batch(
        s3, conn, asset_event_extras=extras, run_id=run_id, run_after=RUN_AFTER, interval_start=start,
        interval_end=end, bucket=BUCKET, raw_prefix="raw/", processed_prefix="processed/",
    )  # fmt: skip


def mark_loaded(conn, version: ObjectVersion) -> None:
    with conn.cursor() as cursor:
        cursor.execute(
            "insert into movies.load_ledger (batch_id, bucket, object_key, etag, status, rows_in, rows_loaded,"
            " rows_quarantined) values ('old', %s, %s, %s, 'loaded', 1, 1, 0)",
            (version.bucket, version.key, version.etag),
        )
    conn.commit()


def test_an_event_run_takes_exactly_the_objects_its_events_name(warehouse_conn, warehouse_s3):
    named = put(warehouse_s3, "raw/dt=2026-11-20/named.csv")
    put(warehouse_s3, "raw/dt=2026-11-20/other.csv")

    resolved = resolve(warehouse_s3, warehouse_conn, extras=[event_for(named)])

    assert resolved.objects == (named,)
    assert resolved.output_uri == f"s3://{BUCKET}/processed/batch_id={resolved.batch_id}/"


def test_a_scheduled_run_lists_its_interval_and_records_loaded_versions_as_skipped(warehouse_conn, warehouse_s3):
    loaded = put(warehouse_s3, "raw/dt=2026-11-20/loaded.csv")
    new = put(warehouse_s3, "raw/dt=2026-11-20/new.csv")
    put(warehouse_s3, "raw/dt=2026-11-19/yesterday.csv")
    mark_loaded(warehouse_conn, loaded)

    resolved = resolve(warehouse_s3, warehouse_conn)

    assert resolved.objects == (new,)
    assert resolved.skipped == (loaded,)
    statuses = {row["batch_id"]: row["status"] for row in ledger.rows_of_object(warehouse_conn, BUCKET, loaded.key)}
    assert statuses == {"old": "loaded", resolved.batch_id: "skipped"}
    # The same run retried resolves the same batch id and adds no second skipped row.
    assert resolve(warehouse_s3, warehouse_conn).batch_id == resolved.batch_id
    assert len(ledger.rows_of_object(warehouse_conn, BUCKET, loaded.key)) == 2


def test_staging_a_batch_with_no_valid_row_fails_naming_each_rejected_file(warehouse_conn, warehouse_s3):
    broken = put(warehouse_s3, "raw/broken.csv")
    output_uri, _ = publish_batch(warehouse_s3, "b-empty", {}, rejected={broken.uri: "raw/broken.csv: file is empty"})
    resolved = {"batch_id": "b-empty", "output_uri": output_uri, "objects": [vars(broken)]}

    with pytest.raises(runs.NothingValid, match=r"s3://.*/raw/broken\.csv: rejected: raw/broken\.csv: file is empty"):
        runs.stage_batch(warehouse_conn, warehouse_s3, resolved, iam_role=None)

    (row,) = ledger.rows_of_object(warehouse_conn, BUCKET, "raw/broken.csv")
    assert (row["status"], row["reason"]) == ("rejected", "raw/broken.csv: file is empty")
