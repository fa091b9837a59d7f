"""The warehouse SQL files and warehouse.py without a database: parsing, dialects, the Redshift COPY."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import boto3
import jinja2
import pytest
import sqlglot
from airflow.providers.common.sql.hooks.sql import DbApiHook
from imdb_pipeline import db, warehouse
from moto import mock_aws
from movies_quality.columns import PROCESSED_COLUMNS
from sqlglot import exp

SQL_DIR = Path(__file__).resolve().parents[2] / "include" / "sql"
REDSHIFT_FILES = sorted(
    path for domain in ("movies", "marts", "ledger", "quality") for path in SQL_DIR.glob(f"{domain}/*.sql")
)
# sqlglot has no LOCK statement: its form is checked here, and the locks run in every merge and marts
# refresh of the integration tests.
LOCK = re.compile(r"^lock [a-z_]+\.[a-z_]+(, [a-z_]+\.[a-z_]+)*$")
ATHENA_FILES = sorted(SQL_DIR.glob("athena/*.sql"))
MY_TABLES = ("imdb_movies", "imdb_movies_staging", "rating_history", "load_ledger")


def parsed(statement: str) -> exp.Expression | None:
    """The statement's sqlglot tree, or None for a well-formed LOCK (any other text must parse)."""
    code = " ".join(line for line in statement.splitlines() if not line.lstrip().startswith("--")).strip()
    if LOCK.match(code):
        return None
    return sqlglot.parse_one(statement, read="redshift", error_level=sqlglot.ErrorLevel.RAISE)


def columns(statement: str, dialect: str) -> list[tuple[str, str]]:
    tree = sqlglot.parse_one(statement, read=dialect)
    return [(column.name, column.args["kind"].sql(dialect)) for column in tree.find_all(exp.ColumnDef)]


def table_ddl(dialect: str) -> dict[str, str]:
    found = {}
    for statement in warehouse.ddl_statements(dialect):
        tree = sqlglot.parse_one(statement, read=dialect)
        if tree.args.get("kind") == "TABLE":
            found[tree.find(exp.Table).name] = statement
    return found


@pytest.mark.parametrize("path", REDSHIFT_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_redshift_sql_file_parses_with_the_redshift_parser(path: Path) -> None:
    # Bound as db.execute binds them: named placeholders (and the quality files' positional ones).
    text = re.sub(r"%\(\w+\)s|%s", "'value'", path.read_text())
    statements = db.split_statements(text)
    assert statements
    for statement in statements:
        tree = parsed(statement)
        # A Command is sqlglot's unparsed fallback: it would prove nothing.
        assert not isinstance(tree, exp.Command), statement


@pytest.mark.parametrize("path", ["marts/refresh_marts.sql"])
def test_the_operator_splits_multi_statement_files_as_we_do(path: str) -> None:
    """SQLExecuteQueryOperator(split_statements=True) splits with sqlparse: same statements."""
    text = db.sql_text(path)
    ours = [tree and tree.sql(comments=False) for tree in map(parsed, db.split_statements(text))]
    operator = [
        tree and tree.sql(comments=False)
        for tree in map(parsed, DbApiHook.split_sql_string(text, strip_semicolon=True))
    ]
    assert ours == operator
    # psycopg reads `%` as a placeholder when the DAG passes parameters: keep the files free of it.
    assert "%" not in text


def test_split_statements_ignores_semicolons_in_strings_and_comments() -> None:
    text = "-- a; comment\nselect 'a;b' as x;\n/* c; */ select 2;\n-- trailing; comment\n"
    assert db.split_statements(text) == ["-- a; comment\nselect 'a;b' as x", "/* c; */ select 2"]


def test_ddl_puts_the_schema_first_and_keeps_redshift_storage_clauses() -> None:
    statements = warehouse.ddl_statements("redshift")
    assert statements[0].endswith("create schema if not exists movies")
    merged = " ".join(statements).lower()
    for clause in ("distkey (movie_id)", "sortkey (movie_id)", "encode az64", "diststyle all"):
        assert clause in merged
    assert all(" if not exists " in f" {s.lower()} " for s in statements)


def test_postgres_ddl_drops_redshift_storage_clauses_only() -> None:
    postgres = " ".join(warehouse.ddl_statements("postgres")).upper()
    for clause in ("DISTKEY", "SORTKEY", "DISTSTYLE", "ENCODE", "GETDATE"):
        assert clause not in postgres
    assert "PRIMARY KEY (MOVIE_ID)" in postgres
    assert "DEFAULT CURRENT_TIMESTAMP" in postgres


def test_redshift_and_postgres_ddl_have_the_same_columns() -> None:
    redshift, postgres = table_ddl("redshift"), table_ddl("postgres")
    assert set(MY_TABLES) <= set(redshift) and redshift.keys() == postgres.keys()
    for table in redshift:
        # Types compared in one dialect's spelling: only the storage clauses may differ.
        assert columns(redshift[table], "redshift") == columns(
            sqlglot.transpile(postgres[table], read="postgres", write="redshift")[0], "redshift"
        ), table


def test_staging_follows_the_processed_parquet_contract_and_imdb_movies_extends_it() -> None:
    ddl = table_ddl("redshift")
    staging = [name for name, _ in columns(ddl["imdb_movies_staging"], "redshift")]
    assert tuple(staging) == PROCESSED_COLUMNS
    movies = [name for name, _ in columns(ddl["imdb_movies"], "redshift")]
    assert set(staging) - set(movies) == {"batch_id"}
    assert set(movies) - set(staging) == {
        "first_loaded_batch", "last_loaded_batch", "updated_at", "source_time", "source_modified_at"
    }


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="snowflake"):
        warehouse.ddl_statements("snowflake")


