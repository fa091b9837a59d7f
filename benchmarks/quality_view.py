"""The "IMDb quality" view's pages on a warehouse of 1,000,000 movies and 1,000 batches.

Target: each page answers in under 1 s. Generated in a fresh local PostgreSQL with
generate_series: 1,000 daily batches of 1,000 new movies each, 200 rating changes per batch
(1.2 M rating_history rows), one ledger row per batch with 10 quarantined rows, 12 gate checks per
batch (every 50th batch fails one), and in a moto server each batch's summary.json and the
latest batch's quarantine JSON, then the marts refreshed as the DAG's refresh_marts task does
after a merge (timed too). Each page is timed as the app serves it (new warehouse connection,
queries, S3 reads, HTML), the median of 5 warm runs; the Airflow part of a request (JWT check,
run lookup in the metadata DB) is not included.

Reference, measured in the same run: `select count(*)` over the 1 M movies (one full scan).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start
from decimal import Decimal
from pathlib import Path

from local_stack import postgres
from local_stack.processes import free_port

REPO = Path(__file__).resolve().parents[1]
MOVIES, BATCHES, CHANGES_PER_BATCH, QUARANTINED_PER_BATCH = 1_000_000, 1_000, 200, 10
BUCKET, PREFIX = "imdb-quality-bench", "processed/"
RUNS = 5

GENERATE = """
create temp table bench_batches as
select
    batch_number,
    to_char(cast(%(first_day)s as date) + batch_number, 'YYYYMMDD') || 'T000000Z-'
        || lpad(cast(batch_number as varchar), 8, '0') as batch_id,
    cast(cast(%(first_day)s as date) + batch_number as timestamp) as batch_at
from generate_series(0, %(batches)s - 1) as series (batch_number);

insert into movies.imdb_movies
select
    md5(cast(movie_number as varchar)),
    'Movie ' || movie_number,
    1920 + movie_number %% 100,
    'UA', 90 + movie_number %% 60,
    (array['Drama', 'Crime,Drama', 'Action,Adventure', 'Comedy,Romance', 'Animation,Comedy'])[1 + movie_number %% 5],
    (array['Drama', 'Crime', 'Action', 'Comedy', 'Animation'])[1 + movie_number %% 5],
    cast(10 + (movie_number * 7919) %% 90 as decimal(3, 1)) / 10,
    40 + movie_number %% 60, 1000 + (movie_number * 104729) %% 2000000, null,
    'Director ' || movie_number %% 50000, 'Star A', 'Star B', null, null, null, null,
    (10 + (movie_number * 7919) %% 90) > 80,
    's3://bucket/raw/file.csv', 2 + movie_number %% 1000,
    bench_batches.batch_at, bench_batches.batch_id, bench_batches.batch_id, bench_batches.batch_at,
    bench_batches.batch_at, bench_batches.batch_at
from generate_series(cast(0 as bigint), %(movies)s - 1) as series (movie_number)
inner join bench_batches on bench_batches.batch_number = movie_number / (%(movies)s / %(batches)s);

insert into movies.rating_history (movie_id, batch_id, change_type, imdb_rating, meta_score, no_of_votes,
                                   gross_usd, observed_at)
select movie.movie_id, movie.first_loaded_batch, 'new', movie.imdb_rating, movie.meta_score, movie.no_of_votes,
       movie.gross_usd, movie.ingested_at
from movies.imdb_movies as movie;

insert into movies.rating_history (movie_id, batch_id, change_type, imdb_rating, meta_score, no_of_votes,
                                   gross_usd, observed_at)
select
    md5(cast((bench_batches.batch_number * 7919 + change_number * 104729)
             %% (bench_batches.batch_number * (%(movies)s / %(batches)s)) as varchar)),
    bench_batches.batch_id, 'changed',
    cast(10 + (change_number * 31) %% 90 as decimal(3, 1)) / 10, null, 5000 + change_number * 13, null,
    bench_batches.batch_at
from bench_batches
cross join generate_series(0, %(changes)s - 1) as series (change_number)
where bench_batches.batch_number > 0
on conflict do nothing;

insert into movies.load_ledger (batch_id, bucket, object_key, etag, status, rows_in, rows_loaded, rows_quarantined,
                                reason, created_at, updated_at)
select batch_id, %(bucket)s, 'raw/dt=' || to_char(batch_at, 'YYYY-MM-DD') || '/movies.csv', md5(batch_id),
       'loaded', %(rows_in)s, %(rows_loaded)s, %(quarantined)s, null, batch_at, batch_at
from bench_batches;

insert into movies.dq_results (batch_id, contract, check_path, check_name, outcome, value, threshold, message,
                               checked_at)
select bench_batches.batch_id, 'imdb_movies_staging', 'checks.check_' || check_number, 'check ' || check_number,
       case when check_number = 0 and bench_batches.batch_number %% 50 = 0 then 'fail' else 'pass' end,
       check_number, '< 1', 'measured ' || check_number, bench_batches.batch_at
from bench_batches
cross join generate_series(0, 11) as series (check_number);

