"""Batch resolution: which objects a run loads, from asset events or from an S3 listing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from imdb_pipeline.batch import (
    ObjectVersion,
    landing_date,
    make_batch_id,
    objects_from_asset_events,
    objects_in_interval,
    resolve_batch,
)

BUCKET = "imdb-quality-local"


def s3_event(key: str, etag: str = "abc", *, bucket: str = BUCKET, detail_type: str = "Object Created") -> dict:
    """An SQS message whose body is an EventBridge S3 event, as the watcher receives it."""
    body = {
        "version": "0",
        "detail-type": detail_type,
        "source": "aws.s3",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "etag": etag, "size": 10}},
    }
    return {"MessageId": key, "Body": json.dumps(body)}


def asset_event(*messages: dict) -> dict:
    return {"from_trigger": True, "payload": {"message_batch": list(messages)}}


def resolve_events(*extras: dict) -> list[ObjectVersion]:
    return objects_from_asset_events(extras, bucket=BUCKET, raw_prefix="raw/")


def test_several_events_with_several_messages_each():
    objects = resolve_events(
        asset_event(s3_event("raw/a.csv", "e1"), s3_event("raw/b.csv", "e2")),
        asset_event(s3_event("raw/c.csv", "e3")),
    )
    assert objects == [
        ObjectVersion(BUCKET, "raw/a.csv", "e1"),
        ObjectVersion(BUCKET, "raw/b.csv", "e2"),
        ObjectVersion(BUCKET, "raw/c.csv", "e3"),
    ]


def test_events_outside_the_raw_csv_scope_are_ignored():
    objects = resolve_events(
        asset_event(
            s3_event("processed/a.csv"),
            s3_event("raw/notes.txt"),
            s3_event("raw/a.csv", bucket="another-bucket"),
            s3_event("raw/tagged.csv", detail_type="Object Tags Added"),
            {"MessageId": "x", "Body": "not json"},
            s3_event("raw/UPPER.CSV", "e9"),
        )
    )
    assert objects == [ObjectVersion(BUCKET, "raw/UPPER.CSV", "e9")]


def test_duplicate_deliveries_count_once_and_changed_versions_separately():
    objects = resolve_events(
        asset_event(s3_event("raw/a.csv", '"e1"'), s3_event("raw/a.csv", "e1")),
        asset_event(s3_event("raw/a.csv", "e2")),
    )
    assert objects == [ObjectVersion(BUCKET, "raw/a.csv", "e1"), ObjectVersion(BUCKET, "raw/a.csv", "e2")]


def test_objects_already_in_the_ledger_are_skipped():
    a, b = ObjectVersion(BUCKET, "raw/a.csv", "e1"), ObjectVersion(BUCKET, "raw/b.csv", "e2")
    batch = resolve_batch([b, a, a], {a}, batch_id="B1", bucket=BUCKET, processed_prefix="processed/")
    assert batch.objects == (b,)
    assert batch.skipped == (a,)
    assert batch.output_uri == f"s3://{BUCKET}/processed/batch_id=B1/"
    assert batch.to_xcom()["input_uris_csv"] == f"s3://{BUCKET}/raw/b.csv"


def test_all_loaded_gives_an_empty_batch():
    a = ObjectVersion(BUCKET, "raw/a.csv", "e1")
    batch = resolve_batch([a], {a}, batch_id="B1", bucket=BUCKET, processed_prefix="processed/")
    assert batch.objects == ()
    assert batch.input_uris == []


def listing_entry(key: str, etag: str, uploaded: datetime) -> dict:
    return {"Key": key, "ETag": f'"{etag}"', "LastModified": uploaded}


def test_interval_selects_by_key_partition_else_upload_day():
    uploaded_today = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    listing = [
        listing_entry("raw/dt=2026-11-20/a.csv", "e1", uploaded_today),
        listing_entry("raw/dt=2026-11-21/b.csv", "e2", uploaded_today),
        listing_entry("raw/c.csv", "e3", datetime(2026, 11, 20, 23, 59, tzinfo=UTC)),
        listing_entry("raw/d.csv", "e4", uploaded_today),
        listing_entry("raw/dt=2026-11-20/readme.md", "e5", uploaded_today),
    ]
    selected = objects_in_interval(
        listing,
        bucket=BUCKET,
        raw_prefix="raw/",
        start=datetime(2026, 11, 20, tzinfo=UTC),
        end=datetime(2026, 11, 21, tzinfo=UTC),
    )
    assert selected == [
        ObjectVersion(BUCKET, "raw/c.csv", "e3"),
        ObjectVersion(BUCKET, "raw/dt=2026-11-20/a.csv", "e1"),
    ]


def test_interval_of_zero_length_covers_its_day():
    listing = [listing_entry("raw/dt=2026-11-20/a.csv", "e1", datetime(2026, 11, 25, tzinfo=UTC))]
    moment = datetime(2026, 11, 20, 15, tzinfo=UTC)
    assert objects_in_interval(listing, bucket=BUCKET, raw_prefix="raw/", start=moment, end=moment)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("raw/dt=2026-01-31/x.csv", "2026-01-31"), ("raw/x.csv", "2026-11-25"), ("raw/dt=bad/x.csv", "2026-11-25")],
)
def test_landing_date(key, expected):
    assert landing_date(key, datetime(2026, 11, 25, 8, tzinfo=UTC)).isoformat() == expected


def test_batch_id_is_stable_per_run_and_distinct_between_runs():
    run_after = datetime(2026, 11, 25, 20, 30, tzinfo=UTC)
    objects = [ObjectVersion(BUCKET, "raw/a.csv", "e1")]
    first = make_batch_id(run_after, "asset_triggered__1", objects)
    assert first == make_batch_id(run_after, "asset_triggered__1", list(reversed(objects)))
    assert first != make_batch_id(run_after, "asset_triggered__2", objects)
    assert first != make_batch_id(run_after, "asset_triggered__1", [ObjectVersion(BUCKET, "raw/a.csv", "e2")])
    assert re.fullmatch(r"20261125T203000Z-[0-9a-f]{8}", first)
