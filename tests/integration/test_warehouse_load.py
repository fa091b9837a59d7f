"""Loading batches into the warehouse on a real PostgreSQL server, from a real moto S3 server.

The merge runs as SQLExecuteQueryOperator runs it: common-sql's DbApiHook.run with
split_statements=True and autocommit=False, through a PostgresHook on an Airflow connection.
"""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from imdb_pipeline import db, ledger, warehouse
from imdb_pipeline.batch import ObjectVersion
from movies_quality.columns import PROCESSED_COLUMNS

from tests.fixtures.warehouse import BUCKET, processed_rows, publish_batch, seed_records

pytestmark = pytest.mark.postgres

MODIFIED = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # uploaded; the batches are processed later

SEED_KEY = "raw/imdb_movies_rating.csv"
SEED_URI = f"s3://{BUCKET}/{SEED_KEY}"
FIRST_BATCH = "20261125T200000Z-aaaa0001"
SECOND_BATCH = "20261126T200000Z-bbbb0002"


@pytest.fixture
def warehouse_hook(pg_database: str, monkeypatch: pytest.MonkeyPatch):
    """A PostgresHook on `redshift_default` pointing at the test database, as the local stack sets it."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    monkeypatch.setenv("AIRFLOW_CONN_REDSHIFT_DEFAULT", pg_database.replace("postgresql://", "postgres://", 1))
    return PostgresHook(postgres_conn_id="redshift_default")


def run_merge(hook, batch_id: str = FIRST_BATCH, statements: list[str] | None = None) -> None:
    """Merge the batch as the DAG's operator does: its statements, one transaction, the Airflow connection."""
    hook.run(statements or warehouse.merge_statements(batch_id, "postgres"), autocommit=False)


def snapshot(conn) -> dict:
    """Every row of the warehouse tables, to compare states."""
    tables = {
        "movies": "select * from movies.imdb_movies order by movie_id",
        "history": "select * from movies.rating_history order by movie_id, batch_id",
        "ledger": "select * from movies.load_ledger order by batch_id, bucket, object_key",
    }
    with conn.cursor() as cursor:
        result = {}
        for name, query in tables.items():
            cursor.execute(query)
            result[name] = cursor.fetchall()
    conn.rollback()
    return result


def scalar(conn, query: str, parameters=()):
    with conn.cursor() as cursor:
        cursor.execute(query, parameters)
        value = cursor.fetchone()[0]
    conn.rollback()
    return value


def load_seed(s3_client, batch_id: str = FIRST_BATCH) -> None:
    """Publish the seed's processed output and stage it as the DAG task does: Airflow connections."""
    records = seed_records()
    rows = processed_rows(records, source_object=SEED_URI, batch_id=batch_id, ingested_at=datetime(2026, 11, 25, 20))
    output_uri, _ = publish_batch(s3_client, batch_id, {SEED_URI: (len(records), rows)})
    s3 = S3Hook(aws_conn_id="aws_default").get_conn()
    with db.connect("redshift_default") as conn:
        staged = warehouse.load_staging(
            conn, s3, batch_id=batch_id, output_uri=output_uri, summary=warehouse.read_summary(s3, output_uri),
            objects=[{"bucket": BUCKET, "key": SEED_KEY, "etag": '"etag-seed-1"', "last_modified": MODIFIED}],
        )  # fmt: skip
        # The quality gate's verdict: only verified ledger rows are merged.
        ledger.mark_verified(conn, batch_id)
    assert staged == 999


def test_ddl_applies_cleanly_twice(warehouse_conn) -> None:
    warehouse.apply_ddl(warehouse_conn)
    with warehouse_conn.cursor() as cursor:
        cursor.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'movies' and table_name = 'imdb_movies_staging' order by ordinal_position"
        )
        assert tuple(row[0] for row in cursor.fetchall()) == PROCESSED_COLUMNS
        cursor.execute("select table_type, count(*) from information_schema.tables where table_schema = 'marts'"
                       " group by table_type")  # fmt: skip
        assert dict(cursor.fetchall()) == {"BASE TABLE": 3, "VIEW": 6}