analyze;
"""


def _generate(dsn: str, first_day: date) -> None:
    import psycopg2
    from imdb_pipeline import warehouse

    conn = psycopg2.connect(dsn)
    try:
        warehouse.apply_ddl(conn)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(GENERATE, {
                "first_day": first_day.isoformat(), "batches": BATCHES, "movies": MOVIES, "changes": CHANGES_PER_BATCH,
                "bucket": BUCKET, "rows_in": MOVIES // BATCHES + QUARANTINED_PER_BATCH,
                "rows_loaded": MOVIES // BATCHES + CHANGES_PER_BATCH, "quarantined": QUARANTINED_PER_BATCH,
            })  # fmt: skip
    finally:
        conn.close()


def _refresh_marts(dsn: str) -> float:
    """Seconds the DAG's refresh_marts statements take on the generated warehouse (one transaction)."""
    import psycopg2
    from imdb_pipeline import db, warehouse

    conn = psycopg2.connect(dsn)
    try:
        started = time.perf_counter()
        with db.transaction(conn) as cursor:
            for statement in warehouse.mart_statements():
                cursor.execute(statement)
        return time.perf_counter() - started
    finally:
        conn.close()


def _publish_outputs(s3, first_day: date) -> str:
    """Each batch's summary.json and the latest batch's quarantine JSON; returns that batch's id."""
    from concurrent.futures import ThreadPoolExecutor

    s3.create_bucket(Bucket=BUCKET)
    batch_ids = [f"{first_day + timedelta(days=n):%Y%m%d}T000000Z-{n:08d}" for n in range(BATCHES)]

    def put_summary(batch_id: str) -> None:
        summary = {"batch_id": batch_id, "rows_quarantined": QUARANTINED_PER_BATCH,
                   "reasons": {"invalid_year": 6, "missing_rating": 4}}  # fmt: skip
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}batch_id={batch_id}/summary.json", Body=json.dumps(summary))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put_summary, batch_ids))
    latest = batch_ids[-1]
    rows = [{"batch_id": latest, "source_object": "s3://bucket/raw/movies.csv", "line_number": line,
             "reasons": ["invalid_year"], "errors": ["Released_Year 'PG' is not a year"],
             "raw": {"Series_Title": f"Movie {line}", "Released_Year": "PG"}}
            for line in range(2, 2 + QUARANTINED_PER_BATCH)]  # fmt: skip
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}batch_id={latest}/quarantine/part-00000.json",
                  Body="\n".join(map(json.dumps, rows)))  # fmt: skip
    return latest


def _median_seconds(action) -> float:
    action()  # warm-up
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def run(tmp_dir) -> dict:
    import boto3
    import psycopg2
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    for folder in ("dags", "plugins"):
        if str(REPO / folder) not in sys.path:
            sys.path.insert(0, str(REPO / folder))
    os.environ["IMDB_INCLUDE_DIR"] = str(REPO / "include")
    from imdb_quality_view import pages, queries

    tmp_dir = Path(tmp_dir)
    today = datetime.now(UTC).date()
    first_day = today - timedelta(days=BATCHES - 1)
    data_dir = tmp_dir / "postgres"
    dsn = postgres.start(data_dir, free_port())
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    try:
        started = time.perf_counter()
        _generate(dsn, first_day)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
        latest = _publish_outputs(s3, first_day)
        generate_seconds = time.perf_counter() - started
        refresh_seconds = _refresh_marts(dsn)

        def with_conn(render):
            def action():
                conn = psycopg2.connect(dsn)
                try:
                    render(conn)
                finally:
                    conn.close()

            return action

        def scan(conn):
            with conn.cursor() as cursor:
                cursor.execute("select count(*) from movies.imdb_movies")
                assert cursor.fetchone()[0] == MOVIES

        period_start, period_end = queries.default_period(today, 30)

        def ratings_page(conn):
            found = queries.ratings(conn, start_at=datetime.combine(period_start, day_start()),
                                    end_at=datetime.combine(period_end, day_start()))  # fmt: skip
            return pages.ratings_page(base, found, period_start, period_end)

        base = "/imdb-quality"
        page_actions = {
            "batches": lambda conn: pages.batches_page(base, queries.batches(conn), {}, None, None),
            "batches_filtered": lambda conn: pages.batches_page(
                base, queries.batches(conn, status="loaded", day=today), {}, "loaded", today),
            "quarantine": lambda conn: pages.quarantine_page(
                base, queries.quarantined_batches(conn),
                queries.quarantine(s3, bucket=BUCKET, processed_prefix=PREFIX, batch_id=latest)),
            "trends": lambda conn: pages.trends_page(base, queries.trends(
                conn, s3, bucket=BUCKET, processed_prefix=PREFIX, start_day=period_start, end_day=period_end,
                quality_min=Decimal("8.0"), quality_max=Decimal("10.3")), 30),
            "ratings": ratings_page,
            "run_tab": lambda conn: pages.run_page(
                base, "imdb_quality_ingest", "r", queries.batches(conn, batch_id=latest, limit=1)[0]),
        }  # fmt: skip
        reference = _median_seconds(with_conn(scan))
        timings = {name: _median_seconds(with_conn(action)) for name, action in page_actions.items()}
    finally:
        moto.stop()
        postgres.stop(data_dir)
    results = {"generate_s": round(generate_seconds, 1), "reference_full_scan_1m_movies_s": round(reference, 3),
               "refresh_marts_after_a_merge_s": round(refresh_seconds, 2)}
    for name, seconds in timings.items():
        results[f"{name}_s"] = round(seconds, 3)
        results[f"{name}_vs_full_scan"] = round(seconds / reference, 2)
    results["slowest_page_s"] = round(max(timings.values()), 3)
    results["every_page_under_1s"] = max(timings.values()) < 1.0
    return results
