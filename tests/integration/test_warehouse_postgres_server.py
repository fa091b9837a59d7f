"""The local PostgreSQL server manager and the shared fixtures, against a real server."""

import psycopg2
import pytest

from local_stack import postgres
from local_stack.processes import free_port

pytestmark = pytest.mark.postgres


def test_fresh_database_is_empty_and_separate(pg_database: str, pg_dsn: str) -> None:
    with psycopg2.connect(pg_database) as connection, connection.cursor() as cursor:
        cursor.execute("select current_database(), count(*) from information_schema.tables "
                       "where table_schema not in ('pg_catalog', 'information_schema')")
        database, tables = cursor.fetchone()
    assert database != "postgres"
    assert tables == 0


def test_start_reuses_running_server_and_reports_conflicts(pg_dsn: str, tmp_path) -> None:
    port = int(pg_dsn.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(postgres.PostgresServerError, match=f"Port {port} .* already in use"):
        postgres.start(tmp_path / "other", port)


def test_start_stop_status_and_stale_pid_file(tmp_path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    dsn = postgres.start(data_dir, port)
    try:
        assert postgres.start(data_dir, port) == dsn
        current = postgres.status(data_dir)
        assert current.running and current.port == port and current.dsn == dsn
        with pytest.raises(postgres.PostgresServerError, match=f"already running .* on port {port}"):
            postgres.start(data_dir, free_port())
    finally:
        assert postgres.stop(data_dir) is True
    assert postgres.status(data_dir).running is False
    assert postgres.stop(data_dir) is False

    # A crashed server leaves postmaster.pid naming a process that no longer exists.
    (data_dir / "postmaster.pid").write_text(f"999999999\n{data_dir}\n0\n{port}\n\n127.0.0.1\n0 0\nready\n")
    dsn = postgres.start(data_dir, port)
    try:
        with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
            cursor.execute("select 1")
            assert cursor.fetchone() == (1,)
    finally:
        postgres.stop(data_dir)


def test_server_sorts_bytewise_checkpoints_rarely_and_aggregates_distinct_keys_unsorted(pg_database: str) -> None:
    with psycopg2.connect(pg_database) as connection, connection.cursor() as cursor:
        cursor.execute("select datcollate from pg_database where datname = current_database()")
        assert cursor.fetchone() == ("C",)
        # Byte order, as Redshift compares: upper case before lower case, 'Z' before 'a'.
        cursor.execute("select array_agg(word order by word) from unnest(array['a', 'Z', 'b', 'B']) as word")
        assert cursor.fetchone() == (["B", "Z", "a", "b"],)
        cursor.execute("select current_setting('server_version_num')::int, current_setting('max_wal_size'), "
                       "current_setting('enable_presorted_aggregate', true)")  # fmt: skip
        version, max_wal_size, presorted = cursor.fetchone()
    assert presorted == ("off" if version >= 160000 else None)
    assert max_wal_size == "4GB"
