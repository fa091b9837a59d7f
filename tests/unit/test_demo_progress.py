"""`make demo`'s progress: each task of the watched run once, as it finishes, and the Glue job's own summary."""

from __future__ import annotations

import urllib.error

import pytest

from local_stack.airflow_api import wait_for_upload
from local_stack.demo import RunProgress, glue_summary_lines

RUN_ID = "asset_triggered__2026-11-26T07:00:00+00:00"
RUN_PATH = "/api/v2/dags/imdb_quality_ingest/dagRuns/asset_triggered__2026-11-26T07%3A00%3A00%2B00%3A00"
GLUE_LOG = """\
$ python movies_quality_ingestion.py --JOB_NAME imdb
26/11/26 07:01:02 WARN NativeCodeLoader: Unable to load native-hadoop library
2026-11-26 07:01:05,120 INFO movies_quality.job: read 1 file(s), 1000 rows
2026-11-26 07:01:05,300 WARNING movies_quality.job: rejected s3://b/raw/bad.csv: no header
2026-11-26 07:01:09,001 INFO movies_quality.job: batch b1: 1000 rows in, 990 valid, 10 quarantined, 1 files rejected
2026-11-26 07:01:09,500 INFO py4j.clientserver: Closing down clientserver connection
"""


def task(task_id: str, state: str, duration: float | None, end: str | None = None) -> dict:
    return {"task_id": task_id, "map_index": -1, "state": state, "duration": duration, "end_date": end}


class FakeLedger:
    """The upload's ledger rows: none until the run's resolve_batch records its batch."""

    def __init__(self):
        self.reads = 0

    def batches(self) -> list[str]:
        self.reads += 1
        return [] if self.reads == 1 else ["20261126T070000Z-1a2b3c4d"]


class FakeApi:
    """Airflow's REST API as the demo reads it: a run that appears, progresses and succeeds."""

    url = "http://127.0.0.1:8080"

    def __init__(self, glue_run_id: str | None = "jr_0123"):
        self.glue_run_id = glue_run_id
        self.run_polls = 0

    def get(self, path: str, **params) -> dict:
        if path == "/api/v2/dags/imdb_quality_ingest/dagRuns":
            # The batch id's time finds the run that took the upload.
            assert params["run_after_gte"] == "2026-11-26T07:00:00+00:00"
            self.run_polls += 1
            state = "success" if self.run_polls >= 3 else "running"
            return {"dag_runs": [{"dag_run_id": RUN_ID, "run_type": "asset_triggered", "state": state}]}
        if path == f"{RUN_PATH}/taskInstances":
            assert params == {"limit": 100}
            return {"task_instances": self._tasks()}
        if path == f"{RUN_PATH}/taskInstances/clean_validate_quarantine/xcomEntries/glue_job_run_id":
            if self.glue_run_id is None:
                raise urllib.error.HTTPError(self.url + path, 404, "Not Found", {}, None)
            return {"key": "glue_job_run_id", "value": self.glue_run_id}
        raise AssertionError(f"unexpected call {path}")

    def _tasks(self) -> list[dict]:
        tasks = [task("create_warehouse_tables", "success", 1.24, "07:00:02"),
                 task("resolve_batch", "success", 0.8, "07:00:03"),
                 task("clean_validate_quarantine", "running", None)]
        if self.run_polls >= 2:
            tasks[2] = task("clean_validate_quarantine", "success", 41.0, "07:01:10")
            tasks.append(task("athena_configured", "success", 0.2, "07:01:12"))
            tasks.append(task("add_athena_partition", "skipped", None, "07:01:12"))
        return tasks


def test_each_task_is_told_once_as_it_finishes_with_the_glue_summary(tmp_path):
    (tmp_path / "jr_0123").mkdir()
    (tmp_path / "jr_0123" / "run.log").write_text(GLUE_LOG)
    lines = []

    api = FakeApi()

    run = wait_for_upload(api, FakeLedger().batches, progress=RunProgress(api, lines.append, tmp_path),
                          poll_seconds=0)

    assert run["state"] == "success"
    assert [line.split()[:3] for line in lines] == [
        ["task", "create_warehouse_tables", "success"],
        ["task", "resolve_batch", "success"],
        ["task", "clean_validate_quarantine", "success"],
        ["glue:", "read", "1"],
        ["glue:", "WARNING", "rejected"],
        ["glue:", "batch", "b1:"],
        ["task", "athena_configured", "success"],
        ["task", "add_athena_partition", "skipped"],
    ]
    assert lines[0].endswith("   1.2 s")
    assert lines[2].endswith("  41.0 s")


def test_a_glue_task_without_a_job_run_says_so(tmp_path):
    lines = []
    api = FakeApi(glue_run_id=None)
    wait_for_upload(api, FakeLedger().batches, poll_seconds=0, progress=RunProgress(api, lines.append, tmp_path))
    assert "       (the Glue task recorded no job run id)" in lines


def test_the_wait_itself_is_told_every_so_often(tmp_path):
    lines = []
    progress = RunProgress(FakeApi(), lines.append, tmp_path, say_waiting_every=30)

    progress.report(None, waited=10)
    progress.report(None, waited=31)
    progress.report(None, waited=45)
    progress.report(None, waited=61)

    assert lines == ["  ... 31 s: waiting for the run the upload triggers",
                     "  ... 61 s: waiting for the run the upload triggers"]


def test_the_glue_summary_is_the_jobs_own_records():
    assert glue_summary_lines(GLUE_LOG) == [
        "read 1 file(s), 1000 rows",
        "WARNING rejected s3://b/raw/bad.csv: no header",
        "batch b1: 1000 rows in, 990 valid, 10 quarantined, 1 files rejected",
    ]


def test_a_read_the_busy_server_does_not_answer_in_time_is_repeated(monkeypatch):
    from local_stack.airflow_api import READ_ATTEMPTS, AirflowApi

    answers = [TimeoutError("timed out"), urllib.error.URLError(TimeoutError("timed out")), {"dag_id": "x"}]
    api = AirflowApi("http://127.0.0.1:1", "admin", "secret")
    monkeypatch.setattr(api, "_send", lambda method, path: _next(answers))
    assert api.get("/api/v2/dags/x") == {"dag_id": "x"}

    answers[:] = [TimeoutError("timed out")] * READ_ATTEMPTS
    with pytest.raises(TimeoutError):
        api.get("/api/v2/dags/x")
    answers[:] = [urllib.error.HTTPError("http://x", 404, "Not Found", {}, None)]
    with pytest.raises(urllib.error.HTTPError):
        api.get("/api/v2/dags/x")


def _next(answers: list):
    answer = answers.pop(0)
    if isinstance(answer, Exception):
        raise answer
    return answer