def test_seed_loads_999_movies_and_reloading_changes_nothing(warehouse_conn, warehouse_s3, warehouse_hook) -> None:
    load_seed(warehouse_s3)
    run_merge(warehouse_hook)

    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies") == 999
    assert scalar(warehouse_conn, "select count(*) from movies.rating_history where change_type = 'new'") == 999
    with warehouse_conn.cursor() as cursor:
        cursor.execute("select status, etag, rows_in, rows_loaded, rows_quarantined from movies.load_ledger")
        assert cursor.fetchall() == [("loaded", "etag-seed-1", 1000, 999, 1)]
    warehouse_conn.rollback()
    after_first = snapshot(warehouse_conn)

    # The merge again (a task retry), then the whole batch again (a rerun of the DAG run).
    run_merge(warehouse_hook)
    load_seed(warehouse_s3)
    run_merge(warehouse_hook)
    assert snapshot(warehouse_conn) == after_first

    # Another version of the same key is not settled by the loaded one.
    seed_version = ObjectVersion(BUCKET, SEED_KEY, "etag-seed-1", MODIFIED)
    changed_version = ObjectVersion(BUCKET, SEED_KEY, "etag-seed-2", MODIFIED)
    assert ledger.settled_statuses(warehouse_conn, [seed_version, changed_version]) == {seed_version: {"loaded"}}
    assert ledger.record_skipped(warehouse_conn, SECOND_BATCH, [seed_version]) == 1
    assert ledger.record_skipped(warehouse_conn, SECOND_BATCH, [seed_version]) == 0
    assert scalar(warehouse_conn, "select count(*) from movies.load_ledger where status = 'skipped'") == 1


def test_changed_ratings_and_new_movies_add_exactly_their_history(warehouse_conn, warehouse_s3, warehouse_hook) -> None:
    load_seed(warehouse_s3)
    run_merge(warehouse_hook)

    records = seed_records()
    valid = [record for record in records if record["Released_Year"].isdigit()]
    changed = [dict(record) for record in valid[100:110]]
    for number, record in enumerate(changed):
        # Half change the rating, half only the votes.
        if number % 2:
            record["IMDB_Rating"] = str(Decimal(record["IMDB_Rating"]) - Decimal("0.1"))
        else:
            record["No_of_Votes"] = str(int(record["No_of_Votes"]) + 1000)
    new = [{**valid[number], "Series_Title": f"A New Movie {number}", "line": 0} for number in range(5)]
    unchanged = valid[200:220]
    update_records = [{**record, "line": line} for line, record in enumerate(changed + new + unchanged, start=2)]
    update_uri = f"s3://{BUCKET}/raw/update.csv"
    rows = processed_rows(update_records, source_object=update_uri, batch_id=SECOND_BATCH,
                          ingested_at=datetime(2026, 11, 26, 20))  # fmt: skip
    output_uri, summary = publish_batch(warehouse_s3, SECOND_BATCH, {update_uri: (len(update_records), rows)})
    warehouse.load_staging(
        warehouse_conn, warehouse_s3, batch_id=SECOND_BATCH, output_uri=output_uri, summary=summary,
        objects=[(BUCKET, "raw/update.csv", "etag-update", MODIFIED)],
    )  # fmt: skip
    ledger.mark_verified(warehouse_conn, SECOND_BATCH)
    run_merge(warehouse_hook, SECOND_BATCH)

    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies") == 1004
    with warehouse_conn.cursor() as cursor:
        cursor.execute("select change_type, count(*) from movies.rating_history where batch_id = %s "
                       "group by change_type order by change_type", (SECOND_BATCH,))  # fmt: skip
        assert cursor.fetchall() == [("changed", 10), ("new", 5)]
        changed_row = rows[1]
        cursor.execute(
            "select imdb_rating, no_of_votes, first_loaded_batch, last_loaded_batch from movies.imdb_movies "
            "where movie_id = %s",
            (changed_row["movie_id"],),
        )
        assert cursor.fetchone() == (changed_row["imdb_rating"], changed_row["no_of_votes"], FIRST_BATCH, SECOND_BATCH)
        cursor.execute("select status, rows_in, rows_loaded from movies.load_ledger where batch_id = %s",
                       (SECOND_BATCH,))  # fmt: skip
        assert cursor.fetchall() == [("loaded", 35, 35)]
    warehouse_conn.rollback()
    assert scalar(warehouse_conn, "select count(*) from movies.rating_history") == 999 + 15


