"""The warehouse's Python side: DDL per dialect, the load ledger and the staging load.

The SQL lives in `include/sql/` in the Redshift dialect. PostgreSQL (the local stand-in) gets the
same DDL through sqlglot with the Redshift-only storage clauses removed; the merge and the marts
are written in the SQL both accept. Functions take a DB-API connection (psycopg2 for a `postgres`
Airflow connection, redshift_connector for `redshift`), commit their own work and roll it back on
error, so they run the same from tasks and tests. Nothing here does I/O at import.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from imdb_pipeline import config

# Processed Parquet columns in the contract's order (docs/interfaces.md); staging has the same order.
STAGING_COLUMNS = (
    "movie_id", "series_title", "released_year", "certificate", "runtime_minutes", "genres",
    "primary_genre", "imdb_rating", "meta_score", "no_of_votes", "gross_usd", "director",
    "star1", "star2", "star3", "star4", "overview", "poster_link", "is_quality_movie",
    "source_object", "source_line", "batch_id", "ingested_at",
)  # fmt: skip
STAGING_TABLE = "movies.imdb_movies_staging"
DIALECTS = ("redshift", "postgres")

_BATCH_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
_IAM_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
# Redshift COPY takes no bind parameters: literals spliced into it must match this first.
_SAFE_COPY_LITERAL = re.compile(r"^[A-Za-z0-9+=,.@_/:-]+$")


class StagingLoadError(RuntimeError):
    """The batch's processed output does not match its summary or the processed-Parquet contract."""


# --- SQL files and DDL ---------------------------------------------------------------------------


def sql_text(relative_path: str) -> str:
    """The text of `include/sql/<relative_path>`."""
    return (config.include_dir() / "sql" / relative_path).read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    """The statements of an SQL text, split at semicolons outside strings and comments."""
    from sqlglot.tokens import Tokenizer, TokenType

    statements, start = [], 0
    for token in Tokenizer(dialect="redshift").tokenize(text):
        if token.token_type == TokenType.SEMICOLON:
            statements.append(text[start : token.start])
            start = token.end + 1
    statements.append(text[start:])
    return [statement.strip() for statement in statements if _has_code(statement)]


def _has_code(statement: str) -> bool:
    from sqlglot.tokens import Tokenizer

    return bool(Tokenizer(dialect="redshift").tokenize(statement))


def to_postgres(statement: str) -> str:
    """A Redshift statement as PostgreSQL runs it: DISTSTYLE/DISTKEY/SORTKEY/ENCODE removed."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(statement, read="redshift")
    redshift_only = (exp.DistStyleProperty, exp.DistKeyProperty, exp.SortKeyProperty)
    for node in list(tree.find_all(*redshift_only, exp.EncodeColumnConstraint)):
        # An ENCODE is wrapped in a ColumnConstraint: drop the wrapper, not just its content.
        (node.parent if isinstance(node, exp.EncodeColumnConstraint) else node).pop()
    return tree.sql(dialect="postgres")


def _create_statements(domain: str, dialect: str) -> list[str]:
    """`create_schema.sql` first (the others live in its schema), then every other create_*.sql
    of `include/sql/<domain>/` in sorted order, converted for `dialect`."""
    if dialect not in DIALECTS:
        raise ValueError(f"Unknown warehouse dialect {dialect!r}: expected one of {DIALECTS}")
    folder = config.include_dir() / "sql" / domain
    files = sorted(folder.glob("create_*.sql"), key=lambda path: (path.name != "create_schema.sql", path.name))
    statements = [s for path in files for s in split_statements(path.read_text(encoding="utf-8"))]
    return statements if dialect == "redshift" else [to_postgres(s) for s in statements]


def ddl_statements(dialect: str) -> list[str]:
    """The warehouse tables (`include/sql/movies/create_*.sql`) as `dialect` runs them; idempotent."""
    return _create_statements("movies", dialect)


def mart_statements() -> list[str]:
    """The statements of `include/sql/marts/refresh_marts.sql`, which (re)create the mart views.

    Written in the SQL that Redshift and PostgreSQL share, so no conversion is needed.
    """
    return split_statements(sql_text("marts/refresh_marts.sql"))


def dialect_of(conn: Any) -> str:
    """`redshift` or `postgres`, from the DB-API driver the Airflow connection type chose."""
    driver = type(conn).__module__.split(".")[0]
    dialects = {"redshift_connector": "redshift", "psycopg2": "postgres", "psycopg": "postgres"}
    if driver not in dialects:
        raise ValueError(f"Unsupported warehouse connection {type(conn)!r}: expected redshift or postgres")
    return dialects[driver]


def apply_ddl(conn: Any) -> None:
    """Create what is missing of the warehouse tables and (re)create the mart views, in one transaction."""
    with _transaction(conn) as cursor:
        for statement in [*ddl_statements(dialect_of(conn)), *mart_statements()]:
            cursor.execute(statement)


# --- connections ---------------------------------------------------------------------------------


@contextmanager
def connect(conn_id: str) -> Iterator[Any]:
    """A DB-API connection for the Airflow connection `conn_id` (type `redshift` or `postgres`)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id).get_hook().get_conn()
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def _transaction(conn: Any) -> Iterator[Any]:
    cursor = conn.cursor()
    try:
        yield cursor
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cursor.close()