def test_dialect_follows_the_dbapi_driver() -> None:
    class RedshiftConnection:
        __module__ = "redshift_connector.core"

    class SqliteConnection:
        __module__ = "sqlite3"

    assert db.dialect_of(RedshiftConnection()) == "redshift"
    with pytest.raises(ValueError, match="Unsupported warehouse connection"):
        db.dialect_of(SqliteConnection())


class RecordingCursor:
    """A cursor that records statements; `select` answers with the staged counts given."""

    def __init__(self, counts):
        self.statements, self.counts, self.rowcount = [], counts, 1

    def execute(self, sql, parameters=None):
        self.statements.append((" ".join(sql.split()), parameters))

    def fetchall(self):
        return self.counts

    def close(self):
        pass


class RedshiftConnection:
    __module__ = "redshift_connector.core"

    def __init__(self, counts):
        self.cursor_ = RecordingCursor(counts)
        self.committed = self.rolled_back = False

    def cursor(self):
        return self.cursor_

    def commit(self):
        self.committed = True

    def rollback(self):
        self.rolled_back = True


SUMMARY = {
    "batch_id": "b1",
    "rows_valid": 5,
    "files": [{"source_object": "s3://bkt/raw/a.csv", "status": "processed", "error": None,
               "rows_in": 6, "rows_valid": 5, "rows_quarantined": 1}],
}  # fmt: skip
OUTPUT_URI = "s3://bkt/processed/batch_id=b1/"
ROLE = "arn:aws:iam::123456789012:role/imdb-redshift-copy"
MODIFIED = datetime(2026, 11, 25, 20, tzinfo=UTC)


@pytest.fixture
def s3_with_parts():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="bkt")
        client.put_object(Bucket="bkt", Key="processed/batch_id=b1/processed/part-00000.snappy.parquet", Body=b"12345")
        client.put_object(Bucket="bkt", Key="processed/batch_id=b1/processed/_SUCCESS", Body=b"")
        yield client


def test_redshift_copies_exactly_the_listed_parquet_through_a_manifest(s3_with_parts) -> None:
    conn = RedshiftConnection(counts=[("s3://bkt/raw/a.csv", 5)])
    staged = warehouse.load_staging(
        conn, s3_with_parts, batch_id="b1", output_uri=OUTPUT_URI, summary=SUMMARY,
        objects=[("bkt", "raw/a.csv", '"etag-a"', MODIFIED)], iam_role=ROLE,
    )  # fmt: skip
    assert staged == 5 and conn.committed
    copies = [sql for sql, _ in conn.cursor_.statements if sql.startswith("copy")]
    assert copies == [
        "copy movies.imdb_movies_staging from 's3://bkt/processed/batch_id=b1/staging.manifest' "
        f"iam_role '{ROLE}' format as parquet manifest"
    ]
    assert not any(sql.startswith("truncate") for sql, _ in conn.cursor_.statements)
    manifest = json.loads(
        s3_with_parts.get_object(Bucket="bkt", Key="processed/batch_id=b1/staging.manifest")["Body"].read()
    )
    assert manifest == {
        "entries": [{"url": "s3://bkt/processed/batch_id=b1/processed/part-00000.snappy.parquet",
                     "mandatory": True, "meta": {"content_length": 5}}]
    }  # fmt: skip
    ledger = [params for sql, params in conn.cursor_.statements if sql.startswith("insert into movies.load_ledger")]
    assert ledger == [("b1", "bkt", "raw/a.csv", "etag-a", "staged", 6, 1, None, datetime(2026, 11, 25, 20),
                       datetime(2026, 11, 25, 20), "b1", "bkt", "raw/a.csv")]  # fmt: skip