def test_an_older_file_arriving_later_never_replaces_newer_data(
    warehouse_conn, warehouse_s3, warehouse_hook
) -> None:
    # Today's file is loaded first; last week's file for the same movies lands a day later.
    load_seed(warehouse_s3)
    run_merge(warehouse_hook)
    before = snapshot(warehouse_conn)["movies"]
    valid = [record for record in seed_records() if record["Released_Year"].isdigit()]
    stale = [{**record, "IMDB_Rating": "1.0", "line": line} for line, record in enumerate(valid[100:110], start=2)]
    stale_key = "raw/dt=2026-11-18/last_week.csv"
    stale_uri = f"s3://{BUCKET}/{stale_key}"
    rows = processed_rows(stale, source_object=stale_uri, batch_id=SECOND_BATCH, ingested_at=datetime(2026, 11, 26))
    output_uri, summary = publish_batch(warehouse_s3, SECOND_BATCH, {stale_uri: (len(stale), rows)})
    arrived = MODIFIED + timedelta(days=1)
    warehouse.load_staging(warehouse_conn, warehouse_s3, batch_id=SECOND_BATCH, output_uri=output_uri,
                           summary=summary, objects=[(BUCKET, stale_key, "e-old", arrived)])  # fmt: skip
    ledger.mark_verified(warehouse_conn, SECOND_BATCH)
    run_merge(warehouse_hook, SECOND_BATCH)

    # Before: the merge updated unconditionally, rolling ratings back and writing fake "changed" history.
    assert snapshot(warehouse_conn)["movies"] == before
    history = "select count(*) from movies.rating_history where batch_id = %s"
    assert scalar(warehouse_conn, history, (SECOND_BATCH,)) == 0
    with warehouse_conn.cursor() as cursor:
        cursor.execute("select status, rows_loaded, reason from movies.load_ledger where batch_id = %s",
                       (SECOND_BATCH,))  # fmt: skip
        assert cursor.fetchall() == [("loaded", 0, "10 valid rows superseded by a later row of the same movie "
                                                   "(in this batch or already loaded)")]  # fmt: skip
    warehouse_conn.rollback()


def test_history_observes_the_data_time_not_the_processing_time(
    warehouse_conn, warehouse_s3, warehouse_hook
) -> None:
    load_seed(warehouse_s3)  # processed at 2026-11-25 20:00, uploaded (LastModified) MODIFIED
    run_merge(warehouse_hook)
    uploaded = MODIFIED.replace(tzinfo=None)
    assert scalar(warehouse_conn, "select distinct observed_at from movies.rating_history") == uploaded
    assert scalar(warehouse_conn, "select distinct source_time from movies.imdb_movies") == uploaded


def test_failure_between_merge_and_ledger_update_leaves_no_partial_state(
    warehouse_conn, warehouse_s3, warehouse_hook
) -> None:
    load_seed(warehouse_s3)
    before = snapshot(warehouse_conn)
    statements = warehouse.merge_statements(FIRST_BATCH, "postgres")
    ledger_update = len(statements) - len(ledger.loaded_statements(FIRST_BATCH))
    injected = "select cast('injected failure' as integer)"
    failing = [*statements[:ledger_update], injected, *statements[ledger_update:]]

    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        run_merge(warehouse_hook, statements=failing)

    assert snapshot(warehouse_conn) == before
    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies") == 0
    # The same batch merges cleanly afterwards.
    run_merge(warehouse_hook)
    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies") == 999


