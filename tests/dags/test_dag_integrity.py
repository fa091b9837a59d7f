"""DAG integrity: the files import cleanly, define what operators need, parse fast and do no work at import.

Each check runs in a fresh interpreter, as the DAG processor would, so no test sees another's imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.dags.conftest import DAGS

DAG_FILE = DAGS / "imdb_quality_ingest.py"


def run_python(code: str, env: dict[str, str]) -> dict:
    """Run a script in a fresh interpreter; it prints one JSON document as its last line."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def json_output(stdout: str):
    """The JSON document in a CLI's output (the CLI may print warnings before it)."""
    return json.loads(next(line for line in reversed(stdout.splitlines()) if line.startswith(("[", "{"))))


def test_no_import_errors(dag_facts):
    assert dag_facts["import_errors"] == {}


def test_the_dags_folder_holds_the_one_dag_and_nothing_else_is_parsed(dag_facts):
    """The DAG processor's view of the folder (`.airflowignore` applied): one file, one DAG."""
    assert dag_facts["parsed_files"] == {"imdb_quality_ingest.py": 1}
    assert dag_facts["dag_ids"] == ["imdb_quality_ingest"]


def test_parse_time_under_half_a_second(dag_facts):
    """Parse time as the DAG processor sees it: Airflow modules the file names are pre-imported
    (`[dag_processor] parsing_pre_import_modules`, on by default), then the folder is parsed."""
    seconds = dag_facts["parse_seconds"]["imdb_quality_ingest.py"]
    assert seconds < 0.5, f"parsing took {seconds:.3f} s"


@pytest.fixture(scope="module")
def dag_facts(airflow_env) -> dict:
    return run_python(
        f"""
        import importlib, json, os
        from airflow.utils.file import iter_airflow_imports
        for module in iter_airflow_imports({str(DAG_FILE)!r}):
            importlib.import_module(module)
        from airflow.dag_processing.dagbag import BundleDagBag
        # The whole folder, as the DAG processor lists it.
        bag = BundleDagBag({str(DAGS)!r}, bundle_path={str(DAGS)!r}, bundle_name="dags-folder")
        dag = bag.dags["imdb_quality_ingest"]
        timetable = dag.timetable
        glue = dag.get_task("clean_validate_quarantine")
        print(json.dumps(default=str, obj={{
            "import_errors": dict(bag.import_errors),
            "parsed_files": {{stat.file.lstrip("/"): stat.dag_num for stat in bag.dagbag_stats}},
            "dag_ids": sorted(bag.dag_ids),
            "parse_seconds": {{stat.file.lstrip("/"): stat.duration.total_seconds()
                               for stat in bag.dagbag_stats}},
            "doc_md": dag.doc_md,
            "tags": sorted(dag.tags),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "dagrun_timeout": dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None,
            "glue": {{
                "create_job_kwargs": glue.create_job_kwargs,
                "update_config": glue.update_config,
                "waiter_delay": glue.waiter_delay,
                "waiter_budget": glue.waiter_delay * glue.waiter_max_attempts,
                "stop_job_run_on_kill": glue.stop_job_run_on_kill,
                "verbose": glue.verbose,
            }},
            "timetable": type(timetable).__name__,
            "time_part": type(timetable.timetable).__name__,
            "assets": [asset.uri for asset in timetable.asset_condition.objects],
            "watchers": [w.trigger.__class__.__name__ for asset in timetable.asset_condition.objects
                         for w in asset.watchers],
            "tasks": {{
                t.task_id: {{
                    "type": type(t).__name__,
                    "owner": t.owner,
                    "retries": t.retries,
                    "deferrable": getattr(t, "deferrable", None),
                    "outlets": [getattr(o, "name", None) for o in t.outlets],
                    "on_failure_callback": bool(t.on_failure_callback),
                    "trigger_rule": getattr(t.trigger_rule, "value", t.trigger_rule),
                    "upstream": sorted(t.upstream_task_ids),
                    "execution_timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                }} for t in dag.tasks
            }},
        }}))
        """,
        airflow_env,
    )


def test_required_dag_fields(dag_facts):
    assert dag_facts["doc_md"] and "IMDb" in dag_facts["doc_md"]
    assert "imdb" in dag_facts["tags"]
    assert dag_facts["catchup"] is False
    assert dag_facts["max_active_runs"] == 1
    for task_id, task in dag_facts["tasks"].items():
        assert task["owner"] == "data-engineering", task_id
        if task_id != "pipeline_failed":  # it only re-states a failure another task has alerted on
            assert task["on_failure_callback"], f"{task_id} sends no failure notification"


def test_schedule_is_asset_or_daily_time(dag_facts):
    assert dag_facts["timetable"] == "AssetOrTimeSchedule"
    assert dag_facts["time_part"] == "CronTriggerTimetable"
    assert dag_facts["assets"] == ["s3://imdb-quality-test/raw"]
    assert dag_facts["watchers"] == ["MessageQueueTrigger"]


