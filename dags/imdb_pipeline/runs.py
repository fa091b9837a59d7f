"""The steps of one DAG run that span several parts: which objects it loads, and staging them.

Plain functions over a boto3 S3 client and a DB-API connection, so tests drive them without
Airflow; the DAG's tasks only build the clients and call these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
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
    window_end: datetime,
    lookback_days: int,
    sweep: bool,
    bucket: str,
    raw_prefix: str,
    processed_prefix: str,
) -> batch.Batch:
    """Every raw object version that the ledger has not settled: the batch of one run.

    An asset event only wakes the DAG up: whatever triggered the run, it takes the unsettled
    versions of the look-back window (`lookback_days` days up to `window_end`, see
    batch.window_days) plus the versions its events name (a late file for an old day included).
    Settled are versions `loaded` or `rejected`; `quality_failed` ones are taken again by a sweep
    run only (the daily run, or a manual run with `sweep`), so a bad batch does not fail every run.
    A re-delivered version that is already loaded is recorded `skipped`; a key that cannot be dated,
    or lies outside the layouts the sweep lists (batch.dated), is recorded `rejected` once.
    """
    events = batch.objects_from_asset_events(asset_event_extras, bucket=bucket, raw_prefix=raw_prefix)
    current = [found for version in events if (found := _current_version(s3_client, version)) is not None]
    named, undatable_named = batch.dated(current, raw_prefix)
    days = batch.window_days(window_end, lookback_days)
    listed, undatable = batch.objects_in_window(
        list_window(s3_client, bucket, raw_prefix, days), bucket=bucket, raw_prefix=raw_prefix, days=days
    )
    undatable += undatable_named
    candidates = {*listed, *named}
    statuses = ledger.settled_statuses(conn, [*candidates, *(version for version, _ in undatable)])
    settled_states = {ledger.LOADED, ledger.REJECTED} | (set() if sweep else {ledger.QUALITY_FAILED})
    resolved = batch.resolve_batch(
        [version for version in candidates if not statuses.get(version, set()) & settled_states],
        [version for version in named if ledger.LOADED in statuses.get(version, set())],
        batch_id=batch.make_batch_id(run_after, run_id, candidates),
        bucket=bucket,
        processed_prefix=processed_prefix,
    )
    ledger.record_skipped(conn, resolved.batch_id, resolved.skipped)
    ledger.record_rejected(
        conn, resolved.batch_id, [(version, reason) for version, reason in undatable if version not in statuses]
    )
    return resolved


def write_input_manifest(s3_client: Any, resolved: batch.Batch) -> str:
    """Puts the batch's input manifest where its Glue job reads it (`--input_manifest`); returns its URI.

    The same batch writes the same manifest, so a retry of the task rewrites it unchanged.
    """
    bucket, key = batch.split_s3_uri(resolved.input_manifest_uri)
    s3_client.put_object(
        Bucket=bucket, Key=key, Body=resolved.input_manifest().encode("utf-8"), ContentType="application/json"
    )
    return resolved.input_manifest_uri


def versions_waiting(
    s3_client: Any,
    conn: Any,
    *,
    landed_after: datetime,
    window_end: datetime,
    lookback_days: int,
    bucket: str,
    raw_prefix: str,
) -> list[batch.ObjectVersion]:
    """Raw object versions of the window that landed after `landed_after` (the run's start) and that no
    batch has taken: files that arrived while a run was busy (Airflow may drop their asset events,
    apache/airflow#56050). Older ones were this run's to take, so a failing file never loops."""
    days = batch.window_days(window_end, lookback_days)
    listed, _ = batch.objects_in_window(
        list_window(s3_client, bucket, raw_prefix, days), bucket=bucket, raw_prefix=raw_prefix, days=days
    )
    return ledger.unknown_versions(conn, [version for version in listed if version.last_modified >= landed_after])


def list_window(s3_client: Any, bucket: str, raw_prefix: str, days: Iterable[date]) -> Iterator[dict]:
    """Listing entries of the window's `dt=` prefixes and the undated objects at the top of the raw
    prefix: a run's listing grows with the window, not with the landing history."""
    for day in days:
        yield from list_objects(s3_client, bucket, f"{raw_prefix}dt={day.isoformat()}/")
    yield from list_objects(s3_client, bucket, raw_prefix, delimiter="/")


def list_objects(s3_client: Any, bucket: str, prefix: str, delimiter: str | None = None) -> Iterator[dict]:
    """`list_objects_v2` entries (Key, ETag, LastModified, ...) under a prefix, every page."""
    options = {"Delimiter": delimiter} if delimiter else {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **options):
        yield from page.get("Contents", [])


def _current_version(s3_client: Any, version: batch.ObjectVersion) -> batch.ObjectVersion | None:
    """The named version with its LastModified, or None when S3 no longer holds that version (deleted,
    or overwritten: the newer version comes with its own event and listing). Other errors propagate,
    so a throttled or timed-out call fails the task for a retry instead of deciding anything."""
    from botocore.exceptions import ClientError

    try:
        head = s3_client.head_object(Bucket=version.bucket, Key=version.key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    if batch.normalise_etag(head["ETag"]) != version.etag:
        return None
    return batch.ObjectVersion(version.bucket, version.key, version.etag, head["LastModified"])


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
