"""Which raw objects a run loads: plain functions over asset-event payloads and S3 listings."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

# A landing-date partition in the key (`raw/dt=2026-11-20/file.csv`) dates the object.
_KEY_DATE = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})/")
BATCH_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")


@dataclass(frozen=True, order=True)
class ObjectVersion:
    """One version of one S3 object: what the load ledger counts as loaded or not."""

    bucket: str
    key: str
    etag: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Batch:
    """The objects one run loads, and those it skips because the ledger has them already."""

    batch_id: str
    objects: tuple[ObjectVersion, ...]
    skipped: tuple[ObjectVersion, ...]
    output_uri: str

    @property
    def input_uris(self) -> list[str]:
        return [obj.uri for obj in self.objects]

    def to_xcom(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "objects": [asdict(obj) for obj in self.objects],
            "skipped": [asdict(obj) for obj in self.skipped],
            "input_uris": self.input_uris,
            "input_uris_csv": ",".join(self.input_uris),
            "output_uri": self.output_uri,
        }


def is_raw_csv(bucket: str, key: str, *, expected_bucket: str, raw_prefix: str) -> bool:
    """Only `.csv` objects under the raw prefix of the pipeline's bucket are pipeline input."""
    return bucket == expected_bucket and key.startswith(raw_prefix) and key.lower().endswith(".csv")


def normalise_etag(etag: str) -> str:
    """S3 quotes ETags in API responses but not in events: compare them unquoted."""
    return etag.strip().strip('"')


def object_version(obj: Any) -> ObjectVersion:
    """An ObjectVersion from a mapping (bucket, key, etag), an object with those attributes or a tuple."""
    if isinstance(obj, Mapping):
        bucket, key, etag = obj["bucket"], obj["key"], obj["etag"]
    elif hasattr(obj, "etag"):
        bucket, key, etag = obj.bucket, obj.key, obj.etag
    else:
        bucket, key, etag = obj
    return ObjectVersion(bucket, key, normalise_etag(etag))


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); anything else raises ValueError naming the URI."""
    match = _S3_URI.match(uri)
    if not match:
        raise ValueError(f"Not an s3://bucket/key URI: {uri!r}")
    return match.group("bucket"), match.group("key")


def check_batch_id(batch_id: str) -> None:
    """A batch id is a short token: it names S3 folders and is spliced into nothing unchecked."""
    if not BATCH_ID.match(batch_id):
        raise ValueError(f"Invalid batch_id {batch_id!r}: expected {BATCH_ID.pattern}")


def objects_from_asset_events(
    extras: Iterable[Mapping], *, bucket: str, raw_prefix: str
) -> list[ObjectVersion]:
    """The raw CSV objects named by asset events that the SQS watcher produced.

    Each event's extra is `{"payload": {"message_batch": [SQS message, ...]}}`; each message's
    `Body` is an EventBridge event as a JSON string. Messages that are not S3 `Object Created`
    events for the raw prefix are ignored; the same object version named twice counts once.
    """
    found: set[ObjectVersion] = set()
    for extra in extras:
        for message in (extra.get("payload") or {}).get("message_batch") or []:
            try:
                event = json.loads(message.get("Body") or "")
            except (TypeError, json.JSONDecodeError):
                continue
            if not isinstance(event, dict) or event.get("detail-type") != "Object Created":
                continue
            detail = event.get("detail") or {}
            event_bucket = (detail.get("bucket") or {}).get("name", "")
            obj = detail.get("object") or {}
            key, etag = obj.get("key", ""), normalise_etag(obj.get("etag", ""))
            if key and etag and is_raw_csv(event_bucket, key, expected_bucket=bucket, raw_prefix=raw_prefix):
                found.add(ObjectVersion(event_bucket, key, etag))
    return sorted(found)


def landing_date(key: str, last_modified: datetime) -> date:
    """The day an object belongs to: its `dt=` partition when the key has one, else its upload day."""
    match = _KEY_DATE.search(key)
    return date.fromisoformat(match.group(1)) if match else last_modified.date()


def objects_in_interval(
    listing: Iterable[Mapping], *, bucket: str, raw_prefix: str, start: datetime, end: datetime
) -> list[ObjectVersion]:
    """The raw CSV objects of an S3 listing whose landing date falls in [start, end).

    `listing` holds `list_objects_v2` entries (`Key`, `ETag`, `LastModified`). A scheduled or
    backfill run covers whole days, so the comparison is by landing date.
    """
    first_day, end_day = start.date(), end.date()
    if end_day == first_day:
        end_day = date.fromordinal(first_day.toordinal() + 1)
    selected = set()
    for entry in listing:
        key = entry["Key"]
        if not is_raw_csv(bucket, key, expected_bucket=bucket, raw_prefix=raw_prefix):
            continue
        if first_day <= landing_date(key, entry["LastModified"]) < end_day:
            selected.add(ObjectVersion(bucket, key, normalise_etag(entry["ETag"])))
    return sorted(selected)


def make_batch_id(run_after: datetime, run_id: str, objects: Iterable[ObjectVersion]) -> str:
    """A batch id that is stable across retries of one run and differs between runs."""
    digest = hashlib.sha256(run_id.encode())
    for obj in sorted(objects):
        digest.update(f"\0{obj.bucket}\0{obj.key}\0{obj.etag}".encode())
    return f"{run_after:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:8]}"


def resolve_batch(
    candidates: Iterable[ObjectVersion],
    loaded: set[ObjectVersion],
    *,
    batch_id: str,
    bucket: str,
    processed_prefix: str,
) -> Batch:
    """Split the candidates into objects to load and object versions the ledger has loaded."""
    unique = sorted(set(candidates))
    return Batch(
        batch_id=batch_id,
        objects=tuple(obj for obj in unique if obj not in loaded),
        skipped=tuple(obj for obj in unique if obj in loaded),
        output_uri=f"s3://{bucket}/{processed_prefix}batch_id={batch_id}/",
    )