def test_values_round_trip_exactly_and_are_never_spliced(warehouse_conn, warehouse_s3, warehouse_hook) -> None:
    source = f"s3://{BUCKET}/raw/tricky.csv"
    base = processed_rows(seed_records()[:1], source_object=source, batch_id=FIRST_BATCH,
                          ingested_at=datetime(2026, 11, 25, 20, 1, 2, 345678))[0]  # fmt: skip
    tricky = {
        **base,
        "movie_id": "0" * 32,
        "series_title": "Robert'); DROP TABLE movies;--",
        "overview": "Quotes \" and ' and a\nnewline, a comma and \\ a backslash",
        "certificate": "",
        "star4": None,
        "imdb_rating": Decimal("9.9"),
        "no_of_votes": 2**62,
        "gross_usd": None,
        "is_quality_movie": False,
    }
    output_uri, summary = publish_batch(warehouse_s3, FIRST_BATCH, {source: (2, [tricky, base])})
    warehouse.load_staging(warehouse_conn, warehouse_s3, batch_id=FIRST_BATCH, output_uri=output_uri,
                                summary=summary, objects=[(BUCKET, "raw/tricky.csv", "e", MODIFIED)])  # fmt: skip
    ledger.mark_verified(warehouse_conn, FIRST_BATCH)
    run_merge(warehouse_hook)

    columns = ", ".join(PROCESSED_COLUMNS[:-2] + ("ingested_at",))
    with warehouse_conn.cursor() as cursor:
        cursor.execute(f"select {columns} from movies.imdb_movies order by movie_id")
        loaded = cursor.fetchall()
        cursor.execute("select count(*) from information_schema.tables where table_schema = 'movies'")
        assert cursor.fetchone()[0] == 5
    expected = [tuple(row[name] for name in PROCESSED_COLUMNS if name != "batch_id") for row in (tricky, base)]
    assert sorted(loaded) == sorted(expected)


@pytest.fixture(params=["psycopg2", "psycopg"])
def either_driver_conn(request, warehouse_conn, pg_database: str):
    """The warehouse database through psycopg2 or psycopg 3 (PostgresHook uses psycopg 3 when it is
    installed): their COPY FROM STDIN APIs differ."""
    if request.param == "psycopg2":
        yield warehouse_conn
        return
    with psycopg.connect(pg_database) as conn:
        yield conn


def publish_two_halves(s3) -> tuple[list[list[dict]], str, dict, list[tuple]]:
    """The seed's processed rows published as one batch of two files (its first 500 records, the rest):
    (rows per file, output_uri, summary, the batch's objects)."""
    records = seed_records()
    sources = [f"s3://{BUCKET}/raw/first.csv", f"s3://{BUCKET}/raw/second.csv"]
    parts = (records[:500], records[500:])
    rows = [processed_rows(part, source_object=source, batch_id=FIRST_BATCH, ingested_at=datetime(2026, 1, 1))
            for source, part in zip(sources, parts, strict=True)]  # fmt: skip
    files = {source: (len(part), file_rows) for source, part, file_rows in zip(sources, parts, rows, strict=True)}
    output_uri, summary = publish_batch(s3, FIRST_BATCH, files)
    objects = [(BUCKET, "raw/first.csv", "e1", MODIFIED), (BUCKET, "raw/second.csv", "e2", MODIFIED)]
    return rows, output_uri, summary, objects


def test_a_batch_of_several_objects_streams_in_chunks_and_stages_every_row_once(
    either_driver_conn, warehouse_s3, monkeypatch
) -> None:
    monkeypatch.setattr(warehouse, "COPY_BATCH_ROWS", 100)  # 999 seed rows: many chunks per object
    rows, output_uri, summary, objects = publish_two_halves(warehouse_s3)

    staged = warehouse.load_staging(either_driver_conn, warehouse_s3, batch_id=FIRST_BATCH, output_uri=output_uri,
                                    summary=summary, objects=objects)  # fmt: skip

    assert staged == 999
    with either_driver_conn.cursor() as cursor:
        cursor.execute(f"select {', '.join(PROCESSED_COLUMNS)} from movies.imdb_movies_staging")
        loaded = cursor.fetchall()
    either_driver_conn.rollback()
    expected = [tuple(row[name] for name in PROCESSED_COLUMNS) for part in rows for row in part]
    assert sorted(loaded) == sorted(expected)


