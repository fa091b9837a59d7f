"""An Airflow home of its own for the DAG integrity tests, on the repo's dags folder (parsing needs no metadata DB)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    """Environment for the interpreters that parse the DAG: the settings a deployment gives (no real endpoints)."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW_VAR_IMDB_BUCKET": "imdb-quality-test",
        "AIRFLOW_VAR_IMDB_QUEUE_URL": "http://127.0.0.1:9/123456789012/imdb-raw-object-created",
    }
    return env