# --- load ledger ---------------------------------------------------------------------------------


def _version(obj: Any) -> tuple[str, str, str]:
    """(bucket, key, etag) of an object version given as a mapping, an object or a tuple."""
    if isinstance(obj, Mapping):
        bucket, key, etag = obj["bucket"], obj["key"], obj["etag"]
    elif hasattr(obj, "etag"):
        bucket, key, etag = obj.bucket, obj.key, obj.etag
    else:
        bucket, key, etag = obj
    # S3 quotes ETags in API responses but not in events: compare them unquoted.
    return bucket, key, etag.strip().strip('"')


def loaded_versions(conn: Any, objects: Iterable[Any]) -> set:
    """The given object versions that the ledger has loaded (same bucket, key and ETag).

    Returns the caller's own objects (tuples, mappings or ObjectVersion), so `in` tests work on them.
    """
    objects = list(objects)
    if not objects:
        return set()
    keys = sorted({_version(obj)[1] for obj in objects})
    placeholders = ", ".join(["%s"] * len(keys))
    with _transaction(conn) as cursor:
        cursor.execute(
            "select ledger.bucket, ledger.object_key, ledger.etag from movies.load_ledger as ledger "
            f"where ledger.status = 'loaded' and ledger.object_key in ({placeholders})",
            keys,
        )
        loaded = {tuple(row) for row in cursor.fetchall()}
    return {obj for obj in objects if _version(obj) in loaded}


def record_skipped(conn: Any, batch_id: str, objects: Iterable[Any]) -> int:
    """Ledger rows `skipped` for object versions already loaded; idempotent per (batch, bucket, key)."""
    _check_batch_id(batch_id)
    inserted = 0
    with _transaction(conn) as cursor:
        for bucket, key, etag in map(_version, objects):
            inserted += _insert_ledger_row(
                cursor, batch_id, bucket, key, etag, "skipped", 0, 0, "already loaded with the same ETag"
            )
    return inserted


def _insert_ledger_row(
    cursor: Any,
    batch_id: str,
    bucket: str,
    key: str,
    etag: str,
    status: str,
    rows_in: int,
    rows_quarantined: int,
    reason: str | None,
) -> int:
    cursor.execute(
        "insert into movies.load_ledger "
        "(batch_id, bucket, object_key, etag, status, rows_in, rows_loaded, rows_quarantined, reason) "
        "select %s, %s, %s, %s, %s, %s, 0, %s, %s "
        "where not exists (select 1 from movies.load_ledger as ledger "
        "where ledger.batch_id = %s and ledger.bucket = %s and ledger.object_key = %s)",
        (batch_id, bucket, key, etag, status, rows_in, rows_quarantined, reason, batch_id, bucket, key),
    )
    return cursor.rowcount


# --- staging load --------------------------------------------------------------------------------


