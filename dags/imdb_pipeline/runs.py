"""The steps of one DAG run that span several parts: which objects it loads, and staging them.

Plain functions over a boto3 S3 client and a DB-API connection, so tests drive them without
Airflow; the DAG's tasks only build the clients and call these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from imdb_pipeline import batch, ledger, notifications, warehouse
from imdb_pipeline.failures import PermanentFailure


class NothingValid(PermanentFailure):
    """No row of the batch can be loaded: every file was rejected or every row quarantined."""


def resolve_run_batch(
    s3_client: Any,
    conn: Any,
    *,
    asset_event_extras: Iterable[Mapping],
    run_id: str,
    run_after: datetime,
    interval_start: datetime,
    interval_end: datetime,
    bucket: str,
    raw_prefix: str,
    processed_prefix: str,
) -> batch.Batch:
    """The object versions a run loads, with those the ledger has loaded recorded as `skipped`.

    A run started by asset events takes exactly the objects its events name; any other run the
    raw objects whose landing date falls in its interval.
    """
    extras = list(asset_event_extras)
    if extras:
        candidates = batch.objects_from_asset_events(extras, bucket=bucket, raw_prefix=raw_prefix)
    else:
        candidates = batch.objects_in_interval(
            list_objects(s3_client, bucket, raw_prefix), bucket=bucket, raw_prefix=raw_prefix,
            start=interval_start, end=interval_end,
        )  # fmt: skip
    resolved = batch.resolve_batch(
        candidates,
        ledger.loaded_versions(conn, candidates),
        batch_id=batch.make_batch_id(run_after, run_id, candidates),
        bucket=bucket,
        processed_prefix=processed_prefix,
    )
    ledger.record_skipped(conn, resolved.batch_id, resolved.skipped)
    return resolved


def list_objects(s3_client: Any, bucket: str, prefix: str) -> Iterator[dict]:
    """`list_objects_v2` entries (Key, ETag, LastModified, ...) under a prefix, every page."""
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def stage_batch(conn: Any, s3_client: Any, resolved: Mapping, iam_role: str | None) -> dict:
    """Load the batch's processed rows into staging and its files into the ledger; returns summary.json.

    Raises NothingValid, naming each rejected file and the quarantine reasons, when no row can pass
    the gate: the problem is then said in the input's own terms, not as an empty-batch check.
    """
    summary = warehouse.read_summary(s3_client, resolved["output_uri"])
    warehouse.load_staging(
        conn, s3_client, batch_id=resolved["batch_id"], output_uri=resolved["output_uri"], summary=summary,
        objects=resolved["objects"], iam_role=iam_role,
    )  # fmt: skip
    if not summary["rows_valid"]:
        raise NothingValid(notifications.nothing_valid_message(summary))
    return summary
