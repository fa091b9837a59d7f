"""The Soda quality gate against a real PostgreSQL server, on the Glue job's real output of the seed file.

Each test gets a fresh database with the warehouse DDL, stages the seed batch (changed as the test
needs) and verifies it with the same contract files that run on Redshift.
"""

import json
from pathlib import Path
from types import SimpleNamespace

import psycopg2
import psycopg2.extensions
import pytest
from imdb_pipeline import ledger, quality, warehouse
from movies_quality.columns import PROCESSED_COLUMNS

pytestmark = [pytest.mark.postgres, pytest.mark.spark]

REPO = Path(__file__).resolve().parents[2]
SEED_FILE = REPO / "data" / "imdb_movies_rating.csv"
SEED_OBJECT = "s3://imdb-quality-local/raw/imdb_movies_rating.csv"
BATCH = "20261125T203000Z-5eed0001"
NEXT_BATCH = "20261126T203000Z-5eed0002"


@pytest.fixture(scope="module")
def seed_rows(spark, tmp_path_factory) -> list[dict]:
    """The processed rows the Glue job makes of the seed file: the seed batch."""
    import pyarrow.parquet as pq
    from movies_quality.job import JobSettings, run_job

    output = tmp_path_factory.mktemp("glue") / f"batch_id={BATCH}"
    run_job(
        spark,
        JobSettings(
            input_uris=[str(SEED_FILE)], source_objects=[SEED_OBJECT], output_uri=str(output), batch_id=BATCH
        ),
    )
    return pq.read_table(output / "processed").to_pylist()


@pytest.fixture
def conn(pg_database):
    connection = psycopg2.connect(pg_database)
    with connection.cursor() as cursor:
        for statement in warehouse.ddl_statements("postgres"):
            cursor.execute(statement)
    connection.commit()
    yield connection
    connection.close()


@pytest.fixture
def data_source(pg_database) -> dict:
    """Built as in the DAG: from an Airflow-like connection of type postgres."""
    dsn = psycopg2.extensions.parse_dsn(pg_database)
    airflow_connection = SimpleNamespace(
        conn_id="redshift_default",
        conn_type="postgres",
        host=dsn["host"],
        port=int(dsn["port"]),
        login=dsn["user"],
        password=dsn.get("password"),
        schema=dsn["dbname"],
        extra=None,
    )
    return quality.soda_data_source(airflow_connection)


def stage(conn, rows: list[dict]) -> None:
    columns = PROCESSED_COLUMNS
    with conn.cursor() as cursor:
        cursor.execute("delete from movies.imdb_movies_staging")
        cursor.executemany(
            f"insert into movies.imdb_movies_staging ({', '.join(columns)}) "
            f"values ({', '.join(['%s'] * len(columns))})",
            [tuple(row[column] for column in columns) for row in rows],
        )
    conn.commit()


def query(conn, sql: str, params=()) -> list[tuple]:
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def checks(outcomes) -> list[str]:
    return sorted(outcome.check for outcome in outcomes)


def test_seed_batch_passes_the_gate_and_every_verdict_is_recorded(conn, data_source, seed_rows):
    stage(conn, seed_rows)

    result = quality.verify(quality.STAGING_CONTRACT, data_source, BATCH)
    quality.record_results(conn, BATCH, result)

    assert len(seed_rows) == 999
    assert [outcome for outcome in result if outcome.outcome != "pass"] == []
    assert {
        "checks.schema",
        "checks.row_count",
        "columns.movie_id.checks.missing",
        "columns.movie_id.checks.duplicate",
        "columns.imdb_rating.checks.invalid",
        "columns.no_of_votes.checks.invalid",
        "columns.released_year.checks.invalid",
        "columns.meta_score.checks.missing",
        "columns.gross_usd.checks.missing",
        "columns.certificate.checks.invalid",
    } <= set(checks(result))
    row_count = next(outcome for outcome in result if outcome.check == "checks.row_count")
    assert row_count.value == 999
    stored = query(conn, "select check_path, outcome from movies.dq_results where batch_id = %s", (BATCH,))
    assert sorted(stored) == sorted((outcome.check, "pass") for outcome in result)


def test_duplicate_movie_id_fails_the_gate(conn, data_source, seed_rows):
    stage(conn, [*seed_rows, dict(seed_rows[0])])

    result = quality.verify(quality.STAGING_CONTRACT, data_source, BATCH)

    assert checks(result.failed) == ["columns.movie_id.checks.duplicate"]
    with pytest.raises(
        quality.QualityGateFailed, match=r"columns\.movie_id\.checks\.duplicate \(movie_id is unique\)"
    ):
        raise quality.QualityGateFailed(result.failed)


