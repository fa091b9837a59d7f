"""The warehouse's Python side: DDL per dialect, the staging load and the batch-scoped merge.

The SQL lives in `include/sql/` in the Redshift dialect. PostgreSQL (the local stand-in) gets the
same DDL through sqlglot with the Redshift-only storage clauses removed; the merge and the marts
are written in the SQL both accept. Connections, transactions and SQL files are `imdb_pipeline.db`;
the load ledger's rows are written through `imdb_pipeline.ledger`. Nothing here does I/O at import.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from queue import Full, Queue
from typing import Any

from imdb_pipeline import config, db, ledger
from imdb_pipeline.batch import check_batch_id, object_version, split_s3_uri
from imdb_pipeline.failures import PermanentFailure, fail_fast

STAGING_TABLE = "movies.imdb_movies_staging"
MERGE_SQL = "movies/merge_imdb_movies.sql"
# Rows per CSV chunk of the local staging load: a few MB each.
COPY_BATCH_ROWS = 16_384

_IAM_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")


class StagingLoadError(RuntimeError):
    """The batch's processed output does not match its summary or the processed-Parquet contract."""


# --- DDL -----------------------------------------------------------------------------------------


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


def ddl_statements(dialect: str) -> list[str]:
    """The warehouse and mart tables as `dialect` runs them; idempotent.

    For `include/sql/movies/` then `include/sql/marts/`: the folder's `create_schema.sql` first
    (the others live in its schema), then every other `create_*.sql` of it in sorted order.
    """
    if dialect not in db.DIALECTS:
        raise ValueError(f"Unknown warehouse dialect {dialect!r}: expected one of {db.DIALECTS}")
    files = [
        path
        for folder in ("movies", "marts")
        for path in sorted(
            (config.include_dir() / "sql" / folder).glob("create_*.sql"),
            key=lambda path: (path.name != "create_schema.sql", path.name),
        )
    ]
    statements = [s for path in files for s in db.split_statements(path.read_text(encoding="utf-8"))]
    return statements if dialect == "redshift" else [to_postgres(s) for s in statements]


def mart_statements() -> list[str]:
    """The statements of `include/sql/marts/refresh_marts.sql`: they rebuild the mart tables and
    (re)create the mart views, as the DAG's refresh_marts task runs them after a merge.

    Written in the SQL that Redshift and PostgreSQL share, so no conversion is needed.
    """
    return db.split_statements(db.sql_text("marts/refresh_marts.sql"))


def apply_ddl(conn: Any) -> None:
    """Create what is missing of the warehouse and mart tables and refresh the marts, in one transaction."""
    with db.transaction(conn) as cursor:
        for statement in [*ddl_statements(db.dialect_of(conn)), *mart_statements()]:
            cursor.execute(statement)


# --- staging load --------------------------------------------------------------------------------


def read_summary(s3_client: Any, output_uri: str) -> dict:
    """The Glue job's `summary.json` of a batch."""
    bucket, prefix = _s3_location(output_uri)
    body = s3_client.get_object(Bucket=bucket, Key=f"{prefix}summary.json")
    return json.loads(body["Body"].read())


def load_staging(
    conn: Any,
    s3_client: Any,
    *,
    batch_id: str,
    output_uri: str,
    summary: Mapping,
    objects: Iterable[Any],
    iam_role: str | None = None,
) -> int:
    """Replace staging with the batch's processed Parquet and record its files in the ledger.

    `objects` are the batch's source object versions (bucket, key, etag), for the ledger. Every
    file of `summary["files"]` gets a ledger row: `staged`, or `rejected` with the Glue job's error.
    The staged row count must equal the summary's `rows_valid`, file by file. On Redshift the
    Parquet is loaded with COPY (IAM role `iam_role`), on PostgreSQL read through `s3_client` and
    streamed with COPY FROM STDIN. One transaction; returns the number of staged rows.
    """
    check_batch_id(batch_id)
    if summary.get("batch_id") != batch_id:
        raise StagingLoadError(
            f"summary.json of {output_uri} is for batch {summary.get('batch_id')!r}, not {batch_id!r}"
        )
    if not output_uri.endswith(f"batch_id={batch_id}/"):
        raise StagingLoadError(f"Output URI {output_uri!r} is not the folder of batch {batch_id!r}")
    versions = {(version.bucket, version.key): version for version in map(object_version, objects)}
    undated = sorted(version.uri for version in versions.values() if version.last_modified is None)
    if undated:
        raise StagingLoadError(f"Object versions without LastModified cannot be ordered by time: {undated}")
    files = [_batch_file(entry, versions, output_uri) for entry in summary.get("files", [])]
    parquet_objects = _list_parquet(s3_client, output_uri)
    dialect = db.dialect_of(conn)
    with db.transaction(conn) as cursor:
        # Staging holds every batch on its way, keyed by batch_id: only this batch's earlier attempt goes.
        db.execute(cursor, db.sql_text("movies/delete_batch_staging.sql"), {"batch_id": batch_id})
        if dialect == "redshift":
            _copy_parquet_redshift(cursor, s3_client, output_uri, parquet_objects, iam_role)
        else:
            _copy_parquet_postgres(cursor, s3_client, parquet_objects)
        for version, entry in files:
            ledger.record_staged_file(cursor, batch_id, version, entry)
        staged = _check_staged_counts(cursor, batch_id, output_uri, summary, [entry for _, entry in files])
    return staged


