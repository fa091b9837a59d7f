"""Files from upload to the SNS summary through the local stack (emulator, PostgreSQL, Airflow), and
where each run's time goes, task by task.

A stack of its own is started (fresh state under the benchmark's tmp dir); then the seed (1,000
rows) four times, then the generated 1M-row file (benchmarks.glue_job.movies_file), are uploaded one
after the other, each as a producer would once the DAG is idle (a fresh stack first runs
yesterday's daily sweep), and the run that takes each file is waited for. The stack's first Glue
run starts its Spark driver cold; later ones find a warm driver (local_stack.glue_runner), so the
median of the seed's later uploads is the figure a running stack gives. Upload to notified is the
SNS message's timestamp minus the moment the upload began.

Goals (issue 13): the 1M-row file notified within 60 s, the seed within 30 s; staging load and
quality gate on 1M rows each within 10 s. Reference, measured in the same run: the Glue job's own
script on the same file, cold, as a user runs it (what the transform alone costs), so the ratio is
what the rest of the pipeline adds.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.glue_job import figure, glue_job_seconds, movies_file

WARM_SEED_UPLOADS = 3
TASKS = ("resolve_batch", "clean_validate_quarantine", "load_staging", "quality_gate", "merge_imdb_movies",
         "refresh_marts", "notify_success")  # fmt: skip


def _task_seconds(api, run: dict) -> dict[str, float]:
    import urllib.parse

    run_path = f"/api/v2/dags/{run['dag_id']}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
    seconds = {}
    for instance in api.get(f"{run_path}/taskInstances", limit=100)["task_instances"]:
        if instance["task_id"] in TASKS and instance.get("start_date") and instance.get("end_date"):
            started, ended = (datetime.fromisoformat(instance[name]) for name in ("start_date", "end_date"))
            seconds[instance["task_id"]] = round((ended - started).total_seconds(), 2)
    return seconds


def _wait_until_idle(api, timeout: float = 900) -> None:
    """Until the DAG has no queued or running run: a fresh stack first runs the daily sweep of
    yesterday, and an upload meanwhile would wait for it (max_active_runs)."""
    from imdb_pipeline.config import DAG_ID

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns", order_by="-run_after", limit=20)["dag_runs"]
        if not any(run["state"] in ("queued", "running") for run in runs):
            return
        time.sleep(2)
    raise TimeoutError(f"the DAG {DAG_ID} still had a run in progress after {timeout:.0f} s")


def _through_the_stack(stack: dict, api, path: Path, key: str) -> dict:
    """Upload `path` as `key` once the DAG is idle, wait for the run that takes it; its times."""
    from local_stack.airflow_api import wait_for_upload
    from local_stack.demo import batches_holding, read_notifications, upload_file

    _wait_until_idle(api)
    read_notifications(stack, wait_seconds=0)  # start from an empty observer queue
    upload = upload_file(stack, path, key=key)
    run = wait_for_upload(api, lambda: batches_holding(stack, upload), poll_seconds=1)
    if run["state"] != "success":
        raise RuntimeError(f"the run {run['dag_run_id']} that took {key} ended {run['state']}")
    (batch_id,) = batches_holding(stack, upload)[:1]
    notices = [n for n in read_notifications(stack) if batch_id in n["message"]]
    if not notices:
        raise RuntimeError(f"no SNS notification names the batch {batch_id} of {key}")
    notified_at = datetime.fromisoformat(notices[0]["timestamp"].replace("Z", "+00:00"))
    return {"upload_to_notified_s": (notified_at - upload["uploaded_at"]).total_seconds(),
            "tasks_s": _task_seconds(api, run)}  # fmt: skip


def run(tmp_dir) -> dict:
    tmp_dir = Path(tmp_dir)
    from local_stack.airflow_api import AirflowApi
    from local_stack.demo import SEED_FILE
    from local_stack.stack import isolated_stack

    million = movies_file(1_000_000)
    day = datetime.now(UTC).date().isoformat()
    with isolated_stack(tmp_dir / "stack", say=lambda _: None) as stack:
        api = AirflowApi.for_stack(stack)
        first_seed = _through_the_stack(stack, api, SEED_FILE, f"{stack['raw_prefix']}dt={day}/seed.csv")
        warm_seeds = [_through_the_stack(stack, api, SEED_FILE, f"{stack['raw_prefix']}dt={day}/seed-again-{n}.csv")
                      for n in range(WARM_SEED_UPLOADS)]  # fmt: skip
        big = _through_the_stack(stack, api, million, f"{stack['raw_prefix']}dt={day}/movies-1m.csv")
    # The median run: one upload's figure swings by seconds with what else the machine does.
    seed = sorted(warm_seeds, key=lambda upload: upload["upload_to_notified_s"])[WARM_SEED_UPLOADS // 2]
    shutil.rmtree(tmp_dir / "stack", ignore_errors=True)
    # The transform alone, outside the stack, on the same files.
    job_seed = glue_job_seconds([SEED_FILE], tmp_dir / "job-seed")
    job_1m = glue_job_seconds([million], tmp_dir / "job-1m")
    figures = [
        figure("seed, upload to SNS summary, the stack's first Glue run", first_seed["upload_to_notified_s"],
               "Glue job script, seed, cold", job_seed, None),
        figure(f"seed, upload to SNS summary, warm Glue driver (median of {WARM_SEED_UPLOADS})",
               seed["upload_to_notified_s"],
               "Glue job script, seed, cold", job_seed, None),
        figure("1M rows, upload to SNS summary", big["upload_to_notified_s"], "Glue job script, 1M rows, cold",
               job_1m, None),
    ]  # fmt: skip
    goals = {
        "seed_notified_within_30s": seed["upload_to_notified_s"] <= 30,
        "1m_notified_within_60s": big["upload_to_notified_s"] <= 60,
        "1m_staging_load_within_10s": big["tasks_s"].get("load_staging", float("inf")) <= 10,
        "1m_quality_gate_within_10s": big["tasks_s"].get("quality_gate", float("inf")) <= 10,
    }
    return {"figures": figures, "first_seed_tasks_s": first_seed["tasks_s"], "seed_tasks_s": seed["tasks_s"],
            "warm_seeds_upload_to_notified_s": [round(upload["upload_to_notified_s"], 1) for upload in warm_seeds],
            "1m_tasks_s": big["tasks_s"], "goals": goals}  # fmt: skip