@pytest.mark.parametrize(
    "movie_id",
    ["0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdeg"],
    ids=["upper-case", "31 characters", "not hex"],
)
def test_movie_id_that_is_not_an_md5_hex_digest_fails_the_gate(conn, data_source, seed_rows, movie_id):
    rows = [dict(row) for row in seed_rows]
    rows[3]["movie_id"] = movie_id
    stage(conn, rows)

    result = quality.verify(quality.STAGING_CONTRACT, data_source, BATCH)

    assert checks(result.failed) == ["columns.movie_id.checks.invalid"]
    (failed,) = result.failed
    assert failed.value == 1


def test_rating_of_11_fails_the_gate(conn, data_source, seed_rows):
    from decimal import Decimal

    rows = [dict(row) for row in seed_rows]
    rows[10]["imdb_rating"] = Decimal("11.0")
    stage(conn, rows)

    result = quality.verify(quality.STAGING_CONTRACT, data_source, BATCH)

    assert checks(result.failed) == ["columns.imdb_rating.checks.invalid"]
    (failed,) = result.failed
    assert failed.value == 1
    with pytest.raises(quality.QualityGateFailed, match="imdb_rating between 1 and 10"):
        raise quality.QualityGateFailed(result.failed)


def test_unknown_column_type_fails_the_schema_check(conn, data_source, seed_rows):
    stage(conn, seed_rows)
    with conn.cursor() as cursor:
        cursor.execute("alter table movies.imdb_movies_staging alter column gross_usd type varchar(32)")
    conn.commit()

    result = quality.verify(quality.STAGING_CONTRACT, data_source, BATCH)

    assert "checks.schema" in checks(result.failed)
    schema = next(outcome for outcome in result.failed if outcome.check == "checks.schema")
    assert schema.message == "column gross_usd is character varying(32), expected bigint"
    with pytest.raises(quality.QualityGateFailed, match="columns and types match the contract"):
        raise quality.QualityGateFailed(result.failed)


def test_warning_only_breach_passes_and_is_recorded(conn, data_source, seed_rows):
    # 25 % of meta scores missing: past the 21 % warning, short of the 32 % failure.
    rows = [dict(row) for row in seed_rows]
    missing_already = sum(1 for row in rows if row["meta_score"] is None)
    to_blank = [row for row in rows if row["meta_score"] is not None][: 250 - missing_already]
    for row in to_blank:
        row["meta_score"] = None
    stage(conn, rows)

    result = quality.verify(quality.STAGING_CONTRACT, data_source, BATCH)
    quality.record_results(conn, BATCH, result)

    assert not result.failed
    warnings = [outcome for outcome in result if outcome.outcome == "warn"]
    assert checks(warnings) == ["columns.meta_score.checks.missing"]
    (warned,) = warnings
    assert warned.value == pytest.approx(25.025, abs=0.01)
    assert warned.threshold == "fail unless value <= 32; warn unless value <= 21"
    stored = query(
        conn,
        "select outcome, value from movies.dq_results where batch_id = %s and check_path = %s",
        (BATCH, "columns.meta_score.checks.missing"),
    )
    assert stored == [("warn", pytest.approx(25.025, abs=0.01))]


def test_gate_over_the_airflow_connection_as_the_dag_runs_it(monkeypatch, conn, pg_database, seed_rows):
    """verify_staging reads the warehouse connection from Airflow (here from the environment)."""
    monkeypatch.setenv("AIRFLOW_CONN_REDSHIFT_DEFAULT", pg_database)
    stage(conn, [*seed_rows, dict(seed_rows[0])])

    result = quality.verify_staging("redshift_default", BATCH)
    quality.record_results(conn, BATCH, result)

    assert checks(result.failed) == ["columns.movie_id.checks.duplicate"]
    stored = query(conn, "select check_path from movies.dq_results where outcome = 'fail'")
    assert stored == [("columns.movie_id.checks.duplicate",)]
    assert [quality.CheckOutcome(**r) for r in json.loads(quality.results_json(result))] == list(result)