def _batch_file(entry: Mapping, versions: Mapping[tuple[str, str], Any], output_uri: str) -> tuple[Any, Mapping]:
    """(object version, summary entry) of one file of summary.json, checked against the batch."""
    source = entry["source_object"]
    try:
        bucket, key = split_s3_uri(source)
    except ValueError as error:
        raise StagingLoadError(f"summary.json of {output_uri}: {error}") from None
    if (bucket, key) not in versions:
        raise StagingLoadError(f"summary.json of {output_uri} lists {source}, which is not an object of the batch")
    if entry["status"] not in ("processed", "rejected"):
        raise StagingLoadError(f"summary.json of {output_uri}: unknown status {entry['status']!r} for {source}")
    return versions[(bucket, key)], entry


def _check_staged_counts(cursor: Any, batch_id: str, output_uri: str, summary: Mapping, files: list[dict]) -> int:
    db.execute(cursor, db.sql_text("movies/select_staged_counts.sql"), {"batch_id": batch_id})
    by_file = dict(cursor.fetchall())
    expected = {file["source_object"]: int(file["rows_valid"]) for file in files if int(file["rows_valid"])}
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
    bucket, prefix = _s3_location(output_uri)
    found = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}processed/"):
        for entry in page.get("Contents", []):
            if entry["Key"].endswith(".parquet"):
                found.append({"bucket": bucket, "key": entry["Key"], "size": entry["Size"]})
    return sorted(found, key=lambda entry: entry["key"])


def _copy_parquet_postgres(cursor: Any, s3_client: Any, parquet_objects: list[dict]) -> None:
    """One COPY FROM STDIN of every object, fed as CSV converted by a thread while the server parses.

    pyarrow releases the GIL, so reading and converting (about a third of a 1M-row load) runs on
    one core while PostgreSQL parses and inserts on another; a few record batches are held at a time.
    """
    columns = _staging_columns(cursor)
    copy_sql = f"copy {STAGING_TABLE} ({', '.join(columns)}) from stdin with (format csv)"
    with contextlib.closing(_prefetched(_csv_chunks(s3_client, parquet_objects, columns))) as chunks:
        _copy_from_stdin(cursor, copy_sql, chunks)


def _csv_chunks(s3_client: Any, parquet_objects: list[dict], columns: tuple[str, ...]) -> Iterator[bytes]:
    """The objects' rows as CSV, one non-empty chunk per record batch, each object's columns checked first."""
    import pyarrow.csv
    import pyarrow.parquet

    for entry in parquet_objects:
        uri = f"s3://{entry['bucket']}/{entry['key']}"
        body = s3_client.get_object(Bucket=entry["bucket"], Key=entry["key"])["Body"].read()
        parquet_file = pyarrow.parquet.ParquetFile(io.BytesIO(body))
        if tuple(parquet_file.schema_arrow.names) != columns:
            raise StagingLoadError(
                f"{uri}: columns {parquet_file.schema_arrow.names} differ from the staging table's {list(columns)}"
            )
        for record_batch in parquet_file.iter_batches(batch_size=COPY_BATCH_ROWS):
            if record_batch.num_rows:
                # CSV keeps NULL (empty, unquoted) apart from '' (quoted); decimals and int64 are
                # written exactly, timestamps with microseconds.
                buffer = io.BytesIO()
                pyarrow.csv.write_csv(record_batch, buffer, pyarrow.csv.WriteOptions(include_header=False))
                yield buffer.getvalue()


