"""`make demo`: upload the seed file, wait for the DAG run it triggers, print what happened.

The pieces (AirflowApi, upload_file, wait_for_run, read_notifications, ledger_rows) are reused by
the end-to-end tests.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from local_stack.processes import StackError
from local_stack.settings import DAG_ID, REPO_ROOT

SEED_FILE = REPO_ROOT / "data" / "imdb_movies_rating.csv"
RUN_TIMEOUT_SECONDS = 600
FINAL_RUN_STATES = {"success", "failed"}


class AirflowApi:
    """Airflow's REST API (v2) with a token from the simple auth manager's login."""

    def __init__(self, url: str, user: str, password: str):
        self.url = url.rstrip("/")
        self._credentials = {"username": user, "password": password}
        self._token: str | None = None

    @classmethod
    def for_stack(cls, stack: dict) -> AirflowApi:
        return cls(stack["airflow_url"], stack["airflow_user"], stack["airflow_password"])

    def _send(self, method: str, path: str, body: dict | None = None, authorised: bool = True) -> dict:
        headers = {"Content-Type": "application/json"}
        if authorised:
            headers["Authorization"] = f"Bearer {self._access_token()}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def _access_token(self) -> str:
        if self._token is None:
            self._token = self._send("POST", "/auth/token", self._credentials, authorised=False)["access_token"]
        return self._token

    def get(self, path: str, **params) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._send("GET", path + query)

    def patch(self, path: str, body: dict) -> dict:
        return self._send("PATCH", path, body)


def wait_for_dag(api: AirflowApi, dag_id: str = DAG_ID, timeout: float = 120) -> None:
    """Wait until the DAG is parsed without import errors, and make sure it is not paused."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            dag = api.get(f"/api/v2/dags/{dag_id}")
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            errors = api.get("/api/v2/importErrors")["import_errors"]
            if errors:
                first = errors[0]
                raise StackError(f"the DAG files do not import:\n{first['filename']}: {first['stack_trace']}") from None
            time.sleep(2)
            continue
        if dag["is_paused"]:
            api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
        return
    raise StackError(f"Airflow has not parsed the DAG {dag_id} after {timeout:.0f} s: see .local/logs/airflow.log")


def upload_file(stack: dict, path: Path = SEED_FILE, key: str | None = None) -> dict:
    """Put a file in the raw prefix, as a producer would; returns bucket, key, etag and time."""
    from local_stack.provision import aws_client

    key = key or stack["raw_prefix"] + path.name
    s3 = aws_client("s3", stack["aws_endpoint_url"], stack["aws_region"])
    uploaded_at = datetime.now(UTC)
    response = s3.put_object(Bucket=stack["bucket"], Key=key, Body=path.read_bytes())
    return {"bucket": stack["bucket"], "key": key, "etag": response["ETag"].strip('"'), "uploaded_at": uploaded_at}


def wait_for_run(api: AirflowApi, after: datetime, dag_id: str = DAG_ID,
                 timeout: float = RUN_TIMEOUT_SECONDS) -> dict:
    """The first asset-triggered run of the DAG queued after `after`, once it has finished."""
    deadline = time.monotonic() + timeout
    run = None
    while time.monotonic() < deadline:
        runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns", order_by="run_after", limit=100,
                       run_after_gte=after.isoformat())["dag_runs"]
        triggered = [candidate for candidate in runs if candidate["run_type"] == "asset_triggered"]
        run = triggered[0] if triggered else None
        if run and run["state"] in FINAL_RUN_STATES:
            return run
        time.sleep(3)
    found = f"its run {run['dag_run_id']} is still {run['state']}" if run else "no run was triggered"
    raise StackError(f"The DAG {dag_id} did not finish a run for the upload within {timeout:.0f} s: {found}. "
                     f"Look at the run in the Airflow UI ({api.url}) and at .local/logs/airflow.log.")


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
    import psycopg2.extras

    connection = psycopg2.connect(stack["warehouse_dsn"])
    try:
        with connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute(
                "select batch_id, etag, status, rows_in, rows_loaded, rows_quarantined, reason"
                " from movies.load_ledger where bucket = %s and object_key = %s order by updated_at desc",
                (bucket, key),
            )
            return [dict(row) for row in cursor.fetchall()]
    finally:
        connection.close()


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
    wait_for_dag(api)
    read_notifications(stack, wait_seconds=0)  # start from a clean observer queue
    upload = upload_file(stack)
    say(f"uploaded {SEED_FILE.name} to s3://{upload['bucket']}/{upload['key']}; waiting for the DAG run ...")
    run = wait_for_run(api, upload["uploaded_at"])
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
