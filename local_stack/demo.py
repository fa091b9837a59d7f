"""`make demo`: upload the seed file, wait for the DAG run it triggers, print what happened.

The pieces (upload_file, read_notifications, ledger_rows) are reused by the end-to-end tests; the
Airflow API client is local_stack.airflow_api.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from imdb_pipeline import ledger
from imdb_pipeline.config import DAG_ID

from local_stack.airflow_api import RUN_TIMEOUT_SECONDS, AirflowApi, wait_for_dag, wait_for_upload
from local_stack.settings import REPO_ROOT, local_dir

SEED_FILE = REPO_ROOT / "data" / "imdb_movies_rating.csv"
FINAL_TASK_STATES = {"success", "failed", "skipped", "upstream_failed", "removed"}
GLUE_TASK_ID = "clean_validate_quarantine"


def upload_file(stack: dict, path: Path = SEED_FILE, key: str | None = None) -> dict:
    """Put a file in the raw prefix, as a producer would; returns bucket, key, etag, time and the
    batches that held the key before (so that a re-delivery's own batch can be told apart)."""
    from local_stack.provision import aws_client

    key = key or stack["raw_prefix"] + path.name
    earlier = {row["batch_id"] for row in ledger_rows(stack, stack["bucket"], key)}
    s3 = aws_client("s3", stack["aws_endpoint_url"], stack["aws_region"])
    uploaded_at = datetime.now(UTC)
    response = s3.put_object(Bucket=stack["bucket"], Key=key, Body=path.read_bytes())
    return {"bucket": stack["bucket"], "key": key, "etag": response["ETag"].strip('"'), "uploaded_at": uploaded_at,
            "earlier_batches": earlier}  # fmt: skip


class RunProgress:
    """Tells each task of a DAG run once it has finished (state, seconds), and after the Glue task the
    Glue job's own summary lines from its run log (`<glue_runs_dir>/<job run id>/run.log`)."""

    def __init__(self, api: AirflowApi, say, glue_runs_dir: Path, dag_id: str = DAG_ID,
                 say_waiting_every: float = 30):
        self.api, self.say, self.glue_runs_dir, self.dag_id = api, say, glue_runs_dir, dag_id
        self.say_waiting_every = say_waiting_every
        self._told: set[tuple[str, int]] = set()
        self._next_wait_report = say_waiting_every

    def report(self, run: dict | None, waited: float) -> None:
        running = []
        if run is not None:
            run_path = f"/api/v2/dags/{self.dag_id}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
            instances = self.api.get(f"{run_path}/taskInstances", limit=100)["task_instances"]
            finished = [ti for ti in instances if ti["state"] in FINAL_TASK_STATES
                        and (ti["task_id"], ti.get("map_index", -1)) not in self._told]
            # A task skipped by its upstream short-circuit ends a moment before that upstream does.
            for ti in sorted(finished, key=lambda ti: (ti["state"] == "skipped", ti.get("end_date") or "")):
                self._told.add((ti["task_id"], ti.get("map_index", -1)))
                self.say(f"  task {ti['task_id']:<28} {ti['state']:<16} {ti.get('duration') or 0:7.1f} s")
                if ti["task_id"] == GLUE_TASK_ID:
                    self._tell_glue_summary(run_path)
            running = [ti["task_id"] for ti in instances if ti["state"] in ("running", "deferred", "up_for_retry")]
        if waited >= self._next_wait_report:
            self._next_wait_report += self.say_waiting_every
            what = f"running {', '.join(running)}" if running else (
                "waiting for the next task" if run else "waiting for the run the upload triggers")
            self.say(f"  ... {waited:.0f} s: {what}")

    def _tell_glue_summary(self, run_path: str) -> None:
        try:
            entry = self.api.get(f"{run_path}/taskInstances/{GLUE_TASK_ID}/xcomEntries/glue_job_run_id")
        except urllib.error.HTTPError:
            self.say("       (the Glue task recorded no job run id)")
            return
        job_run_id = str(entry["value"]).strip('"')
        log_path = self.glue_runs_dir / job_run_id / "run.log"
        if not log_path.exists():
            self.say(f"       (no Glue run log at {log_path})")
            return
        for line in glue_summary_lines(log_path.read_text(errors="replace")):
            self.say(f"       glue: {line}")


# The Glue job's own log records (`%(asctime)s %(levelname)s %(name)s: %(message)s`, loggers under
# movies_quality), without Spark's lines.
_GLUE_JOB_RECORD = re.compile(r"^\S+ \S+ (INFO|WARNING|ERROR|CRITICAL) movies_quality[\w.]*: (.*)$")


def glue_summary_lines(log_text: str) -> list[str]:
    """What the Glue job itself said: read, rejected, wrote."""
    records = (_GLUE_JOB_RECORD.match(line) for line in log_text.splitlines())
    return [message if level == "INFO" else f"{level} {message}"
            for level, message in (record.groups() for record in records if record)]


def read_notifications(stack: dict, wait_seconds: int = 2) -> list[dict]:
    """Notifications published to the pipeline topic since the last read (removed from the observer queue)."""
    from local_stack.provision import aws_client

    sqs = aws_client("sqs", stack["aws_endpoint_url"], stack["aws_region"])
    queue_url = stack["notifications_observer_queue_url"]
    notifications = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                          WaitTimeSeconds=wait_seconds).get("Messages", []):
        for message in messages:
            envelope = json.loads(message["Body"])
            notifications.append({"subject": envelope.get("Subject"), "message": envelope["Message"],
                                  "timestamp": envelope.get("Timestamp")})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return notifications


