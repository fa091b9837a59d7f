"""Names shared with the pipeline (dags/imdb_pipeline/config.py) and where the view's SQL lives.

The API server does not put the dags folder on sys.path, so the plugin cannot import
`imdb_pipeline`: the few names it shares are repeated here and checked against it by a test.
"""

from __future__ import annotations

import os
from pathlib import Path

DAG_ID = "imdb_quality_ingest"
RESOLVE_BATCH_TASK_ID = "resolve_batch"
AWS_CONN_ID = "aws_default"
WAREHOUSE_CONN_ID = "redshift_default"
# Variable -> default (None: required), as in imdb_pipeline.config.SETTINGS.
VARIABLES = {
    "imdb_bucket": None,
    "imdb_processed_prefix": "processed/",
    "imdb_quality_min": "8.0",
    "imdb_quality_max": "10.3",
}


def variable(name: str) -> str:
    """The pipeline setting `name`, read from Airflow's Variables (server side) at request time."""
    # Server code, not a task: the task SDK's Variable needs a task's supervisor.
    from airflow.models import Variable

    return Variable.get(name, default_var=VARIABLES[name])  # noqa: AIR311


def sql_dir() -> Path:
    """`include/sql/quality_view/`: under IMDB_INCLUDE_DIR (MWAA), else beside the dags folder."""
    include = os.environ.get("IMDB_INCLUDE_DIR")
    if not include:
        from airflow.configuration import conf

        include = str(Path(conf.get("core", "dags_folder")).parent / "include")
    return Path(include) / "sql" / "quality_view"
