"""The local stack: AWS emulator (moto server with real Glue runs), PostgreSQL warehouse, Airflow.

The DAG folder's helper package `imdb_pipeline` is importable here as it is inside Airflow: the
stack reads the pipeline's own settings, DDL and ledger queries instead of repeating them.
"""

import sys
from pathlib import Path

_DAGS = str(Path(__file__).resolve().parent.parent / "dags")
if _DAGS not in sys.path:
    sys.path.insert(0, _DAGS)
