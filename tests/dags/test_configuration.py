"""Configuration as Airflow sees it: the DAG parses without any setting, and the check reads what a task reads.

One fresh interpreter for both (each costs seconds of Airflow imports): parse with no settings at all,
then set some in the environment, as a deployment would, and run the check a task runs.
"""

from __future__ import annotations

import json

import pytest
from imdb_pipeline.config import NOT_SET

from tests.dags.conftest import DAGS
from tests.dags.test_dag_integrity import run_python

DAG_FILE = DAGS / "imdb_quality_ingest.py"
DEPLOYED = {
    "AIRFLOW_VAR_IMDB_BUCKET": "imdb-quality-test",
    "AIRFLOW_VAR_IMDB_GLUE_ASSETS_BUCKET": "imdb-quality-artifacts-test",
    "AIRFLOW_VAR_IMDB_QUALITY_MIN": "11",
    "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws"}),
    "AIRFLOW_CONN_REDSHIFT_DEFAULT": "redshift://awsuser:secret@cluster.example.com:5439/dev",
}


@pytest.fixture(scope="module")
def configured(airflow_env) -> dict:
    env = {name: value for name, value in airflow_env.items() if not name.startswith(("AIRFLOW_VAR_", "AIRFLOW_CONN_"))}
    return run_python(
        f"""
        import json, os
        from airflow.dag_processing.dagbag import BundleDagBag
        bag = BundleDagBag({str(DAG_FILE)!r}, bundle_path={str(DAGS)!r}, bundle_name="dags-folder")
        dag = bag.dags.get("imdb_quality_ingest")
        watched = [(asset.uri, watcher.trigger.kwargs["sqs_queue"])
                   for asset in (dag.timetable.asset_condition.objects if dag else ())
                   for watcher in asset.watchers]

        os.environ.update({DEPLOYED!r})
        from imdb_pipeline import config
        try:
            config.check_airflow()
            message = None
        except config.ConfigurationError as error:
            message = str(error)
        print(json.dumps({{"errors": list(bag.import_errors.values()), "watched": watched, "message": message}}))
        """,
        {**env, "PYTHONPATH": str(DAGS)},
    )


def test_the_dag_parses_with_no_settings_and_watches_no_invented_queue(configured):
    assert configured["errors"] == []
    ((uri, queue),) = configured["watched"]
    assert queue == NOT_SET
    assert uri.startswith(f"s3://{NOT_SET}/")


def test_the_check_reads_variables_and_connections_as_airflow_gives_them(configured):
    lines = configured["message"].splitlines()
    assert lines[0] == "The pipeline's configuration has 4 problem(s):"
    assert [line.split(" ")[1] for line in lines[1:]] == [
        "imdb_queue_url", "imdb_sns_topic_arn", "imdb_quality_min='11'", "imdb_redshift_iam_role"]
