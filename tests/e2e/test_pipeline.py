"""End to end on the real local stack: moto server, PostgreSQL, Airflow standalone (scheduler, triggerer,
DAG processor, API server), Glue runs on local Spark.

The tests share one stack and run in file order, each building on the warehouse the previous left:
seed file → re-delivery of the same file → changed ratings → a batch the quality gate rejects →
a backfill over three days whose events were missed.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imdb_pipeline.config import DAG_ID

from local_stack.airflow_api import AirflowApi, run_of_batch, wait_for_upload
from local_stack.demo import (
    SEED_FILE,
    batches_holding,
    ledger_rows,
    movies_in_warehouse,
    read_notifications,
    upload_file,
)
from local_stack.provision import aws_client
from tests.fixtures.stack import quarantine_rows, query

pytestmark = [pytest.mark.airflow, pytest.mark.emulator, pytest.mark.postgres, pytest.mark.spark]



def notifications_matching(stack: dict, text: str, timeout: float = 30) -> list[dict]:
    """Notifications received so far whose subject or body mentions `text` (others are dropped)."""
    deadline = time.monotonic() + timeout
    matching = []
    while not matching and time.monotonic() < deadline:
        matching = [n for n in read_notifications(stack) if text in (n["subject"] or "") + n["message"]]
    return matching


def seed_rows() -> tuple[list[str], list[dict]]:
    with SEED_FILE.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def complete_rows(rows: list[dict]) -> list[dict]:
    """Seed rows with every measure present, so a small file stays within the gate's missing-value limits."""
    return [row for row in rows if row["Meta_score"] and row["Gross"] and row["Released_Year"].isdigit()]


def batch_of(stack: dict, key: str, etag: str) -> dict:
    (row,) = [row for row in ledger_rows(stack, stack["bucket"], key) if row["etag"] == etag][:1]
    return row


def test_seed_file_upload_runs_the_pipeline_by_itself(stack, api):
    upload = upload_file(stack, SEED_FILE)
    run = wait_for_upload(api, lambda: batches_holding(stack, upload))

    # Whichever run took it (its own event's, or the daily sweep's that the stack's start created).
    assert run["state"] == "success"
    assert movies_in_warehouse(stack) == 999
    ledger = batch_of(stack, upload["key"], upload["etag"])
    assert (ledger["status"], ledger["rows_in"], ledger["rows_loaded"], ledger["rows_quarantined"]) == (
        "loaded", 1000, 999, 1,
    )

    quarantined = quarantine_rows(stack, ledger["batch_id"])
    assert [(row["raw"]["Series_Title"], row["reasons"]) for row in quarantined] == [("Apollo 13", ["invalid_year"])]

    (notice,) = notifications_matching(stack, ledger["batch_id"])
    assert "OK" in notice["subject"]
    assert "loaded: 999, quarantined: 1" in notice["message"]


def test_the_glue_jobs_own_log_is_in_the_airflow_task_log(stack, api):
    (seed_batch,) = {row["batch_id"] for row in ledger_rows(stack, stack["bucket"], "raw/" + SEED_FILE.name)
                     if row["status"] == "loaded"}  # fmt: skip
    run = run_of_batch(api, seed_batch)
    run_path = f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
    log = api.get(f"{run_path}/taskInstances/clean_validate_quarantine/logs/1", full_content="true")
    text = json.dumps(log)
    # The job's summary line, as the emulator wrote the run's driver log to CloudWatch Logs.
    assert "1000 rows in, 999 valid, 1 quarantined" in text


def test_same_file_again_loads_nothing(stack, api):
    before = query(stack, "select count(*) from movies.rating_history")
    upload = upload_file(stack, SEED_FILE)
    run = wait_for_upload(api, lambda: batches_holding(stack, upload))

    assert run["state"] == "success"
    assert movies_in_warehouse(stack) == 999
    assert query(stack, "select count(*) from movies.rating_history") == before
    statuses = sorted(row["status"] for row in ledger_rows(stack, stack["bucket"], upload["key"]))
    assert statuses == ["loaded", "skipped"]
    assert notifications_matching(stack, "SKIPPED")