LEDGER_STATES = "select string_agg(object_key || ':' || status, ',' order by object_key) from movies.load_ledger"


def test_a_retry_with_an_object_of_other_columns_fails_naming_it_and_keeps_the_earlier_attempt(
    either_driver_conn, warehouse_s3, monkeypatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setattr(warehouse, "COPY_BATCH_ROWS", 100)  # the first object is mid-COPY when the second fails
    rows, output_uri, summary, objects = publish_two_halves(warehouse_s3)
    warehouse.load_staging(either_driver_conn, warehouse_s3, batch_id=FIRST_BATCH, output_uri=output_uri,
                           summary=summary, objects=objects)  # fmt: skip
    ledger_before = scalar(either_driver_conn, LEDGER_STATES)
    # The retry, which first deletes the batch's staged rows, meets a second object with a column missing.
    second_part = f"processed/batch_id={FIRST_BATCH}/processed/part-00001.snappy.parquet"
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows[1]).drop_columns(["poster_link"]), buffer)
    warehouse_s3.put_object(Bucket=BUCKET, Key=second_part, Body=buffer.getvalue())

    with pytest.raises(warehouse.StagingLoadError, match=rf"{second_part}: columns .* differ from the staging"):
        warehouse.load_staging(either_driver_conn, warehouse_s3, batch_id=FIRST_BATCH, output_uri=output_uri,
                               summary=summary, objects=objects)  # fmt: skip
    assert scalar(either_driver_conn, "select count(*) from movies.imdb_movies_staging") == 999
    assert ledger_before == "raw/first.csv:staged,raw/second.csv:staged"
    assert scalar(either_driver_conn, LEDGER_STATES) == ledger_before
    assert [thread.name for thread in threading.enumerate() if thread.name == "staging-csv"] == []


def test_counts_that_do_not_reconcile_fail_naming_the_file_and_change_nothing(warehouse_conn, warehouse_s3) -> None:
    records = seed_records()[:10]
    rows = processed_rows(records, source_object=SEED_URI, batch_id=FIRST_BATCH, ingested_at=datetime(2026, 1, 1))
    output_uri, summary = publish_batch(warehouse_s3, FIRST_BATCH, {SEED_URI: (10, rows)})
    summary["files"][0]["rows_valid"] = 11
    summary["rows_valid"] = 11

    with pytest.raises(warehouse.StagingLoadError, match=r"raw/imdb_movies_rating\.csv"):
        warehouse.load_staging(warehouse_conn, warehouse_s3, batch_id=FIRST_BATCH, output_uri=output_uri,
                                    summary=summary, objects=[(BUCKET, SEED_KEY, "e", MODIFIED)])  # fmt: skip
    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies_staging") == 0
    assert scalar(warehouse_conn, "select count(*) from movies.load_ledger") == 0


