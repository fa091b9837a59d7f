"""A run's batch and its staging, on a real moto server and PostgreSQL: the steps the DAG's
resolve_batch, load_staging and files_waiting tasks call, driven without Airflow.

Whatever triggered a run, it takes every raw object version of its look-back window that the
ledger has not settled, plus the versions its events name."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

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


def resolve(s3, conn, extras=(), window_end=RUN_AFTER, lookback_days=1, sweep=False, run_id="run-1"):
    return runs.resolve_run_batch(
        s3, conn, asset_event_extras=extras, run_id=run_id, run_after=RUN_AFTER, window_end=window_end,
        lookback_days=lookback_days, sweep=sweep, bucket=BUCKET, raw_prefix="raw/", processed_prefix="processed/",
    )  # fmt: skip


def settle(conn, version: ObjectVersion, status: str = "loaded", batch_id: str = "old") -> None:
    with conn.cursor() as cursor:
        cursor.execute(
            "insert into movies.load_ledger (batch_id, bucket, object_key, etag, status, rows_in, rows_loaded,"
            " rows_quarantined) values (%s, %s, %s, %s, %s, 1, 1, 0)",
            (batch_id, version.bucket, version.key, version.etag, status),
        )
    conn.commit()


def keys(versions) -> list[str]:
    return [version.key for version in versions]


def test_an_event_only_wakes_the_run_up_it_takes_every_unsettled_file(warehouse_conn, warehouse_s3):
    # Three files of a burst; Airflow created a run for the first event only (apache/airflow#56050).
    # The window ends now (undated keys are dated by upload), so the dated day is taken relative to it:
    # a fixed day drifts out of the window as the calendar moves on.
    window_end = datetime.now(UTC)
    day = (window_end - timedelta(days=3)).date().isoformat()
    named = put(warehouse_s3, f"raw/dt={day}/first.csv")
    second = put(warehouse_s3, f"raw/dt={day}/second.csv")
    third = put(warehouse_s3, "raw/third.csv")  # undated: its upload day (today) must be in the window

    resolved = resolve(warehouse_s3, warehouse_conn, extras=[event_for(named)], window_end=window_end,
                       lookback_days=7)  # fmt: skip

    assert set(keys(resolved.objects)) == {named.key, second.key, third.key}
    assert resolved.output_uri == f"s3://{BUCKET}/processed/batch_id={resolved.batch_id}/"


def test_a_late_file_for_an_old_day_is_taken_when_its_event_names_it(warehouse_conn, warehouse_s3):
    late = put(warehouse_s3, "raw/dt=2025-01-31/late.csv")

    resolved = resolve(warehouse_s3, warehouse_conn, extras=[event_for(late)])

    assert keys(resolved.objects) == [late.key]
    assert resolved.objects[0].source_time == datetime(2025, 1, 31, tzinfo=UTC)


def test_the_sweep_takes_a_file_missed_on_a_day_that_is_not_its_landing_day(warehouse_conn, warehouse_s3):
    # Before: a daily run covered only the day before it, so this file of the 10th (its event lost,
    # and the run of the 11th missed as catchup is off) waited for ever.
    missed = put(warehouse_s3, "raw/dt=2026-11-10/missed.csv")

    resolved = resolve(warehouse_s3, warehouse_conn, window_end=RUN_AFTER, lookback_days=14, sweep=True)

    assert keys(resolved.objects) == [missed.key]


def test_a_gate_failure_is_retried_by_the_sweep_only(warehouse_conn, warehouse_s3):
    failed = put(warehouse_s3, "raw/dt=2026-11-20/failed.csv")
    settle(warehouse_conn, failed, "quality_failed")

    assert resolve(warehouse_s3, warehouse_conn).objects == ()
    assert keys(resolve(warehouse_s3, warehouse_conn, sweep=True).objects) == [failed.key]


def test_a_key_with_an_impossible_day_is_rejected_once_and_the_sweep_goes_on(warehouse_conn, warehouse_s3):
    impossible = put(warehouse_s3, "raw/dt=2026-02-30/x.csv")
    good = put(warehouse_s3, "raw/dt=2026-02-28/y.csv")
    window_end = datetime(2026, 3, 3, tzinfo=UTC)

    # Before: the landing-date parser raised on it, and every run that met it failed.
    first = resolve(warehouse_s3, warehouse_conn, extras=[event_for(impossible)], window_end=window_end,
                    lookback_days=5, sweep=True)  # fmt: skip
    again = resolve(warehouse_s3, warehouse_conn, extras=[event_for(impossible)], window_end=window_end,
                    lookback_days=5, sweep=True, run_id="run-2")  # fmt: skip

    assert keys(first.objects) == keys(again.objects) == [good.key]
    (row,) = ledger.rows_of_object(warehouse_conn, BUCKET, impossible.key)
    assert (row["status"], row["reason"]) == (
        "rejected", f"{impossible.key}: dt=2026-02-30 in the key is not a calendar day"
    )


def test_a_file_in_a_sub_folder_is_rejected_once_naming_the_layouts_read(warehouse_conn, warehouse_s3):
    # Its event arrived, but a missed event would never be swept (the sweep lists raw/ and raw/dt=DAY/).
    nested = put(warehouse_s3, "raw/vendor/x.csv")
    window_end = datetime.now(UTC)

    first = resolve(warehouse_s3, warehouse_conn, extras=[event_for(nested)], window_end=window_end,
                    lookback_days=2, sweep=True)  # fmt: skip
    again = resolve(warehouse_s3, warehouse_conn, extras=[event_for(nested)], window_end=window_end,
                    lookback_days=2, sweep=True, run_id="run-2")  # fmt: skip

    assert keys(first.objects) == keys(again.objects) == []
    (row,) = ledger.rows_of_object(warehouse_conn, BUCKET, nested.key)
    assert row["status"] == "rejected" and row["reason"].startswith("raw/vendor/x.csv: not in a layout")


def test_files_that_landed_during_a_run_and_no_batch_took_are_waiting(warehouse_conn, warehouse_s3):
    taken = put(warehouse_s3, "raw/taken.csv")
    settle(warehouse_conn, taken, "staged")
    run_started = datetime.now(UTC)
    arrived = put(warehouse_s3, "raw/arrived.csv")

    waiting = runs.versions_waiting(
        warehouse_s3, warehouse_conn, landed_after=run_started - timedelta(seconds=1),
        window_end=datetime.now(UTC), lookback_days=1, bucket=BUCKET, raw_prefix="raw/",
    )  # fmt: skip
    assert keys(waiting) == [arrived.key]


def test_a_scheduled_run_lists_its_window_and_records_redelivered_loaded_versions_as_skipped(
    warehouse_conn, warehouse_s3
):
    loaded = put(warehouse_s3, "raw/dt=2026-11-20/loaded.csv")
    new = put(warehouse_s3, "raw/dt=2026-11-20/new.csv")
    put(warehouse_s3, "raw/dt=2026-11-19/before_the_window.csv")
    settle(warehouse_conn, loaded)

    resolved = resolve(warehouse_s3, warehouse_conn, extras=[event_for(loaded)])

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
    resolved = {"batch_id": "b-empty", "output_uri": output_uri,
                "objects": [{**vars(broken), "last_modified": datetime.now(UTC)}]}  # fmt: skip

    with pytest.raises(runs.NothingValid, match=r"s3://.*/raw/broken\.csv: rejected: raw/broken\.csv: file is empty"):
        runs.stage_batch(warehouse_conn, warehouse_s3, resolved, iam_role=None)

    (row,) = ledger.rows_of_object(warehouse_conn, BUCKET, "raw/broken.csv")
    assert (row["status"], row["reason"]) == ("rejected", "raw/broken.csv: file is empty")
