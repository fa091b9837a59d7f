"""The pipeline's settings: one place that names them, with the same names on MWAA and locally.

Settings are Airflow Variables (`imdb_*`). Locally the stack sets them as `AIRFLOW_VAR_IMDB_*`
environment variables; on MWAA they come from the secrets backend or the environment. Operators
read them through templates (`template`), task code through `get` at run time; nothing here
touches the metadata database or the network at import.
"""

from __future__ import annotations

import os
from pathlib import Path

DAG_ID = "imdb_quality_ingest"
AWS_CONN_ID = "aws_default"
WAREHOUSE_CONN_ID = "redshift_default"

DEFAULTS: dict[str, str] = {
    "imdb_bucket": "imdb-quality",
    "imdb_raw_prefix": "raw/",
    "imdb_processed_prefix": "processed/",
    "imdb_queue_url": "",
    "imdb_sns_topic_arn": "",
    "imdb_glue_job_name": "imdb-movies-quality-ingestion",
    "imdb_glue_role": "imdb-glue-job-role",
    "imdb_glue_assets_bucket": "imdb-quality-artifacts",
    "imdb_glue_assets_prefix": "glue/",
    "imdb_quality_min": "8.0",
    "imdb_quality_max": "10.3",
    # Days a run looks back for raw object versions the ledger has not settled (the sweep window).
    "imdb_lookback_days": "14",
    "imdb_redshift_iam_role": "",
    "imdb_athena_database": "",
    "imdb_athena_workgroup": "primary",
    "imdb_athena_output": "",
    "imdb_quicksight_dataset_id": "",
}


def template(name: str) -> str:
    """A Jinja template that renders the setting when the operator runs."""
    return f"{{{{ var.value.get('{name}', '{DEFAULTS[name]}') }}}}"


def get(name: str) -> str:
    """The setting's value, for task code (never call at import)."""
    from airflow.sdk import Variable

    return Variable.get(name, default=DEFAULTS[name])


def from_environment(name: str) -> str:
    """The setting as the environment gives it, for the few values needed when the DAG is parsed.

    The asset watcher's queue URL and the landing asset's URI are fixed when the DAG file is
    parsed, before any task runs, so they cannot come from a template.
    """
    return os.environ.get(f"AIRFLOW_VAR_{name.upper()}", DEFAULTS[name])


def include_dir() -> Path:
    """`include/` beside the dags folder (the repository layout, and MWAA's when deployed with it)."""
    return Path(os.environ.get("IMDB_INCLUDE_DIR", Path(__file__).resolve().parents[2] / "include"))
