"""Airflow's REST API (v2) as the demo and the end-to-end tests use it: login, reads that survive a busy
server, and waits for the DAG and its runs."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

from imdb_pipeline.config import DAG_ID

from local_stack.processes import StackError

RUN_TIMEOUT_SECONDS = 600
FINAL_RUN_STATES = {"success", "failed"}
READ_ATTEMPTS = 3


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
        # Generous: on a loaded 2-core machine the API server may take tens of seconds to answer.
        with urllib.request.urlopen(request, timeout=90) as response:
            return json.load(response)

    def _access_token(self) -> str:
        if self._token is None:
            self._token = self._send("POST", "/auth/token", self._credentials, authorised=False)["access_token"]
        return self._token

    def get(self, path: str, **params) -> dict:
        """A read; repeated when the server is too busy to answer in time (a loaded laptop's API server)."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                return self._send("GET", path + query)
            except (TimeoutError, urllib.error.URLError) as error:
                if isinstance(error, urllib.error.HTTPError) or attempt == READ_ATTEMPTS:
                    raise

    def patch(self, path: str, body: dict) -> dict:
        return self._send("PATCH", path, body)

    def post(self, path: str, body: dict) -> dict:
        return self._send("POST", path, body)


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


def wait_for_upload(api: AirflowApi, batches_holding_upload, dag_id: str = DAG_ID,
                    timeout: float = RUN_TIMEOUT_SECONDS, progress=None, poll_seconds: float = 3) -> dict:
    """The DAG run that took an uploaded file, once that run has finished.

    An asset event only wakes the DAG up: the run that takes a file may be the event's own, a sweep
    or a follow-up run, so the file's batch tells: `batches_holding_upload()` gives the batch ids of
    the ledger rows of the uploaded version (newest first), and a batch id starts with its run's
    `run_after`. With `progress` (local_stack.demo.RunProgress), each task is told as it finishes.
    """
    started = time.monotonic()
    deadline = started + timeout
    run = None
    while time.monotonic() < deadline:
        runs = [found for batch_id in batches_holding_upload() if (found := run_of_batch(api, batch_id, dag_id))]
        run = runs[0] if runs else None
        if progress is not None:
            progress.report(run, time.monotonic() - started)
        if run and run["state"] in FINAL_RUN_STATES:
            return run
        time.sleep(poll_seconds)
    found = f"its run {run['dag_run_id']} is still {run['state']}" if run else "no run took it"
    raise StackError(f"The DAG {dag_id} did not finish a run for the upload within {timeout:.0f} s: {found}. "
                     f"Look at the runs in the Airflow UI ({api.url}) and at .local/logs/airflow.log.")


def run_of_batch(api: AirflowApi, batch_id: str, dag_id: str = DAG_ID) -> dict | None:
    """The run whose batch `batch_id` is (the id starts with the run's run_after, to the second)."""
    run_after = datetime.strptime(batch_id.split("-", 1)[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns", run_after_gte=run_after.isoformat(),
                   run_after_lte=(run_after + timedelta(seconds=1)).isoformat(), limit=10)["dag_runs"]
    return runs[0] if runs else None