def ledger_rows(stack: dict, bucket: str, key: str) -> list[dict]:
    """The warehouse ledger's rows for one object, newest first."""
    import psycopg2

    connection = psycopg2.connect(stack["warehouse_dsn"])
    try:
        return ledger.rows_of_object(connection, bucket, key)
    finally:
        connection.close()


def batches_holding(stack: dict, upload: dict) -> list[str]:
    """The batch ids of the ledger rows of an uploaded object version since its upload, newest first."""
    return [row["batch_id"] for row in ledger_rows(stack, upload["bucket"], upload["key"])
            if row["etag"] == upload["etag"] and row["batch_id"] not in upload["earlier_batches"]]  # fmt: skip


def movies_in_warehouse(stack: dict) -> int:
    import psycopg2

    connection = psycopg2.connect(stack["warehouse_dsn"])
    try:
        with connection.cursor() as cursor:
            cursor.execute("select count(*) from movies.imdb_movies")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def run_demo(say=print) -> int:
    """up + upload + wait + summary; exit code 0 when the run succeeded."""
    from local_stack import stack as local_stack

    stack = local_stack.up(say=say)
    api = AirflowApi.for_stack(stack)
    say(f"waiting for Airflow to parse the DAG {DAG_ID} ...")
    wait_for_dag(api)
    read_notifications(stack, wait_seconds=0)  # start from a clean observer queue
    upload = upload_file(stack)
    say(f"uploaded {SEED_FILE.name} to s3://{upload['bucket']}/{upload['key']}; waiting for the DAG run "
        f"(up to {RUN_TIMEOUT_SECONDS} s; follow it in {stack['airflow_url']}) ...")
    run = wait_for_upload(api, lambda: batches_holding(stack, upload),
                          progress=RunProgress(api, say, local_dir() / "glue-runs"))
    ledger = [row for row in ledger_rows(stack, upload["bucket"], upload["key"]) if row["etag"] == upload["etag"]]
    received = read_notifications(stack)
    # Other runs (the daily sweep) may notify meanwhile: show this run's notifications, which name its
    # batch, its run id, or its run id as the run link spells it.
    own = {run["dag_run_id"], urllib.parse.quote(run["dag_run_id"], safe=""), *(row["batch_id"] for row in ledger)}
    notifications = [item for item in received if any(mark in item["message"] for mark in own)] or received
    say("")
    say(f"DAG run      {run['dag_run_id']}: {run['state']}")
    if ledger:
        row = ledger[0]
        say(f"batch        {row['batch_id']}: {row['status']}, {row['rows_in']} rows in, "
            f"{row['rows_loaded']} loaded, {row['rows_quarantined']} quarantined"
            + (f" ({row['reason']})" if row["reason"] else ""))
    else:
        say("batch        the ledger has no row for the uploaded object")
    say(f"warehouse    {movies_in_warehouse(stack)} movies in movies.imdb_movies ({stack['warehouse_dsn']})")
    for notification in notifications or [{"subject": None, "message": "(none received)"}]:
        say(f"notification {notification['subject'] or ''}\n{_indent(notification['message'])}")
    say(f"Airflow UI   {stack['airflow_url']}  (user {stack['airflow_user']}, "
        f"password {stack['airflow_password']})")
    say(f"quality view {quality_view_url(stack['airflow_url'], run['dag_run_id'])}  (this run's batch; "
        "all batches under Browse > IMDb quality)")
    say("stop with    make down")
    return 0 if run["state"] == "success" else 1


def quality_view_url(airflow_url: str, run_id: str, dag_id: str = DAG_ID) -> str:
    """The "IMDb batch" tab (plugins/imdb_quality_plugin.py) of the run in the Airflow UI.

    Run ids keep their ':' and '+' (asset_triggered__2026-11-26T08:06:49+00:00_x): the form the browser test opens.
    """
    return f"{airflow_url}/dags/{dag_id}/runs/{urllib.parse.quote(run_id, safe=':+')}/plugin/imdb-batch"


def _indent(text: str) -> str:
    return "\n".join("             " + line for line in text.splitlines())
