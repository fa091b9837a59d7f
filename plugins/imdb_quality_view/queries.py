"""What each page shows, as plain data: read-only queries on the warehouse and reads of the Glue
job's outputs in S3. Functions take a DB-API connection (psycopg for a `postgres` connection,
redshift_connector for `redshift`) and a boto3 S3 client, so tests and benchmarks call them as
the app does."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from imdb_quality_view import settings

LEDGER_STATUSES = ("skipped", "staged", "verified", "loaded", "rejected", "quality_failed", "abandoned")
BATCH_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
QUARANTINE_ROW_LIMIT = 500
# Parallel reads of summary.json objects (S3 latency, not CPU, bounds the trends page).
SUMMARY_READERS = 16


class NotFound(LookupError):
    """The batch asked for does not exist."""


def sql_text(name: str) -> str:
    return (settings.sql_dir() / name).read_text(encoding="utf-8")


# PostgreSQL's default work_mem (4 MB) spills the view's aggregations over 1 M movies to disk;
# Redshift sizes query memory itself (and has no such setting).
POSTGRES_WORK_MEM = "64MB"


@contextmanager
def read_only(conn: Any) -> Iterator[Any]:
    """A cursor in a read-only transaction (PostgreSQL and Redshift), rolled back afterwards."""
    conn.autocommit = True
    cursor = conn.cursor()
    try:
        cursor.execute("begin read only")
        if type(conn).__module__.startswith(("psycopg2", "psycopg")):
            cursor.execute(f"set local work_mem = '{POSTGRES_WORK_MEM}'")
        yield cursor
    finally:
        try:
            cursor.execute("rollback")
        finally:
            cursor.close()


def _value(value: Any) -> Any:
    # Decimals (ratings, averages) as floats: JSON numbers in the API, plain numbers in charts.
    return float(value) if isinstance(value, Decimal) else value


def _rows(cursor: Any, sql: str, params: Any = None) -> list[dict]:
    cursor.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, map(_value, row), strict=True)) for row in cursor.fetchall()]


def _in_list(name: str, values: list[str]) -> str:
    """The SQL file `name` with one placeholder per value where {batch_ids} stands."""
    return sql_text(name).replace("{batch_ids}", ", ".join(["%s"] * len(values)))


def check_batch_id(batch_id: str) -> str:
    if not BATCH_ID.match(batch_id or ""):
        raise NotFound(f"{batch_id!r} is not a batch id")
    return batch_id


# --- batches ------------------------------------------------------------------------------------


def gate_verdict(checks: list[dict]) -> str:
    """The quality gate's verdict on a batch from its checks: failed, warned, passed or not checked."""
    outcomes = {check["outcome"] for check in checks}
    for outcome, verdict in (("fail", "failed"), ("warn", "warned"), ("pass", "passed")):
        if outcome in outcomes:
            return verdict
    return "not checked"


def batches(conn: Any, *, status: str | None = None, day: date | None = None, batch_id: str | None = None,
            limit: int = 100) -> list[dict]:
    """Batches newest first with their files, row counts and gate verdicts; filtered by a file's
    ledger status, by the day the batch was first recorded, or to one batch."""
    if status is not None and status not in LEDGER_STATUSES:
        raise ValueError(f"unknown ledger status {status!r}: expected one of {LEDGER_STATUSES}")
    params = {"status": status, "day": day.isoformat() if day else None, "batch_id": batch_id, "row_limit": limit}
    with read_only(conn) as cursor:
        found = _rows(cursor, sql_text("select_batches.sql"), params)
        ids = [batch["batch_id"] for batch in found]
        files, checks = defaultdict(list), defaultdict(list)
        if ids:
            for row in _rows(cursor, _in_list("select_batch_files.sql", ids), ids):
                files[row.pop("batch_id")].append(row)
            for row in _rows(cursor, _in_list("select_batch_checks.sql", ids), ids):
                checks[row.pop("batch_id")].append(row)
    for batch in found:
        batch_id = batch["batch_id"]
        batch["rows_unchanged"] = batch["rows_loaded"] - batch["rows_new"] - batch["rows_changed"]
        batch["files_list"] = files[batch_id]
        batch["statuses"] = sorted({file["status"] for file in files[batch_id]})
        batch["checks"] = checks[batch_id]
        batch["gate_verdict"] = gate_verdict(checks[batch_id])
    return found


# --- quarantine ---------------------------------------------------------------------------------


def batch_prefix(processed_prefix: str, batch_id: str) -> str:
    return f"{processed_prefix}batch_id={check_batch_id(batch_id)}/"


def quarantined_batches(conn: Any, limit: int = 50) -> list[dict]:
    """The latest batches that quarantined rows (the explorer's choices)."""
    with read_only(conn) as cursor:
        return _rows(cursor, sql_text("select_quarantined_batches.sql"), {"row_limit": limit})


