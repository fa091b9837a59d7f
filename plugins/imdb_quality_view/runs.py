"""Which DAG run loaded which batch, from Airflow's metadata database: the `resolve_batch` task
returns the batch (XCom `return_value`, field `batch_id`), and a batch id starts with its run's
`run_after` time (`%Y%m%dT%H%M%SZ`), which narrows the runs to look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from imdb_quality_view.settings import DAG_ID, RESOLVE_BATCH_TASK_ID

BATCH_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


def batch_time(batch_id: str) -> datetime | None:
    """The run time a batch id starts with, or None for an id of another shape."""
    try:
        return datetime.strptime(batch_id.split("-", 1)[0], BATCH_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _resolved_batches(session: Any, *conditions: Any) -> list[tuple[str, Any]]:
    """(run_id, batch id) of the DAG's runs matching `conditions` whose resolve_batch returned a batch."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from sqlalchemy import and_, select

    query = (
        select(XComModel.run_id, XComModel.value)
        .join(DagRun, and_(DagRun.dag_id == XComModel.dag_id, DagRun.run_id == XComModel.run_id))
        .where(
            XComModel.dag_id == DAG_ID,
            XComModel.task_id == RESOLVE_BATCH_TASK_ID,
            XComModel.key == "return_value",
            XComModel.map_index == -1,
            *conditions,
        )
    )
    found = []
    for row in session.execute(query):
        value = XComModel.deserialize_value(row)
        if isinstance(value, dict) and value.get("batch_id"):
            found.append((row.run_id, value["batch_id"]))
    return found


def batch_of_run(session: Any, dag_id: str, run_id: str) -> str | None:
    """The batch the run resolved, or None (another DAG, or a run that ended before returning one)."""
    from airflow.models.dagrun import DagRun

    if dag_id != DAG_ID:
        return None
    found = _resolved_batches(session, DagRun.run_id == run_id)
    return found[0][1] if found else None


def runs_of_batches(session: Any, batch_ids: list[str]) -> dict[str, str]:
    """batch id -> run id, for the given batches whose run is still in the metadata database."""
    from airflow.models.dagrun import DagRun

    times = [time for time in map(batch_time, batch_ids) if time is not None]
    if not times:
        return {}
    found = _resolved_batches(
        session, DagRun.run_after >= min(times), DagRun.run_after < max(times) + timedelta(seconds=1)
    )
    wanted = set(batch_ids)
    return {batch_id: run_id for run_id, batch_id in found if batch_id in wanted}


def run_path(run_id: str, dag_id: str = DAG_ID) -> str:
    """The run's page in the Airflow UI (relative to the UI's root)."""
    return f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
