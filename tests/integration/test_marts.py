"""Each mart (table or view) on a real PostgreSQL server equals an independent DuckDB + Python computation.

The warehouse is filled by the real load path (two batches, so ratings have a trend, plus a
rejected file and quality-gate verdicts); DuckDB then recomputes every mart from the same rows
with its own SQL (string_split/unnest, UNPIVOT), and Python rounds averages exactly (half up).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import psycopg2
import pyarrow as pa
import pytest
from imdb_pipeline import warehouse

from tests.fixtures.warehouse import BUCKET, pass_gate_and_merge, processed_rows, publish_batch, seed_records

pytestmark = pytest.mark.postgres

MODIFIED = datetime(2026, 11, 25, 20, tzinfo=UTC)

MIN_MOVIES = 3  # the marts' threshold for top directors and stars


@pytest.fixture
def filled_warehouse(warehouse_conn, warehouse_s3):
    """Two merged batches (the seed, then 40 of its movies with new ratings and votes) and gate results."""
    records = seed_records()
    seed_uri, update_uri = f"s3://{BUCKET}/raw/seed.csv", f"s3://{BUCKET}/raw/update.csv"
    first = processed_rows(records, source_object=seed_uri, batch_id="b1", ingested_at=datetime(2026, 1, 1))
    output_uri, summary = publish_batch(
        warehouse_s3, "b1", {seed_uri: (len(records), first)}, rejected={f"s3://{BUCKET}/raw/bad.csv": "no header"}
    )
    objects = [(BUCKET, "raw/seed.csv", "e1", MODIFIED), (BUCKET, "raw/bad.csv", "e2", MODIFIED)]
    warehouse.load_staging(warehouse_conn, warehouse_s3, batch_id="b1", output_uri=output_uri, summary=summary,
                                objects=objects)  # fmt: skip
    pass_gate_and_merge(warehouse_conn, "b1")

    changed = [dict(record) for record in records[300:340]]
    for number, record in enumerate(changed):
        record["IMDB_Rating"] = str(Decimal(record["IMDB_Rating"]) + Decimal("0.1") * (number % 3 - 1))
        record["No_of_Votes"] = str(int(record["No_of_Votes"]) + 17 * number)
    second = processed_rows(changed, source_object=update_uri, batch_id="b2", ingested_at=datetime(2026, 2, 1))
    output_uri, summary = publish_batch(warehouse_s3, "b2", {update_uri: (len(changed), second)})
    warehouse.load_staging(warehouse_conn, warehouse_s3, batch_id="b2", output_uri=output_uri, summary=summary,
                                objects=[(BUCKET, "raw/update.csv", "e3", MODIFIED)])  # fmt: skip
    pass_gate_and_merge(warehouse_conn, "b2")

    with warehouse_conn.cursor() as cursor:
        cursor.executemany(
            "insert into movies.dq_results (batch_id, contract, check_path, outcome, checked_at) "
            "values (%s, 'staging', %s, %s, %s)",
            [("b1", "rows", "pass", datetime(2026, 1, 1)), ("b1", "ids", "warn", datetime(2026, 1, 1)),
             ("b2", "rows", "pass", datetime(2026, 2, 1)), ("b2", "ids", "fail", datetime(2026, 2, 1))],
        )  # fmt: skip
    warehouse_conn.commit()
    return warehouse_conn


def fetch(conn, query: str) -> list[dict]:
    with conn.cursor() as cursor:
        cursor.execute(query)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    conn.rollback()
    return rows


@pytest.fixture
def duck(filled_warehouse):
    """DuckDB holding copies of the warehouse tables (the marts' inputs)."""
    con = duckdb.connect()
    for table in ("imdb_movies", "rating_history", "load_ledger", "dq_results"):
        rows = pa.Table.from_pylist(fetch(filled_warehouse, f"select * from movies.{table}"))  # noqa: F841
        con.execute(f"create table {table} as select * from rows")
    yield con
    con.close()


def duck_rows(con, query: str) -> list[dict]:
    result = con.execute(query)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def average(total, count, places: str = "0.01") -> Decimal:
    return (Decimal(total) / Decimal(count)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def ranked(rows: list[dict], key: str) -> list[dict]:
    """SQL rank() over (order by key desc)."""
    for row in rows:
        row["rating_rank"] = 1 + sum(other[key] > row[key] for other in rows)
    return rows


def mart(conn, name: str, order_by: str) -> list[dict]:
    return fetch(conn, f"select * from marts.{name} order by {order_by}")


def test_quality_movies_by_genre(filled_warehouse, duck) -> None:
    rows = duck_rows(duck, """
        select genre, count(*) as movies, sum(is_quality_movie::int) as quality_movies,
               sum(imdb_rating) as rating_sum
        from (select trim(unnest(string_split(genres, ','))) as genre, is_quality_movie, imdb_rating
              from imdb_movies)
        group by genre order by genre
    """)  # fmt: skip
    expected = [
        {"genre": r["genre"], "movies": r["movies"], "quality_movies": r["quality_movies"],
         "avg_rating": average(r["rating_sum"], r["movies"])}
        for r in rows
    ]  # fmt: skip
    assert len(expected) > 10
    assert mart(filled_warehouse, "quality_movies_by_genre", "genre") == expected


def test_quality_movies_by_decade(filled_warehouse, duck) -> None:
    rows = duck_rows(duck, """
        select (released_year // 10) * 10 as decade, count(*) as movies,
               count(*) filter (where is_quality_movie) as quality_movies, sum(imdb_rating) as rating_sum
        from imdb_movies group by all order by decade
    """)  # fmt: skip
    expected = [
        {"decade": r["decade"], "movies": r["movies"], "quality_movies": r["quality_movies"],
         "avg_rating": average(r["rating_sum"], r["movies"])}
        for r in rows
    ]  # fmt: skip
    assert sum(r["movies"] for r in expected) == 999
    assert mart(filled_warehouse, "quality_movies_by_decade", "decade") == expected


def test_ratings_by_release_year(filled_warehouse, duck) -> None:
    rows = duck_rows(duck, """
        select released_year, count(*) as movies, sum(imdb_rating) as rating_sum, sum(no_of_votes) as votes_sum
        from imdb_movies group by released_year order by released_year
    """)  # fmt: skip
    expected = [
        {"released_year": r["released_year"], "movies": r["movies"],
         "avg_rating": average(r["rating_sum"], r["movies"]), "avg_votes": average(r["votes_sum"], r["movies"], "1")}
        for r in rows
    ]  # fmt: skip
    assert mart(filled_warehouse, "ratings_by_release_year", "released_year") == expected


def test_top_movies(filled_warehouse, duck) -> None:
    expected = duck_rows(duck, """
        select row_number() over (order by imdb_rating desc, no_of_votes desc, movie_id) as rating_rank,
               movie_id, series_title, released_year, director, primary_genre, imdb_rating, no_of_votes
        from imdb_movies order by rating_rank limit 100
    """)  # fmt: skip
    assert expected[0]["series_title"] == "The Shawshank Redemption"
    assert mart(filled_warehouse, "top_movies", "rating_rank") == expected


def test_top_directors(filled_warehouse, duck) -> None:
    rows = duck_rows(duck, f"""
        select director, count(*) as movies, sum(imdb_rating) as rating_sum, sum(no_of_votes) as total_votes
        from imdb_movies group by director having count(*) >= {MIN_MOVIES}
    """)  # fmt: skip
    expected = ranked(
        [{"director": r["director"], "movies": r["movies"], "avg_rating": average(r["rating_sum"], r["movies"]),
          "total_votes": r["total_votes"]} for r in rows],
        "avg_rating",
    )  # fmt: skip
    assert len(expected) > 20
    actual = mart(filled_warehouse, "top_directors", "director")
    assert actual == sorted(expected, key=lambda r: r["director"])


def test_top_stars(filled_warehouse, duck) -> None:
    rows = duck_rows(duck, f"""
        with billed as (
            select distinct movie_id, star, imdb_rating
            from (unpivot imdb_movies on star1, star2, star3, star4 into name slot value star)
        )
        select star, count(*) as movies, sum(imdb_rating) as rating_sum
        from billed group by star having count(*) >= {MIN_MOVIES}
    """)  # fmt: skip
    expected = ranked(
        [{"star": r["star"], "movies": r["movies"], "avg_rating": average(r["rating_sum"], r["movies"])} for r in rows],
        "avg_rating",
    )
    assert len(expected) > 20
    assert mart(filled_warehouse, "top_stars", "star") == sorted(expected, key=lambda r: r["star"])


def test_gross_by_certificate(filled_warehouse, duck) -> None:
    rows = duck_rows(duck, """
        select coalesce(certificate, 'Not rated') as certificate, count(*) as movies,
               count(gross_usd) as movies_with_gross, sum(gross_usd) as total_gross_usd
        from imdb_movies group by all order by certificate
    """)  # fmt: skip
    expected = [
        {**r, "avg_gross_usd": average(r["total_gross_usd"], r["movies_with_gross"], "1")
         if r["movies_with_gross"] else None}
        for r in rows
    ]  # fmt: skip
    assert any(r["certificate"] == "Not rated" for r in expected)
    assert mart(filled_warehouse, "gross_by_certificate", "certificate") == expected


def test_rating_trend(filled_warehouse, duck) -> None:
    history = duck_rows(duck, """
        select h.movie_id, m.series_title, m.released_year, h.batch_id, h.observed_at, h.change_type,
               h.imdb_rating, h.no_of_votes, h.meta_score, h.gross_usd
        from rating_history as h join imdb_movies as m using (movie_id)
        order by h.movie_id, h.observed_at, h.batch_id
    """)  # fmt: skip
    previous: dict[str, dict] = {}
    expected = []
    for row in history:
        before = previous.get(row["movie_id"])
        expected.append({
            **row,
            "rating_change": row["imdb_rating"] - before["imdb_rating"] if before else None,
            "votes_change": row["no_of_votes"] - before["no_of_votes"] if before else None,
        })  # fmt: skip
        previous[row["movie_id"]] = row
    # 40 movies were re-rated in the second batch: each has a second point with its change.
    assert sum(row["batch_id"] == "b2" for row in expected) == 40
    assert mart(filled_warehouse, "rating_trend", "movie_id, observed_at, batch_id") == expected


def test_batch_quality(filled_warehouse, duck) -> None:
    rows = duck_rows(duck, """
        with ledger as (
            select batch_id, count(*) as files,
                   count(*) filter (where status = 'loaded') as files_loaded,
                   count(*) filter (where status = 'skipped') as files_skipped,
                   count(*) filter (where status = 'rejected') as files_rejected,
                   count(*) filter (where status = 'quality_failed') as files_quality_failed,
                   sum(rows_in) as rows_in, sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined,
                   min(created_at) as first_recorded_at, max(updated_at) as last_updated_at
            from load_ledger group by batch_id
        ), checks as (
            select batch_id, count(*) filter (where outcome = 'pass') as checks_passed,
                   count(*) filter (where outcome = 'warn') as checks_warned,
                   count(*) filter (where outcome = 'fail') as checks_failed
            from dq_results group by batch_id
        )
        select l.batch_id, files, files_loaded, files_skipped, files_rejected, files_quality_failed,
               rows_in, rows_loaded, rows_quarantined,
               coalesce(checks_passed, 0) as checks_passed, coalesce(checks_warned, 0) as checks_warned,
               coalesce(checks_failed, 0) as checks_failed, first_recorded_at, last_updated_at
        from ledger as l left join checks as c using (batch_id) order by l.batch_id
    """)  # fmt: skip
    assert [(r["batch_id"], r["files_rejected"], r["rows_loaded"], r["rows_quarantined"]) for r in rows] == [
        ("b1", 1, 999, 1),
        ("b2", 0, 40, 0),
    ]
    assert mart(filled_warehouse, "batch_quality", "batch_id") == rows


def test_marts_are_recreated_by_the_refresh_file_alone(filled_warehouse) -> None:
    before = mart(filled_warehouse, "top_directors", "director")
    with filled_warehouse.cursor() as cursor:
        for statement in warehouse.mart_statements():
            cursor.execute(statement)
    filled_warehouse.commit()
    assert mart(filled_warehouse, "top_directors", "director") == before
    with pytest.raises(psycopg2.errors.UndefinedTable):
        fetch(filled_warehouse, "select * from marts.no_such_mart")


def test_refreshes_running_at_once_leave_each_mart_row_once(filled_warehouse, pg_database) -> None:
    """Two runs may refresh the marts at the same moment: the refresh's lock takes them one at a time
    (without it, both delete the old rows and both insert, which the primary keys refuse here)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from imdb_pipeline import db

    expected = {name: mart(filled_warehouse, name, "1") for name in ("top_movies", "top_directors")}
    barrier = Barrier(2)

    def refresh() -> None:
        conn = psycopg2.connect(pg_database)
        try:
            with db.transaction(conn) as cursor:
                barrier.wait()
                for statement in warehouse.mart_statements():
                    cursor.execute(statement)
        finally:
            conn.close()

    for _ in range(3):
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda _: refresh(), range(2)))
    for name, rows in expected.items():
        assert sorted(map(repr, mart(filled_warehouse, name, "1"))) == sorted(map(repr, rows))