def test_rejected_files_and_duplicates_are_accounted_for_in_the_ledger(
    warehouse_conn, warehouse_s3, warehouse_hook
) -> None:
    records = seed_records()[:3]
    first, second = f"s3://{BUCKET}/raw/a.csv", f"s3://{BUCKET}/raw/b.csv"
    rows_a = processed_rows(records, source_object=first, batch_id=FIRST_BATCH, ingested_at=datetime(2026, 1, 1))
    # b.csv repeats the first movie with more votes: the later file's row wins, a.csv's is superseded.
    rows_b = processed_rows(records[:1], source_object=second, batch_id=FIRST_BATCH, ingested_at=datetime(2026, 1, 1))
    rows_b[0]["no_of_votes"] += 5
    broken = f"s3://{BUCKET}/raw/broken.csv"
    output_uri, summary = publish_batch(
        warehouse_s3, FIRST_BATCH, {first: (3, rows_a), second: (1, rows_b)},
        rejected={broken: "broken.csv line 1: header lacks column Series_Title"},
    )  # fmt: skip
    objects = [(BUCKET, key, etag, MODIFIED) for key, etag in
               (("raw/a.csv", "ea"), ("raw/b.csv", "eb"), ("raw/broken.csv", "ec"))]  # fmt: skip
    warehouse.load_staging(warehouse_conn, warehouse_s3, batch_id=FIRST_BATCH, output_uri=output_uri,
                                summary=summary, objects=objects)  # fmt: skip
    ledger.mark_verified(warehouse_conn, FIRST_BATCH)
    run_merge(warehouse_hook)

    with warehouse_conn.cursor() as cursor:
        cursor.execute("select object_key, status, rows_in, rows_loaded, reason from movies.load_ledger "
                       "order by object_key")  # fmt: skip
        rows = cursor.fetchall()
        cursor.execute("select no_of_votes from movies.imdb_movies where movie_id = %s", (rows_b[0]["movie_id"],))
        assert cursor.fetchone()[0] == rows_b[0]["no_of_votes"]
    assert rows == [
        ("raw/a.csv", "loaded", 3, 2,
         "1 valid rows superseded by a later row of the same movie (in this batch or already loaded)"),
        ("raw/b.csv", "loaded", 1, 1, None),
        ("raw/broken.csv", "rejected", 0, 0, "broken.csv line 1: header lacks column Series_Title"),
    ]
    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies") == 3


def test_two_staged_batches_coexist_and_each_merge_takes_only_its_own(
    warehouse_conn, warehouse_s3, warehouse_hook
) -> None:
    # Run A passed its gate but was not merged when run B staged (a backfill beside an event run).
    load_seed(warehouse_s3)
    load_seed(warehouse_s3, batch_id=SECOND_BATCH)
    run_merge(warehouse_hook, SECOND_BATCH)

    with warehouse_conn.cursor() as cursor:
        cursor.execute("select batch_id, status, reason from movies.load_ledger order by batch_id")
        # B loaded the seed version; A never will load it twice: it is settled as skipped.
        assert cursor.fetchall() == [(FIRST_BATCH, "skipped", f"loaded by batch {SECOND_BATCH}"),
                                     (SECOND_BATCH, "loaded", None)]  # fmt: skip
        cursor.execute("select count(*) from movies.imdb_movies_staging")
        assert cursor.fetchone() == (0,)
    warehouse_conn.rollback()
    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies where first_loaded_batch = %s",
                  (SECOND_BATCH,)) == 999  # fmt: skip
    # A's merge now has nothing verified: it fails instead of saying "loaded".
    with pytest.raises(warehouse.NothingToMerge):
        hook_run_checked(warehouse_hook, FIRST_BATCH)


def test_a_batch_staged_after_another_loaded_its_version_is_skipped_inside_the_merge_lock(
    warehouse_conn, warehouse_s3, warehouse_hook
) -> None:
    from imdb_pipeline import batch_figures, notifications

    # Runs A and B both resolved the seed version; A loaded it before B staged (B's rows did not
    # exist yet for A's merge to settle), then B passed its gate.
    load_seed(warehouse_s3)
    hook_run_checked(warehouse_hook, FIRST_BATCH)
    load_seed(warehouse_s3, batch_id=SECOND_BATCH)
    before = snapshot(warehouse_conn)["movies"]

    hook_run_checked(warehouse_hook, SECOND_BATCH)

    assert snapshot(warehouse_conn)["movies"] == before  # nothing loaded twice, no history written
    assert scalar(warehouse_conn, "select count(*) from movies.rating_history where batch_id = %s",
                  (SECOND_BATCH,)) == 0  # fmt: skip
    with warehouse_conn.cursor() as cursor:
        cursor.execute("select status, rows_loaded, reason from movies.load_ledger where batch_id = %s",
                       (SECOND_BATCH,))  # fmt: skip
        assert cursor.fetchall() == [("skipped", 0, f"loaded meanwhile by batch {FIRST_BATCH}")]
    warehouse_conn.rollback()
    # The run's notice follows the ledger: B loaded nothing, so it must not say "loaded".
    figures = batch_figures.batch_figures(warehouse_conn, SECOND_BATCH)
    subject, _ = notifications.success_message({}, [], figures, batch_id=SECOND_BATCH, run_url="u")
    assert (figures["files_loaded"], subject) == (0, f"[imdb_quality_ingest] SKIPPED: batch {SECOND_BATCH}")