def read_summary(aws_conn_id: str, output_uri: str) -> dict:
    """The Glue job's `summary.json` of a batch."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, prefix = _split_s3_uri(output_uri)
    body = S3Hook(aws_conn_id=aws_conn_id).get_conn().get_object(Bucket=bucket, Key=f"{prefix}summary.json")
    return json.loads(body["Body"].read())


def load_staging(
    conn: Any,
    *,
    batch_id: str,
    output_uri: str,
    summary: Mapping,
    objects: Iterable[Any],
    aws_conn_id: str,
    iam_role: str | None = None,
) -> int:
    """Replace staging with the batch's processed Parquet and record its files in the ledger.

    `objects` are the batch's source object versions (bucket, key, etag), for the ledger. Every
    file of `summary["files"]` gets a ledger row: `staged`, or `rejected` with the Glue job's error.
    The staged row count must equal the summary's `rows_valid`, file by file. On Redshift the
    Parquet is loaded with COPY (IAM role `iam_role`), on PostgreSQL read from S3 through the
    `aws_conn_id` connection and streamed with COPY FROM STDIN. One transaction; returns the
    number of staged rows.
    """
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    s3_client = S3Hook(aws_conn_id=aws_conn_id).get_conn()
    return load_staging_from(
        conn, s3_client, batch_id=batch_id, output_uri=output_uri, summary=summary, objects=objects,
        iam_role=iam_role,
    )  # fmt: skip


def load_staging_from(
    conn: Any,
    s3_client: Any,
    *,
    batch_id: str,
    output_uri: str,
    summary: Mapping,
    objects: Iterable[Any],
    iam_role: str | None = None,
) -> int:
    """`load_staging` with a boto3 S3 client instead of an Airflow connection id."""
    _check_batch_id(batch_id)
    if summary.get("batch_id") != batch_id:
        raise StagingLoadError(
            f"summary.json of {output_uri} is for batch {summary.get('batch_id')!r}, not {batch_id!r}"
        )
    if not output_uri.endswith(f"batch_id={batch_id}/"):
        raise StagingLoadError(f"Output URI {output_uri!r} is not the folder of batch {batch_id!r}")
    etags = {(bucket, key): etag for bucket, key, etag in map(_version, objects)}
    files = [_ledger_file(entry, etags, output_uri) for entry in summary.get("files", [])]
    parquet_objects = _list_parquet(s3_client, output_uri)
    dialect = dialect_of(conn)
    with _transaction(conn) as cursor:
        # Staging of any other batch is discarded below: its ledger rows must not stay staged or verified.
        cursor.execute(
            "update movies.load_ledger set status = 'abandoned', updated_at = default, "
            "reason = 'staging was replaced by batch ' || %s || ' before this batch was merged' "
            "where status in ('staged', 'verified') and batch_id <> %s",
            (batch_id, batch_id),
        )
        # DELETE, not TRUNCATE: TRUNCATE commits at once on Redshift.
        cursor.execute(f"delete from {STAGING_TABLE}")
        if dialect == "redshift":
            _copy_parquet_redshift(cursor, s3_client, output_uri, parquet_objects, iam_role)
        else:
            _copy_parquet_postgres(cursor, s3_client, parquet_objects)
        for file in files:
            # Rows of an earlier attempt at this batch are replaced, unless the merge loaded it.
            cursor.execute(
                "delete from movies.load_ledger where batch_id = %s and bucket = %s and object_key = %s "
                "and status <> 'loaded'",
                (batch_id, file["bucket"], file["key"]),
            )
            _insert_ledger_row(
                cursor, batch_id, file["bucket"], file["key"], file["etag"], file["status"],
                file["rows_in"], file["rows_quarantined"], file["error"],
            )  # fmt: skip
        staged = _check_staged_counts(cursor, batch_id, output_uri, summary, files)
    return staged


def _ledger_file(entry: Mapping, etags: Mapping[tuple[str, str], str], output_uri: str) -> dict:
    source = entry["source_object"]
    bucket, key = _split_s3_uri(source)
    if (bucket, key) not in etags:
        raise StagingLoadError(f"summary.json of {output_uri} lists {source}, which is not an object of the batch")
    statuses = {"processed": "staged", "rejected": "rejected"}
    if entry["status"] not in statuses:
        raise StagingLoadError(f"summary.json of {output_uri}: unknown status {entry['status']!r} for {source}")
    return {
        "source_object": source, "bucket": bucket, "key": key, "etag": etags[(bucket, key)],
        "status": statuses[entry["status"]], "error": entry.get("error"),
        "rows_in": int(entry["rows_in"]), "rows_valid": int(entry["rows_valid"]),
        "rows_quarantined": int(entry["rows_quarantined"]),
    }  # fmt: skip


def _check_staged_counts(cursor: Any, batch_id: str, output_uri: str, summary: Mapping, files: list[dict]) -> int:
    cursor.execute(
        f"select staging.source_object, staging.batch_id, count(*) from {STAGING_TABLE} as staging "
        "group by staging.source_object, staging.batch_id"
    )
    staged = {(source, batch): count for source, batch, count in cursor.fetchall()}
    foreign = sorted({batch for _, batch in staged if batch != batch_id})
    if foreign:
        raise StagingLoadError(f"Processed Parquet under {output_uri} holds rows of other batches: {foreign}")
    by_file = {source: count for (source, _), count in staged.items()}
    expected = {file["source_object"]: file["rows_valid"] for file in files if file["rows_valid"]}
    if by_file != expected:
        raise StagingLoadError(
            f"Staged rows per file {by_file} do not match summary.json rows_valid {expected} for {output_uri}"
        )
    total = sum(by_file.values())
    if total != int(summary["rows_valid"]):
        raise StagingLoadError(
            f"Staged {total} rows but summary.json of {output_uri} says rows_valid = {summary['rows_valid']}"
        )
    return total


def _list_parquet(s3_client: Any, output_uri: str) -> list[dict]:
    """The Parquet objects under `<output_uri>processed/` (Spark's _SUCCESS and the like excluded)."""
    bucket, prefix = _split_s3_uri(output_uri)
    found = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}processed/"):
        for entry in page.get("Contents", []):
            if entry["Key"].endswith(".parquet"):
                found.append({"bucket": bucket, "key": entry["Key"], "size": entry["Size"]})
    return sorted(found, key=lambda entry: entry["key"])


