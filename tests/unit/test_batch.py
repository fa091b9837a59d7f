"""Batch resolution: which objects a run loads, from asset events or from an S3 listing."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from imdb_pipeline.batch import (
    InvalidKeyDate,
    ObjectVersion,
    by_source_time,
    landing_date,
    make_batch_id,
    objects_from_asset_events,
    objects_in_window,
    resolve_batch,
    window_days,
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


def test_a_batch_holds_its_objects_once_oldest_data_first_and_the_versions_it_skips():
    modified = datetime(2026, 11, 25, 9, tzinfo=UTC)
    today = ObjectVersion(BUCKET, "raw/a.csv", "e1", modified)
    last_week = ObjectVersion(BUCKET, "raw/dt=2026-11-18/b.csv", "e2", modified + timedelta(hours=1))
    skipped = ObjectVersion(BUCKET, "raw/c.csv", "e3", modified)
    batch = resolve_batch([today, last_week, today], [skipped], batch_id="B1", bucket=BUCKET,
                          processed_prefix="processed/")  # fmt: skip
    assert batch.objects == (last_week, today)
    assert batch.skipped == (skipped,)
    assert batch.output_uri == f"s3://{BUCKET}/processed/batch_id=B1/"
    assert batch.to_xcom()["input_manifest"] == f"s3://{BUCKET}/processed/batch_id=B1/input_manifest.json"
    assert json.loads(batch.input_manifest())["inputs"] == [
        {"uri": last_week.uri, "source_object": last_week.uri}, {"uri": today.uri, "source_object": today.uri}
    ]
    assert batch.to_xcom()["objects"][0]["source_time"] == "2026-11-18T00:00:00+00:00"


def test_nothing_to_load_gives_an_empty_batch():
    batch = resolve_batch([], [], batch_id="B1", bucket=BUCKET, processed_prefix="processed/")
    assert batch.objects == ()
    assert batch.input_uris == []


def test_latest_wins_by_the_data_day_then_last_modified():
    uploaded = datetime(2026, 11, 25, 9, tzinfo=UTC)
    late_file_for_last_week = ObjectVersion(BUCKET, "raw/dt=2026-11-18/x.csv", "e1", uploaded + timedelta(days=1))
    todays = ObjectVersion(BUCKET, "raw/dt=2026-11-25/x.csv", "e2", uploaded)
    overwritten_first = ObjectVersion(BUCKET, "raw/y.csv", "e3", uploaded)
    overwritten_again = ObjectVersion(BUCKET, "raw/y.csv", "e4", uploaded + timedelta(minutes=5))
    assert by_source_time([todays, overwritten_again, late_file_for_last_week, overwritten_first]) == [
        late_file_for_last_week, todays, overwritten_first, overwritten_again,
    ]


def listing_entry(key: str, etag: str, uploaded: datetime) -> dict:
    return {"Key": key, "ETag": f'"{etag}"', "LastModified": uploaded}


def test_window_selects_by_key_partition_else_upload_day():
    uploaded_today = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    listing = [
        listing_entry("raw/dt=2026-11-20/a.csv", "e1", uploaded_today),
        listing_entry("raw/dt=2026-11-21/b.csv", "e2", uploaded_today),
        listing_entry("raw/c.csv", "e3", datetime(2026, 11, 20, 23, 59, tzinfo=UTC)),
        listing_entry("raw/d.csv", "e4", uploaded_today),
        listing_entry("raw/dt=2026-11-20/readme.md", "e5", uploaded_today),
        listing_entry("raw/dt=2026-11-20/e.csv.gz", "e6", uploaded_today),
    ]
    selected, undatable = objects_in_window(
        listing, bucket=BUCKET, raw_prefix="raw/", days=window_days(datetime(2026, 11, 21, tzinfo=UTC), 1)
    )
    assert [(version.key, version.etag) for version in selected] == [
        ("raw/c.csv", "e3"), ("raw/dt=2026-11-20/a.csv", "e1"), ("raw/dt=2026-11-20/e.csv.gz", "e6"),
    ]  # fmt: skip
    assert undatable == []


def test_window_covers_the_days_before_a_midnight_and_the_current_day_otherwise():
    assert window_days(datetime(2026, 11, 21, tzinfo=UTC), 2) == [date(2026, 11, 19), date(2026, 11, 20)]
    assert window_days(datetime(2026, 11, 21, 8, tzinfo=UTC), 2) == [date(2026, 11, 20), date(2026, 11, 21)]


def test_a_key_with_an_impossible_day_is_reported_not_raised():
    listing = [listing_entry("raw/dt=2026-02-30/x.csv", "e1", datetime(2026, 3, 1, tzinfo=UTC)),
               listing_entry("raw/dt=2026-02-28/y.csv", "e2", datetime(2026, 3, 1, tzinfo=UTC))]  # fmt: skip
    selected, undatable = objects_in_window(listing, bucket=BUCKET, raw_prefix="raw/", days=[date(2026, 2, 28)])
    assert [version.key for version in selected] == ["raw/dt=2026-02-28/y.csv"]
    ((version, reason),) = undatable
    assert version.key == "raw/dt=2026-02-30/x.csv"
    assert reason == "raw/dt=2026-02-30/x.csv: dt=2026-02-30 in the key is not a calendar day"
    with pytest.raises(InvalidKeyDate):
        landing_date("raw/dt=2026-02-30/x.csv", datetime(2026, 3, 1, tzinfo=UTC))


def test_keys_outside_the_layouts_the_sweep_lists_are_reported_not_read():
    # An event names them, but a missed event would never be swept: read none of them.
    at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    listing = [listing_entry(key, "e", at) for key in (
        "raw/a.csv", "raw/dt=2026-11-20/b.csv", "raw/vendor/c.csv", "raw/dt=2026-11-20/sub/d.csv",
        "raw/dt=bad/e.csv", "raw/vendor/dt=2026-11-20/f.csv")]  # fmt: skip
    selected, unread = objects_in_window(listing, bucket=BUCKET, raw_prefix="raw/", days=[date(2026, 11, 20)])
    assert [version.key for version in selected] == ["raw/a.csv", "raw/dt=2026-11-20/b.csv"]
    assert [version.key for version, _ in unread] == [
        "raw/vendor/c.csv", "raw/dt=2026-11-20/sub/d.csv", "raw/dt=bad/e.csv", "raw/vendor/dt=2026-11-20/f.csv"]
    assert unread[0][1] == ("raw/vendor/c.csv: not in a layout the pipeline reads (raw/<file> or "
                            "raw/dt=YYYY-MM-DD/<file>, the prefixes its sweep lists)")


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


def test_an_eventbridge_key_is_taken_literally_spaces_plus_and_unicode_included():
    """S3's EventBridge events carry `detail.object.key` as the key itself.

    AWS documents URL-encoding ("red flower.jpg" -> "red+flower.jpg") for the classic notification
    format (notification-content-structure), not for the EventBridge format, whose detail field
    (AmazonS3 userguide ev-events, "Event message detail field") names the object with no encoding.
    The shape below is AWS's documented Object Created example with such a key; decoding it as a
    URL would turn the `+` into a space and lose the object.
    """
    key = "raw/dt=2026-11-25/Amélie + 東京 report.csv"
    event = {
        "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
        "source": "aws.s3", "account": "111122223333", "time": "2026-11-25T09:00:00Z", "region": "eu-west-1",
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {
            "version": "0", "bucket": {"name": BUCKET},
            "object": {"key": key, "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184",
                       "sequencer": "617f08299329d189"},
            "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        },
    }  # fmt: skip
    extras = [{"from_trigger": True, "payload": {"message_batch": [{"Body": json.dumps(event)}]}}]
    assert objects_from_asset_events(extras, bucket=BUCKET, raw_prefix="raw/") == [
        ObjectVersion(BUCKET, key, "b1946ac92492d2347c6235b4d2611184")
    ]