def test_pipeline_parts_and_order(dag_facts):
    tasks = dag_facts["tasks"]
    expected_types = {
        "wait_for_objects": "S3KeySensor",
        "clean_validate_quarantine": "GlueJobOperator",
        "merge_imdb_movies": "SQLWithCteInputsOperator",  # SQLExecuteQueryOperator + CTE-read inputs
        "refresh_marts": "SQLExecuteQueryOperator",
        "notify_success": "SnsPublishOperator",
    }
    for task_id, operator in expected_types.items():
        assert tasks[task_id]["type"] == operator
    assert tasks["wait_for_objects"]["deferrable"] is True
    assert tasks["clean_validate_quarantine"]["deferrable"] is True
    assert "quality_gate" in tasks["merge_imdb_movies"]["upstream"]
    assert "load_staging" in tasks["quality_gate"]["upstream"]
    assert "clean_validate_quarantine" in tasks["load_staging"]["upstream"]
    # The code upload runs beside the sensor, only for a batch that has files; the job waits for both.
    assert "resolve_batch" in tasks["publish_glue_code"]["upstream"]
    assert {"wait_for_objects", "publish_glue_code"} <= set(tasks["clean_validate_quarantine"]["upstream"])
    # One asset event per merged batch, carrying its figures, once the merged table is verified.
    assert tasks["publish_batch_figures"]["outlets"] == ["warehouse.movies.imdb_movies"]
    assert tasks["merge_imdb_movies"]["outlets"] == []
    assert "verify_merged_table" in tasks["publish_batch_figures"]["upstream"]


def test_the_success_notice_waits_for_the_marts_and_the_optional_refreshes(dag_facts):
    """The "configured?" checks run beside the merged table's verification and may skip the refreshes
    before the marts ran, so the marts are a direct upstream of the notification, and skipped
    refreshes do not hold it back."""
    tasks = dag_facts["tasks"]
    assert set(tasks["notify_success"]["upstream"]) == {
        "success_notice", "refresh_marts", "add_athena_partition", "refresh_quicksight_spice"}
    assert tasks["notify_success"]["trigger_rule"] == "none_failed_min_one_success"
    for refresh, check in (("add_athena_partition", "athena_configured"),
                           ("refresh_quicksight_spice", "quicksight_configured")):
        assert tasks[check]["upstream"] == ["merge_imdb_movies"]
        assert "refresh_marts" in tasks[refresh]["upstream"]
        # A skipping check overwrites its direct downstream's upstream_failed: every task between it
        # and the refresh is skipped with it, so none can fail unnoticed behind it.
        between = set(tasks[refresh]["upstream"]) - {"refresh_marts", "resolve_batch"}
        assert between and all(
            task_id == check or set(tasks[task_id]["upstream"]) - {"resolve_batch"} == {check} for task_id in between)
    assert "verify_merged_table" in tasks["refresh_marts"]["upstream"]


def test_nothing_can_block_later_runs_for_ever(dag_facts):
    """Every task and the run have a time limit; the Glue job's own settings survive update_config."""
    assert 0 < dag_facts["dagrun_timeout"] <= 6 * 3600
    for task_id, task in dag_facts["tasks"].items():
        assert task["execution_timeout"], f"{task_id} has no execution_timeout"
    glue = dag_facts["glue"]
    kwargs = glue["create_job_kwargs"]
    # update_config=True replaces the job definition with these: timeout, concurrency and logging live here.
    assert glue["update_config"] is True
    assert kwargs["ExecutionProperty"]["MaxConcurrentRuns"] >= 1
    assert kwargs["DefaultArguments"]["--enable-continuous-cloudwatch-log"] == "true"
    # Glue stops the run before the operator stops waiting, and the task's limit is longer than both.
    assert 0 < kwargs["Timeout"] * 60 < glue["waiter_budget"]
    assert dag_facts["tasks"]["clean_validate_quarantine"]["execution_timeout"] > glue["waiter_budget"]
    assert glue["stop_job_run_on_kill"] is True
    # No imdb_glue_poll_seconds in this environment: AWS's default.
    assert glue["waiter_delay"] == 10


def test_the_glue_jobs_own_log_goes_to_the_task_log(dag_facts):
    assert dag_facts["glue"]["verbose"] is True


def test_a_failed_pipeline_task_fails_the_run_although_the_follow_up_tasks_run(dag_facts):
    """The follow-up tasks run whatever happened; the run still fails when the pipeline did."""
    tasks = dag_facts["tasks"]
    assert tasks["pipeline_failed"]["trigger_rule"] == "one_failed"
    assert tasks["pipeline_failed"]["upstream"] == ["notify_success"]
    assert not tasks["pipeline_failed"]["on_failure_callback"]


def test_files_landing_during_a_run_get_a_follow_up_run(dag_facts):
    tasks = dag_facts["tasks"]
    assert tasks["trigger_follow_up_run"]["type"] == "TriggerDagRunOperator"
    assert "files_waiting" in tasks["trigger_follow_up_run"]["upstream"]
    assert "notify_success" in tasks["files_waiting"]["upstream"]


def test_no_network_or_metadata_db_at_import(airflow_env, tmp_path):
    """Importing the DAG file opens no socket, no database and runs no subprocess."""
    env = {**airflow_env, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/must-not-exist.db"}
    result = run_python(
        f"""
        import importlib, json, sys
        from airflow.utils.file import iter_airflow_imports
        sys.path.insert(0, {str(DAGS)!r})
        # Libraries may do their own set-up when first imported; the file's own code is under test.
        for module in iter_airflow_imports({str(DAG_FILE)!r}):
            importlib.import_module(module)
        # Cron timetables import croniter lazily; on import it runs `file` to learn the word size.
        importlib.import_module("croniter")
        watched = (
            "socket.connect", "socket.getaddrinfo", "sqlite3.connect", "subprocess.Popen", "urllib.Request"
        )
        seen = []
        sys.addaudithook(lambda event, args: seen.append(event) if event in watched else None)
        importlib.import_module("imdb_quality_ingest")
        print(json.dumps({{"events": seen}}))
        """,
        env,
    )
    assert result["events"] == []
    assert not (tmp_path / "must-not-exist.db").exists()
