"""The one mapping from a running stack (stack.json) to the environment Airflow and boto3 run with."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse

from imdb_pipeline import config

from local_stack.settings import AIRFLOW_USER, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, REPO_ROOT

OPENLINEAGE_NAMESPACE = "imdb-local"


def aws_env(stack: dict) -> dict[str, str]:
    """Plain boto3 (and the Glue runner) talking to the emulator."""
    return {
        "AWS_ENDPOINT_URL": stack["aws_endpoint_url"],
        "AWS_DEFAULT_REGION": stack["aws_region"],
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
    }


def airflow_env(stack: dict) -> dict[str, str]:
    """Everything Airflow needs to run the project's DAGs against the local stack (added to os.environ)."""
    warehouse = urlparse(stack["warehouse_dsn"])
    aws_connection = {
        "conn_type": "aws",
        "login": DUMMY_ACCESS_KEY_ID,
        "password": DUMMY_SECRET_ACCESS_KEY,
        "extra": {"endpoint_url": stack["aws_endpoint_url"], "region_name": stack["aws_region"]},
    }
    warehouse_connection = {
        "conn_type": "postgres",
        "host": warehouse.hostname,
        "port": warehouse.port,
        "login": warehouse.username,
        "schema": warehouse.path.lstrip("/"),
    }
    airflow_home = Path(stack["airflow_home"])
    api_url = stack["airflow_url"]
    variables = {
        "imdb_bucket": stack["bucket"],
        "imdb_raw_prefix": stack["raw_prefix"],
        "imdb_processed_prefix": stack["processed_prefix"],
        "imdb_queue_url": stack["raw_events_queue_url"],
        "imdb_sns_topic_arn": stack["notifications_topic_arn"],
        "imdb_glue_job_name": stack["glue_job_name"],
        "imdb_glue_role": stack["glue_role_name"],
        "imdb_glue_assets_bucket": stack["artifacts_bucket"],
        "imdb_glue_assets_prefix": stack["glue_assets_prefix"],
        "imdb_glue_poll_seconds": "1",
        "imdb_quality_min": config.default("imdb_quality_min"),
        "imdb_quality_max": config.default("imdb_quality_max"),
        "imdb_max_quarantine_share": config.default("imdb_max_quarantine_share"),
    }
    return {
        **aws_env(stack),
        # `airflow standalone` starts its components as `airflow ...` from PATH.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        **project_airflow_env(airflow_home, stack["airflow_user"], passwords_file(airflow_home), api_url),
        # The demo's upload must start a run without anyone unpausing the DAG first.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(urlparse(api_url).port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        # PostgreSQL, as on MWAA, never SQLite: Airflow's API server writes its audit log from the
        # event loop, so a request waiting for SQLite's one write lock stopped every other request,
        # the holder's commit included, until the lock timed out and the call failed with a 500.
        # (A stack started without Airflow has none.)
        **({"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_database_uri(stack["airflow_db_dsn"])}
           if "airflow_db_dsn" in stack else {}),  # fmt: skip
        # LocalExecutor forks one worker per parallelism slot: keep a laptop's (or CI's 2 cores') share small.
        "AIRFLOW__CORE__PARALLELISM": "4",
        # Its workers fork with the DAG's provider imports done, so a task does not import them again
        # (about a second of every task; see the module).
        "AIRFLOW__CORE__EXECUTOR": "imdb_local_executor.PreImportingLocalExecutor",
        "PYTHONPATH": str(REPO_ROOT / "local_stack" / "airflow_path"),
        # Local runs should react in seconds, not minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # Tasks a killed scheduler had queued are taken over within a minute, not five.
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "60",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws_connection),
        "AIRFLOW_CONN_REDSHIFT_DEFAULT": json.dumps(warehouse_connection),
        "SODA_CORE_TELEMETRY_ENABLED": "false",
        # OpenLineage events as JSON lines in a file (the provider is off where no transport is set).
        "AIRFLOW__OPENLINEAGE__NAMESPACE": OPENLINEAGE_NAMESPACE,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(openlineage_events_file(airflow_home)), "append": True}),
        **{f"AIRFLOW_VAR_{name.upper()}": value for name, value in variables.items()},
    }


def metadata_database_uri(dsn: str) -> str:
    """SQLAlchemy's URI of Airflow's metadata database from its libpq DSN (the psycopg2 driver)."""
    return dsn.replace("postgresql://", "postgresql+psycopg2://", 1)


def openlineage_events_file(airflow_home: Path) -> Path:
    """Where the local stack's Airflow appends its OpenLineage events, one JSON document a line."""
    return airflow_home / "openlineage-events.jsonl"


def project_airflow_env(airflow_home: Path, user: str, passwords: Path, api_url: str) -> dict[str, str]:
    """An Airflow of this repository: its home, the repository's dags and plugins, no examples, one
    admin of the simple auth manager, and the URL its API server is reached at."""
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__BASE_URL": api_url,
    }


def passwords_file(airflow_home: Path) -> Path:
    return airflow_home / "simple_auth_manager_passwords.json"


def airflow_password(airflow_home: Path, user: str = AIRFLOW_USER) -> str:
    """The local admin's password: generated on first use, then read from the simple auth manager's file."""
    path = passwords_file(airflow_home)
    passwords = json.loads(path.read_text()) if path.exists() else {}
    if user not in passwords:
        passwords[user] = secrets.token_urlsafe(12)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(passwords) + "\n")
        path.chmod(0o600)
    return passwords[user]