def test_another_batch_in_staging_neither_fails_nor_fills_this_batch(conn, data_source, seed_rows):
    # Staging holds every batch on its way: a broken batch beside this one does not fail its gate ...
    broken = [{**row, "batch_id": NEXT_BATCH} for row in seed_rows]
    broken.append(dict(broken[0]))  # a duplicate movie_id in the other batch
    stage(conn, [*seed_rows, *broken])

    assert not quality.verify(quality.STAGING_CONTRACT, data_source, BATCH).failed
    failed = quality.verify(quality.STAGING_CONTRACT, data_source, NEXT_BATCH).failed
    assert checks(failed) == ["columns.movie_id.checks.duplicate"]
    # ... and a batch with no row of its own fails, whatever else is staged.
    assert checks(quality.verify(quality.STAGING_CONTRACT, data_source, "20261127T000000Z-none0003").failed) == [
        "checks.row_count"
    ]


def test_missing_staging_table_fails_the_gate(conn, data_source):
    with conn.cursor() as cursor:
        cursor.execute("drop table movies.imdb_movies_staging")
    conn.commit()

    result = quality.verify(quality.STAGING_CONTRACT, data_source, BATCH)

    assert result.failed
    assert quality.VERIFICATION_CHECK in checks(result.failed)


def test_failed_gate_marks_the_ledger_and_a_rerun_replaces_its_results(conn, data_source, seed_rows):
    with conn.cursor() as cursor:
        for batch_id, key, status in [
            (BATCH, "raw/imdb_movies_rating.csv", "staged"),
            (BATCH, "raw/old.csv", "skipped"),
            (NEXT_BATCH, "raw/other.csv", "staged"),
        ]:
            cursor.execute(
                "insert into movies.load_ledger (batch_id, bucket, object_key, etag, status, rows_in,"
                " rows_loaded, rows_quarantined)"
                " values (%s, 'imdb-quality-local', %s, 'e', %s, 1000, 999, 1)",
                (batch_id, key, status),
            )
    conn.commit()
    stage(conn, [*seed_rows, dict(seed_rows[0])])

    for _attempt in range(2):
        result = quality.verify(quality.STAGING_CONTRACT, data_source, BATCH)
        quality.record_results(conn, BATCH, result)
        changed = ledger.mark_quality_failed(conn, BATCH, result.failed)

    assert changed == 1
    rows = query(conn, "select batch_id, object_key, status, reason from movies.load_ledger order by 1, 2")
    assert [row[:3] for row in rows] == [
        (BATCH, "raw/imdb_movies_rating.csv", "quality_failed"),
        (BATCH, "raw/old.csv", "skipped"),
        (NEXT_BATCH, "raw/other.csv", "staged"),
    ]
    assert rows[0][3] == (
        "quality gate failed: imdb_movies_staging: columns.movie_id.checks.duplicate (movie_id is unique)"
    )
    assert rows[1][3] is None and rows[2][3] is None
    stored = query(conn, "select count(*), count(distinct check_path) from movies.dq_results")
    assert stored == [(len(result.outcomes), len(result.outcomes))]


def test_target_row_count_never_shrinks(conn, data_source, seed_rows):
    target_columns = [column for column in PROCESSED_COLUMNS if column != "batch_id"]
    with conn.cursor() as cursor:
        cursor.executemany(
            f"insert into movies.imdb_movies ({', '.join(target_columns)}, first_loaded_batch,"
            f" last_loaded_batch, updated_at, source_time, source_modified_at)"
            f" values ({', '.join(['%s'] * len(target_columns))}, %s, %s, now(), now(), now())",
            [(*(row[column] for column in target_columns), BATCH, BATCH) for row in seed_rows],
        )
    conn.commit()
    first = quality.verify(
        quality.TARGET_CONTRACT,
        data_source,
        BATCH,
        variables={"previous_row_count": quality.previous_row_count(conn, BATCH)},
    )
    quality.record_results(conn, BATCH, first)
    with conn.cursor() as cursor:
        cursor.execute("delete from movies.imdb_movies where source_line < 12")
    conn.commit()

    floor = quality.previous_row_count(conn, NEXT_BATCH)
    second = quality.verify(
        quality.TARGET_CONTRACT, data_source, NEXT_BATCH, variables={"previous_row_count": floor}
    )

    assert not first.failed, [outcome.describe() for outcome in first.failed]
    assert floor == 999
    assert checks(second.failed) == ["checks.row_count"]
    (shrunk,) = second.failed
    assert shrunk.value == 989
    assert shrunk.threshold == "fail unless value >= 999"
