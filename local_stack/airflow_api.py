"""Airflow's REST API (v2) as the demo and the end-to-end tests use it: login, DAG and run waits."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

from imdb_pipeline.config import DAG_ID

from local_stack.processes import StackError

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
