"""The view's FastAPI app, mounted by Airflow's API server under `/imdb-quality`.

Every route requires what Airflow's UI itself requires to see the DAG's runs: a valid Airflow JWT
(the UI's `_token` cookie or a bearer token) whose user may read runs of the DAG. HTML pages and
a JSON API serve the same data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from imdb_quality_view import pages, queries, runs, settings

URL_PREFIX = "/imdb-quality"
MAX_DAYS = 3660

app = FastAPI(
    title="IMDb quality",
    description="Batches, quarantine, quality trends and ratings of the IMDb pipeline.",
    dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=settings.DAG_ID))],
)


def warehouse() -> Iterator[Any]:
    """A DB-API connection through the DAG's warehouse connection, closed after the request."""
    from airflow.models.connection import Connection

    conn = Connection.get_connection_from_secrets(settings.WAREHOUSE_CONN_ID).get_hook().get_conn()
    try:
        yield conn
    finally:
        conn.close()


def s3_client() -> Any:
    """A boto3 S3 client through the DAG's AWS connection."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=settings.AWS_CONN_ID).get_conn()


WarehouseDep = Annotated[Any, Depends(warehouse)]
S3Dep = Annotated[Any, Depends(s3_client)]


def _base(request: Request) -> str:
    """The app's mount path, for links between its pages."""
    return request.scope.get("root_path", "").rstrip("/") or URL_PREFIX


def _not_found(error: queries.NotFound) -> HTTPException:
    return HTTPException(status_code=404, detail=str(error))


def _day(text: str | None) -> date | None:
    """A day from a form field ('' when left empty)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as error:
        raise HTTPException(status_code=422, detail=f"{text!r} is not a day (YYYY-MM-DD)") from error


# --- data ---------------------------------------------------------------------------------------


def _batches(conn: Any, session: Any, status: str | None, day: date | None, limit: int) -> tuple[list, dict]:
    try:
        found = queries.batches(conn, status=status or None, day=day, limit=limit)
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    return found, runs.runs_of_batches(session, [batch["batch_id"] for batch in found])


def _quarantine(s3: Any, batch_id: str) -> dict:
    try:
        return queries.quarantine(
            s3, bucket=settings.variable("imdb_bucket"), processed_prefix=settings.variable("imdb_processed_prefix"),
            batch_id=batch_id,
        )  # fmt: skip
    except queries.NotFound as error:
        raise _not_found(error) from error


def _trends(conn: Any, s3: Any, days: int) -> list[dict]:
    start, end = queries.default_period(datetime.now(UTC).date(), days)
    return queries.trends(
        conn, s3, bucket=settings.variable("imdb_bucket"), processed_prefix=settings.variable("imdb_processed_prefix"),
        start_day=start, end_day=end, quality_min=Decimal(settings.variable("imdb_quality_min")),
        quality_max=Decimal(settings.variable("imdb_quality_max")),
    )  # fmt: skip


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    """[start, end] as days, by default the last 30 days including today."""
    default_start, default_end = queries.default_period(datetime.now(UTC).date(), 30)
    start, end = start or default_start, end or default_end - timedelta(days=1)
    if end < start:
        raise HTTPException(status_code=422, detail=f"the period ends ({end}) before it starts ({start})")
    return start, end


def _ratings(conn: Any, start: date, end: date, limit: int) -> dict:
    return queries.ratings(
        conn, start_at=datetime.combine(start, time()), end_at=datetime.combine(end + timedelta(days=1), time()),
        limit=limit,
    )  # fmt: skip


def _run_batch(conn: Any, session: Any, dag_id: str, run_id: str) -> dict | None:
    batch_id = runs.batch_of_run(session, dag_id, run_id)
    if batch_id is None:
        return None
    found = queries.batches(conn, batch_id=batch_id, limit=1)
    return found[0] if found else None


# --- JSON API -----------------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=1000)]
# marts.top_movies holds the best 100 movies.
RatingsLimit = Annotated[int, Query(ge=1, le=100)]


@app.get("/api/batches")
def api_batches(conn: WarehouseDep, session: SessionDep, status: str | None = None, day: date | None = None,
                limit: Limit = 100) -> dict:
    found, run_ids = _batches(conn, session, status, day, limit)
    return {"batches": [{**batch, "run_id": run_ids.get(batch["batch_id"])} for batch in found]}


@app.get("/api/batches/{batch_id}/quarantine")
def api_quarantine(batch_id: str, s3: S3Dep) -> dict:
    return _quarantine(s3, batch_id)


@app.get("/api/trends")
def api_trends(conn: WarehouseDep, s3: S3Dep, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30) -> dict:
    return {"days": _trends(conn, s3, days)}


@app.get("/api/ratings")
def api_ratings(conn: WarehouseDep, start: date | None = None, end: date | None = None,
                limit: RatingsLimit = 10) -> dict:
    return _ratings(conn, *_period(start, end), limit)


@app.get("/api/runs/{dag_id}/{run_id}")
def api_run(dag_id: str, run_id: str, conn: WarehouseDep, session: SessionDep) -> dict:
    return {"dag_id": dag_id, "run_id": run_id, "batch": _run_batch(conn, session, dag_id, run_id)}


# --- pages --------------------------------------------------------------------------------------


@app.get("/", include_in_schema=False)
def index(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{_base(request)}/batches")


@app.get("/batches", response_class=HTMLResponse)
def batches_page(request: Request, conn: WarehouseDep, session: SessionDep, status: str | None = None,
                 day: Annotated[str | None, Query()] = None, limit: Limit = 100) -> str:
    day_value = _day(day)
    found, run_ids = _batches(conn, session, status, day_value, limit)
    return pages.batches_page(_base(request), found, run_ids, status, day_value)


@app.get("/quarantine", response_class=HTMLResponse)
def quarantine_page(request: Request, conn: WarehouseDep, s3: S3Dep, batch_id: str | None = None) -> str:
    choices = queries.quarantined_batches(conn)
    batch_id = batch_id or (choices[0]["batch_id"] if choices else None)
    found = _quarantine(s3, batch_id) if batch_id else None
    return pages.quarantine_page(_base(request), choices, found)


@app.get("/trends", response_class=HTMLResponse)
def trends_page(request: Request, conn: WarehouseDep, s3: S3Dep,
                days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30) -> str:
    return pages.trends_page(_base(request), _trends(conn, s3, days), days)


@app.get("/ratings", response_class=HTMLResponse)
def ratings_page(request: Request, conn: WarehouseDep, start: Annotated[str | None, Query()] = None,
                 end: Annotated[str | None, Query()] = None, limit: RatingsLimit = 10) -> str:
    period = _period(_day(start), _day(end))
    return pages.ratings_page(_base(request), _ratings(conn, *period, limit), *period)


@app.get("/runs/{dag_id}/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, dag_id: str, run_id: str, conn: WarehouseDep, session: SessionDep) -> str:
    return pages.run_page(_base(request), dag_id, run_id, _run_batch(conn, session, dag_id, run_id))