def test_merges_running_at_once_serialise_and_load_a_shared_version_once(
    warehouse_conn, warehouse_s3, warehouse_hook
) -> None:
    import threading

    load_seed(warehouse_s3)
    load_seed(warehouse_s3, batch_id=SECOND_BATCH)
    outcomes: dict[str, str] = {}
    start = threading.Barrier(2)

    def merge(batch_id: str) -> None:
        start.wait()
        try:
            hook_run_checked(warehouse_hook, batch_id)
            outcomes[batch_id] = "merged"
        except warehouse.NothingToMerge:
            outcomes[batch_id] = "nothing to merge"

    threads = [threading.Thread(target=merge, args=(batch_id,)) for batch_id in (FIRST_BATCH, SECOND_BATCH)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # The ledger lock orders them: the first loads the version, the second finds it settled.
    assert sorted(outcomes.values()) == ["merged", "nothing to merge"], outcomes
    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies") == 999
    assert scalar(warehouse_conn, "select count(*) from movies.rating_history") == 999
    with warehouse_conn.cursor() as cursor:
        cursor.execute("select status, count(*) from movies.load_ledger group by status order by status")
        assert cursor.fetchall() == [("loaded", 1), ("skipped", 1)]
    warehouse_conn.rollback()


def hook_run_checked(hook, batch_id: str) -> None:
    """The merge as the DAG's operator runs it, result handler included."""
    from airflow.exceptions import AirflowFailException

    try:
        hook.run(warehouse.merge_statements(batch_id, "postgres"), autocommit=False,
                 handler=warehouse.check_merge_result)  # fmt: skip
    except AirflowFailException as failure:
        raise failure.__cause__ from None


def test_only_batches_that_passed_the_gate_are_merged(warehouse_conn, warehouse_s3, warehouse_hook) -> None:
    rows = processed_rows(seed_records()[:5], source_object=SEED_URI, batch_id=FIRST_BATCH,
                          ingested_at=datetime(2026, 1, 1))  # fmt: skip
    output_uri, summary = publish_batch(warehouse_s3, FIRST_BATCH, {SEED_URI: (5, rows)})
    warehouse.load_staging(warehouse_conn, warehouse_s3, batch_id=FIRST_BATCH, output_uri=output_uri,
                                summary=summary, objects=[(BUCKET, SEED_KEY, "e", MODIFIED)])  # fmt: skip

    run_merge(warehouse_hook, SECOND_BATCH)  # e.g. another run's merge while this batch still waits for its gate
    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies") == 0
    assert scalar(warehouse_conn, "select status from movies.load_ledger") == "staged"
    # Its own merge before the gate passed fails, and changes nothing.
    with pytest.raises(warehouse.NothingToMerge):
        hook_run_checked(warehouse_hook, FIRST_BATCH)
    assert scalar(warehouse_conn, "select status from movies.load_ledger") == "staged"

    ledger.mark_verified(warehouse_conn, FIRST_BATCH)
    run_merge(warehouse_hook)
    assert scalar(warehouse_conn, "select count(*) from movies.imdb_movies") == len(rows)
    assert scalar(warehouse_conn, "select status from movies.load_ledger") == "loaded"