@pytest.mark.parametrize("role", [None, "", "arn:aws:iam::123456789012:role/x' credentials 'y"])
def test_redshift_copy_refuses_a_missing_or_unsafe_role(s3_with_parts, role) -> None:
    conn = RedshiftConnection(counts=[])
    with pytest.raises(warehouse.StagingLoadError, match="IAM role"):
        warehouse.load_staging(conn, s3_with_parts, batch_id="b1", output_uri=OUTPUT_URI, summary=SUMMARY,
                                    objects=[("bkt", "raw/a.csv", "e", MODIFIED)], iam_role=role)  # fmt: skip
    assert conn.rolled_back and not conn.committed


def test_summary_naming_an_object_outside_the_batch_is_refused(s3_with_parts) -> None:
    objects = [("bkt", "raw/other.csv", "e", MODIFIED)]
    with pytest.raises(warehouse.StagingLoadError, match=r"s3://bkt/raw/a\.csv, which is not an object of the batch"):
        warehouse.load_staging(RedshiftConnection([]), s3_with_parts, batch_id="b1", output_uri=OUTPUT_URI,
                                    summary=SUMMARY, objects=objects, iam_role=ROLE)  # fmt: skip


def test_staged_counts_must_match_the_summary(s3_with_parts) -> None:
    conn = RedshiftConnection(counts=[("s3://bkt/raw/a.csv", 4)])
    with pytest.raises(warehouse.StagingLoadError, match=r"raw/a\.csv.*rows_valid"):
        warehouse.load_staging(conn, s3_with_parts, batch_id="b1", output_uri=OUTPUT_URI, summary=SUMMARY,
                                    objects=[("bkt", "raw/a.csv", "e", MODIFIED)], iam_role=ROLE)  # fmt: skip
    assert conn.rolled_back and not conn.committed


def render_athena(path: Path) -> str:
    """Render a file as AthenaOperator would, with stand-ins for `var` and `ti`."""

    class Variables:
        def get(self, name, default):
            return {"imdb_bucket": "imdb-quality", "imdb_processed_prefix": "processed/"}.get(name, default)

    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(path.read_text())
    batch = {"batch_id": "20261125T203000Z-1a2b3c4d",
             "location": "s3://imdb-quality/processed/batch_id=20261125T203000Z-1a2b3c4d/processed/"}  # fmt: skip
    return db.render(template.render(var={"value": Variables()}), batch)


def test_the_partition_of_a_merged_batch_points_at_its_processed_parquet() -> None:
    statement = warehouse.athena_partition_statement(
        "20261125T203000Z-1a2b3c4d", "s3://imdb-quality/processed/batch_id=20261125T203000Z-1a2b3c4d/"
    )
    assert statement.endswith(
        "partition (batch = '20261125T203000Z-1a2b3c4d')\n"
        "location 's3://imdb-quality/processed/batch_id=20261125T203000Z-1a2b3c4d/processed/'"
    )
    with pytest.raises(ValueError, match="Invalid batch_id"):
        warehouse.athena_partition_statement("x'; drop", "s3://b/p/")


@pytest.mark.parametrize("path", ATHENA_FILES, ids=lambda path: path.name)
def test_every_athena_file_parses_with_the_athena_parser(path: Path) -> None:
    statements = sqlglot.parse(render_athena(path), read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    statements = [statement for statement in statements if statement is not None]
    assert len(statements) == 1 and not isinstance(statements[0], exp.Command)


def test_athena_table_matches_the_processed_parquet_contract() -> None:
    rendered = render_athena(SQL_DIR / "athena" / "create_processed_table.sql")
    tree = sqlglot.parse_one(rendered, read="athena")
    names = [column.name for column in tree.find(exp.Schema).expressions]
    assert tuple(names) == PROCESSED_COLUMNS
    partition = tree.find(exp.PartitionedByProperty)
    assert [column.name for column in partition.find_all(exp.ColumnDef)] == ["batch"]
    assert "LOCATION 's3://imdb-quality/processed/'" in tree.sql("athena")


def test_a_copy_that_stops_reading_early_stops_the_chunk_producer() -> None:
    produced = []

    def chunks():
        for number in range(1_000):
            produced.append(number)
            yield b"row\n"

    class FailingCursor:
        """psycopg2-like: the server fails the COPY after the first chunk."""

        def copy_expert(self, sql, source):
            assert source.read() == b"row\n"
            raise RuntimeError("the server refused the COPY")

    with pytest.raises(RuntimeError, match="the server refused the COPY"):
        with contextlib.closing(warehouse._prefetched(chunks(), depth=2)) as prefetched:
            warehouse._copy_from_stdin(FailingCursor(), "copy t from stdin", prefetched)

    assert [thread for thread in threading.enumerate() if thread.name == "staging-csv"] == []
    # The producer stopped at the bounded queue instead of converting every object.
    assert len(produced) <= 5