def _prefetched(chunks: Iterator[bytes], depth: int = 4) -> Iterator[bytes]:
    """The chunks, produced by a thread up to `depth` ahead; its error is raised here, in order.

    Closing the generator early (the COPY failed) stops the thread at its next chunk.
    """
    queue: Queue = Queue(maxsize=depth)
    stopped = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for chunk in chunks:
                if not _put_unless_stopped(queue, chunk, stopped):
                    return
        except BaseException as error:  # handed to the consumer, which raises it
            _put_unless_stopped(queue, error, stopped)
            return
        _put_unless_stopped(queue, end, stopped)

    producer = threading.Thread(target=produce, name="staging-csv", daemon=True)
    producer.start()
    try:
        while (item := queue.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
        producer.join()


def _put_unless_stopped(queue: Queue, item: Any, stopped: threading.Event) -> bool:
    while not stopped.is_set():
        try:
            queue.put(item, timeout=0.1)
            return True
        except Full:
            continue
    return False


def _staging_columns(cursor: Any) -> tuple[str, ...]:
    """The staging table's columns in order: the processed Parquet must have exactly these."""
    db.execute(cursor, db.sql_text("movies/select_staging_columns.sql"))
    return tuple(row[0] for row in cursor.fetchall())


def _copy_from_stdin(cursor: Any, copy_sql: str, chunks: Iterable[bytes]) -> None:
    # PostgresHook connects with psycopg 3 when it is installed (with SQLAlchemy 2), else psycopg2.
    if hasattr(cursor, "copy_expert"):
        source = _ChunkFile(chunks)
        try:
            cursor.copy_expert(copy_sql, source)
        except Exception:
            # psycopg2 reports a failed read() as QueryCanceled: raise the read's own error instead.
            if source.error is not None:
                raise source.error from None
            raise
    else:
        with cursor.copy(copy_sql) as copy:
            for chunk in chunks:
                copy.write(chunk)


class _ChunkFile:
    """Non-empty byte chunks as the file psycopg2's copy_expert reads: it sends what each read()
    returns and stops at b''."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self.error: Exception | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            return next(self._chunks, b"")
        except Exception as error:
            self.error = error
            raise


def _copy_parquet_redshift(
    cursor: Any, s3_client: Any, output_uri: str, parquet_objects: list[dict], iam_role: str | None
) -> None:
    """COPY through a manifest naming exactly the listed Parquet objects (as the PostgreSQL path reads)."""
    if not iam_role or not _IAM_ROLE.match(iam_role):
        raise StagingLoadError(f"Redshift COPY needs an IAM role ARN (imdb_redshift_iam_role), got {iam_role!r}")
    if not parquet_objects:
        return
    bucket, prefix = _s3_location(output_uri)
    manifest_key = f"{prefix}staging.manifest"
    manifest = {
        "entries": [
            {"url": f"s3://{entry['bucket']}/{entry['key']}", "mandatory": True,
             "meta": {"content_length": entry["size"]}}
            for entry in parquet_objects
        ]
    }  # fmt: skip
    s3_client.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    try:
        manifest, role = db.literal(f"s3://{bucket}/{manifest_key}"), db.literal(iam_role)
    except ValueError as error:
        raise StagingLoadError(f"{error} (a COPY statement takes no bind parameters)") from None
    cursor.execute(f"copy {STAGING_TABLE} from {manifest} iam_role {role} format as parquet manifest")


def _s3_location(uri: str) -> tuple[str, str]:
    try:
        return split_s3_uri(uri)
    except ValueError as error:
        raise StagingLoadError(str(error)) from None


# --- merge ---------------------------------------------------------------------------------------


def merge_statements(batch_id: str, dialect: str) -> list[str]:
    """The statements that merge one batch, for SQLExecuteQueryOperator to run in one transaction.

    Under the ledger's lock: the batch's verified files are counted (`check_merge_result` fails the
    merge on none) and those another batch loaded meanwhile skipped; the batch's latest rows are
    merged into imdb_movies with their rating history, the ledger rows marked `loaded`, and settled
    batches' staging rows deleted. The batch id is rendered into the text: the operator binds the
    same parameters to every statement of a list, which the two drivers do not both accept.
    """
    check_batch_id(batch_id)
    merge = [db.render(statement, {"batch_id": batch_id})
             for statement in db.split_statements(db.sql_text(MERGE_SQL))]  # fmt: skip
    cleanup = db.split_statements(db.sql_text("movies/delete_settled_staging.sql"))
    return [
        *db.session_settings(dialect), *ledger.merge_start_statements(batch_id), *merge,
        *ledger.loaded_statements(batch_id), *cleanup,
    ]  # fmt: skip


class NothingToMerge(PermanentFailure):
    """The batch has no verified file: nothing passed the gate, or another run settled it first."""


def check_merge_result(cursor: Any) -> list[tuple] | None:
    """Result handler of the merge operator: each statement's rows, and the merge fails (rolled back)
    when the batch has no verified file to merge."""
    if cursor.description is None:
        return None
    rows = cursor.fetchall()
    if [column[0] for column in cursor.description] == ["verified_files"] and rows[0][0] == 0:
        # A retry would find the same: fail at once.
        with fail_fast():
            raise NothingToMerge("The batch has no verified file to merge: its gate did not pass, or another "
                                 "batch loaded its files first")
    return rows


# --- Athena --------------------------------------------------------------------------------------


def athena_partition_statement(batch_id: str, output_uri: str) -> str:
    """`include/sql/athena/add_processed_partition.sql` for one merged batch, as AthenaOperator runs it."""
    check_batch_id(batch_id)
    return db.render(
        db.sql_text("athena/add_processed_partition.sql"),
        {"batch_id": batch_id, "location": f"{output_uri}processed/"},
    ).strip()