def ratings_update(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """10 seed movies with a lower rating and more votes, and 5 new movies."""
    changed = complete_rows(rows)[:10]
    for row in changed:
        row["IMDB_Rating"] = f"{float(row['IMDB_Rating']) - 0.5:.1f}"
        row["No_of_Votes"] = str(int(row["No_of_Votes"]) + 1000)
    new = [{**row, "Series_Title": f"{row['Series_Title']} Returns"} for row in complete_rows(rows)[10:15]]
    return changed, new


def test_changed_ratings_update_movies_and_add_history(stack, api, tmp_path):
    header, rows = seed_rows()
    changed, new = ratings_update(rows)
    upload = upload_file(stack, write_csv(tmp_path / "ratings_update.csv", header, changed + new))
    run = wait_for_upload(api, lambda: batches_holding(stack, upload))

    assert run["state"] == "success"
    assert movies_in_warehouse(stack) == 1004
    batch_id = batch_of(stack, upload["key"], upload["etag"])["batch_id"]
    history = query(
        stack, "select change_type, count(*) from movies.rating_history where batch_id = %s group by 1", (batch_id,)
    )
    assert dict(history) == {"changed": 10, "new": 5}
    title, rating = changed[0]["Series_Title"], changed[0]["IMDB_Rating"]
    assert query(stack, "select imdb_rating::text from movies.imdb_movies where series_title = %s", (title,)) == [
        (rating,)
    ]


def test_batch_failing_the_quality_gate_changes_nothing_and_names_the_checks(stack, api, tmp_path):
    header, rows = seed_rows()
    # Valid rows for the Glue job, but the batch as a whole has no meta scores: the contract's limit fails.
    no_meta = [{**row, "Series_Title": f"{row['Series_Title']} Redux", "Meta_score": ""} for row in rows[:20]]
    movies_before = query(stack, "select movie_id, imdb_rating, no_of_votes from movies.imdb_movies order by 1")
    upload = upload_file(stack, write_csv(tmp_path / "no_meta_scores.csv", header, no_meta))
    run = wait_for_upload(api, lambda: batches_holding(stack, upload))

    assert run["state"] == "failed"
    assert query(stack, "select movie_id, imdb_rating, no_of_votes from movies.imdb_movies order by 1") == movies_before
    ledger = batch_of(stack, upload["key"], upload["etag"])
    assert ledger["status"] == "quality_failed"
    failed_checks = query(
        stack,
        "select check_name from movies.dq_results where batch_id = %s and outcome = 'fail'",
        (ledger["batch_id"],),
    )
    assert failed_checks and any("meta_score" in name for (name,) in failed_checks)
    (alert,) = notifications_matching(stack, "quality_gate")
    assert "FAILED" in alert["subject"]
    assert "meta_score" in alert["message"]


def test_backfill_loads_each_day_once(stack, api, tmp_path):
    header, rows = seed_rows()
    s3 = aws_client("s3", stack["aws_endpoint_url"], stack["aws_region"])
    days = ["2026-11-01", "2026-11-02", "2026-11-03"]
    # Files whose events were missed: notifications are off while they land.
    s3.put_bucket_notification_configuration(Bucket=stack["bucket"], NotificationConfiguration={})
    keys = []
    try:
        for number, day in enumerate(days):
            day_rows = [
                {**row, "Series_Title": f"{row['Series_Title']} Day {number + 1}"}
                for row in complete_rows(rows)[number * 4 : number * 4 + 4]
            ]
            path = write_csv(tmp_path / f"movies_{day}.csv", header, day_rows)
            keys.append(upload_file(stack, path, key=f"{stack['raw_prefix']}dt={day}/{path.name}")["key"])
    finally:
        s3.put_bucket_notification_configuration(
            Bucket=stack["bucket"], NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
    movies_before = movies_in_warehouse(stack)

    # Runs at 2026-11-02, -03 and -04 00:00 UTC; each covers the day before.
    started = datetime.now(UTC)
    create_backfill("2026-11-02", "2026-11-04")
    runs = wait_for_backfill_runs(api, started, expected=3)

    assert [run["state"] for run in runs] == ["success"] * 3
    assert movies_in_warehouse(stack) == movies_before + 12
    for key in keys:
        assert [row["status"] for row in ledger_rows(stack, stack["bucket"], key)] == ["loaded"], key


def create_backfill(from_date: str, to_date: str) -> None:
    """`airflow backfill create` through the stack's CLI wrapper, as the README tells users to run it."""
    command = [
        sys.executable, "-m", "local_stack", "airflow", "backfill", "create", "--dag-id", DAG_ID,
        "--from-date", from_date, "--to-date", to_date, "--max-active-runs", "1",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]


def wait_for_backfill_runs(api: AirflowApi, after: datetime, expected: int, timeout: float = 900) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [
            run
            for run in api.get(f"/api/v2/dags/{DAG_ID}/dagRuns", limit=100, order_by="logical_date")["dag_runs"]
            if run["run_type"] == "backfill" and datetime.fromisoformat(run["queued_at"]) >= after
        ]
        if len(runs) == expected and all(run["state"] in ("success", "failed") for run in runs):
            return runs
        time.sleep(5)
    raise AssertionError(f"backfill runs did not finish: {runs}")


def test_a_run_triggered_without_a_logical_date_succeeds(stack, api):
    # Before: `airflow dags trigger` (and the REST API's default) crashed resolve_batch with
    # KeyError: 'data_interval_start'.
    run = api.post(f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None})
    finished = wait_for_run_id(api, run["dag_run_id"])
    assert finished["state"] == "success"


def test_a_burst_of_uploads_while_a_run_is_busy_all_load_promptly(stack, api, tmp_path):
    header, rows = seed_rows()
    files = []
    for number in range(4):
        burst_rows = [{**row, "Series_Title": f"{row['Series_Title']} Burst {number}"}
                      for row in complete_rows(rows)[20 + number * 3 : 23 + number * 3]]  # fmt: skip
        files.append(write_csv(tmp_path / f"burst_{number}.csv", header, burst_rows))
    first = upload_file(stack, files[0])
    wait_for_a_running_run(api, first["uploaded_at"])
    # Airflow drops asset events posted while the DAG is at max_active_runs (apache/airflow#56050).
    uploads = [first]
    for path in files[1:]:
        time.sleep(5)
        uploads.append(upload_file(stack, path))

    deadline = time.monotonic() + 300  # every file loaded within 5 minutes of the last upload
    pending = uploads
    while pending and time.monotonic() < deadline:
        time.sleep(5)
        pending = [upload for upload in uploads if not is_loaded(stack, upload)]
    assert not pending, f"not loaded 5 minutes after the burst: {[u['key'] for u in pending]}"


def is_loaded(stack: dict, upload: dict) -> bool:
    rows = ledger_rows(stack, upload["bucket"], upload["key"])
    return any(row["status"] == "loaded" and row["etag"] == upload["etag"] for row in rows)


def wait_for_a_running_run(api: AirflowApi, after: datetime, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns", run_after_gte=after.isoformat(), state="running")["dag_runs"]
        if runs:
            return runs[0]
        time.sleep(1)
    raise AssertionError("no run started for the upload")


def wait_for_run_id(api: AirflowApi, run_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}")
        if run["state"] in ("success", "failed"):
            return run
        time.sleep(3)
    raise AssertionError(f"run {run_id} did not finish")