def quarantine(s3: Any, *, bucket: str, processed_prefix: str, batch_id: str,
               limit: int = QUARANTINE_ROW_LIMIT) -> dict:
    """A batch's quarantined rows (the first `limit`, by file and line) and totals by reason,
    from the Glue job's quarantine JSON lines under `<processed_prefix>batch_id=<id>/quarantine/`."""
    prefix = batch_prefix(processed_prefix, batch_id) + "quarantine/"
    keys = [
        entry["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for entry in page.get("Contents", [])
        if entry["Key"].endswith(".json")
    ]
    rows = []
    for key in sorted(keys):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        rows.extend(json.loads(line) for line in body.splitlines() if line.strip())
    rows.sort(key=lambda row: (row.get("source_object") or "", row.get("line_number") or 0))
    totals = Counter(reason for row in rows for reason in row.get("reasons", []))
    return {
        "batch_id": batch_id,
        "rows_total": len(rows),
        "totals_by_reason": dict(totals.most_common()),
        "rows": rows[:limit],
    }


# --- quality trends -----------------------------------------------------------------------------


def _summary_reasons(s3: Any, bucket: str, key: str) -> dict[str, int]:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return {}
    return {reason: int(count) for reason, count in json.loads(body).get("reasons", {}).items()}


def trends(conn: Any, s3: Any, *, bucket: str, processed_prefix: str, start_day: date, end_day: date,
           quality_min: Decimal, quality_max: Decimal) -> list[dict]:
    """Per day in [start_day, end_day): batches, rows in / loaded / quarantined (and by reason, from
    each batch's summary.json), failed gate checks and the share of quality movies among the rows
    the merge recorded (new or changed movies)."""
    params = {"start_day": start_day.isoformat(), "end_day": end_day.isoformat(),
              "quality_min": quality_min, "quality_max": quality_max}
    with read_only(conn) as cursor:
        per_batch = _rows(cursor, sql_text("select_daily_quality.sql"), params)
    quarantining = [batch for batch in per_batch if batch["rows_quarantined"]]
    with ThreadPoolExecutor(max_workers=SUMMARY_READERS) as pool:
        reasons = pool.map(
            lambda batch: _summary_reasons(
                s3, bucket, batch_prefix(processed_prefix, batch["batch_id"]) + "summary.json"
            ),
            quarantining,
        )
        reasons_by_batch = dict(zip((batch["batch_id"] for batch in quarantining), reasons, strict=True))
    days: dict[date, dict] = {}
    for batch in per_batch:
        day = days.setdefault(
            batch["batch_day"],
            {"day": batch["batch_day"], "batches": 0, "rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0,
             "quarantined_by_reason": Counter(), "checks_failed": 0, "batches_failed_gate": 0,
             "rows_recorded": 0, "quality_rows": 0},
        )  # fmt: skip
        day["batches"] += 1
        for name in ("rows_in", "rows_loaded", "rows_quarantined", "checks_failed", "rows_recorded", "quality_rows"):
            day[name] += int(batch[name])
        day["batches_failed_gate"] += 1 if batch["checks_failed"] else 0
        day["quarantined_by_reason"].update(reasons_by_batch.get(batch["batch_id"], {}))
    for day in days.values():
        day["quarantined_by_reason"] = dict(sorted(day["quarantined_by_reason"].items()))
        day["quality_share"] = round(day["quality_rows"] / day["rows_recorded"], 4) if day["rows_recorded"] else None
    return [days[key] for key in sorted(days)]


# --- ratings ------------------------------------------------------------------------------------


def ratings(conn: Any, *, start_at: datetime, end_at: datetime, limit: int = 10) -> dict:
    """Top movies, directors and genres now (from the marts the merge's refresh rebuilds), and the
    largest rating and vote moves in [start_at, end_at)."""
    with read_only(conn) as cursor:
        top_movies = _rows(cursor, sql_text("select_top_movies.sql"), {"row_limit": limit})
        top_directors = _rows(cursor, sql_text("select_top_directors.sql"), {"row_limit": limit})
        top_genres = _rows(cursor, sql_text("select_top_genres.sql"), {"row_limit": limit})
        moves = _rows(
            cursor, sql_text("select_rating_changes.sql"), {"start_at": start_at, "end_at": end_at, "row_limit": limit}
        )
    rating_changes = sorted(
        (move for move in moves if move["rating_change"] and move["rating_change_rank"] <= limit),
        key=lambda move: move["rating_change_rank"],
    )
    vote_changes = sorted(
        (move for move in moves if move["votes_change"] and move["votes_change_rank"] <= limit),
        key=lambda move: move["votes_change_rank"],
    )
    return {
        "start_at": start_at,
        "end_at": end_at,
        "top_movies": top_movies,
        "top_directors": top_directors,
        "top_genres": top_genres,
        "rating_changes": rating_changes,
        "vote_changes": vote_changes,
    }


def default_period(today: date, days: int) -> tuple[date, date]:
    """[today - days + 1, today + 1): the last `days` days including today."""
    return today - timedelta(days=days - 1), today + timedelta(days=1)