def _copy_parquet_postgres(cursor: Any, s3_client: Any, parquet_objects: list[dict]) -> None:
    import pyarrow.csv
    import pyarrow.parquet

    copy_sql = f"copy {STAGING_TABLE} ({', '.join(STAGING_COLUMNS)}) from stdin with (format csv)"
    for entry in parquet_objects:
        uri = f"s3://{entry['bucket']}/{entry['key']}"
        body = s3_client.get_object(Bucket=entry["bucket"], Key=entry["key"])["Body"].read()
        table = pyarrow.parquet.read_table(io.BytesIO(body))
        if tuple(table.column_names) != STAGING_COLUMNS:
            raise StagingLoadError(
                f"{uri}: columns {table.column_names} differ from the processed-Parquet contract "
                f"{list(STAGING_COLUMNS)}"
            )
        # CSV keeps NULL (empty, unquoted) apart from '' (quoted); decimals and int64 are written
        # exactly, timestamps with microseconds.
        buffer = io.BytesIO()
        pyarrow.csv.write_csv(table, buffer, pyarrow.csv.WriteOptions(include_header=False))
        _copy_from_stdin(cursor, copy_sql, buffer.getvalue())


def _copy_from_stdin(cursor: Any, copy_sql: str, data: bytes) -> None:
    # PostgresHook connects with psycopg 3 when it is installed (with SQLAlchemy 2), else psycopg2.
    if hasattr(cursor, "copy_expert"):
        cursor.copy_expert(copy_sql, io.BytesIO(data))
    else:
        with cursor.copy(copy_sql) as copy:
            copy.write(data)


def _copy_parquet_redshift(
    cursor: Any, s3_client: Any, output_uri: str, parquet_objects: list[dict], iam_role: str | None
) -> None:
    """COPY through a manifest naming exactly the listed Parquet objects (as the PostgreSQL path reads)."""
    if not iam_role or not _IAM_ROLE.match(iam_role):
        raise StagingLoadError(f"Redshift COPY needs an IAM role ARN (imdb_redshift_iam_role), got {iam_role!r}")
    if not parquet_objects:
        return
    bucket, prefix = _split_s3_uri(output_uri)
    manifest_key = f"{prefix}staging.manifest"
    manifest = {
        "entries": [
            {"url": f"s3://{entry['bucket']}/{entry['key']}", "mandatory": True,
             "meta": {"content_length": entry["size"]}}
            for entry in parquet_objects
        ]
    }  # fmt: skip
    s3_client.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    manifest_uri = f"s3://{bucket}/{manifest_key}"
    for literal in (manifest_uri, iam_role):
        if not _SAFE_COPY_LITERAL.match(literal):
            raise StagingLoadError(f"Refusing to put {literal!r} into a COPY statement")
    cursor.execute(
        f"copy {STAGING_TABLE} from '{manifest_uri}' iam_role '{iam_role}' format as parquet manifest"
    )


def _split_s3_uri(uri: str) -> tuple[str, str]:
    match = _S3_URI.match(uri)
    if not match:
        raise StagingLoadError(f"Not an s3://bucket/key URI: {uri!r}")
    return match.group("bucket"), match.group("key")


def _check_batch_id(batch_id: str) -> None:
    if not _BATCH_ID.match(batch_id):
        raise ValueError(f"Invalid batch_id {batch_id!r}: expected {_BATCH_ID.pattern}")
