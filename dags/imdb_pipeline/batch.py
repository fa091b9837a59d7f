"""Which raw objects a run loads: plain functions over asset-event payloads and S3 listings.

Time of the data ("latest wins"): an object version's `source_time` is the producer's as-of day
when its key has a `dt=YYYY-MM-DD` partition (midnight UTC), else its S3 `LastModified`; ties are
broken by `LastModified`. So a file for last week that lands today is older than today's file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

# A landing-date partition in the key (`raw/dt=2026-11-20/file.csv`) dates the object.
_KEY_DATE = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})/")
# The key layouts below the raw prefix that runs read, `<file>` and `dt=YYYY-MM-DD/<file>`: the
# sweep lists exactly these, so a file elsewhere would load only if its event were delivered.
_READ_LAYOUT = re.compile(r"(?:dt=\d{4}-\d{2}-\d{2}/)?[^/]+")
BATCH_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")


@dataclass(frozen=True, order=True)
class ObjectVersion:
    """One version of one S3 object: what the load ledger counts as loaded or not."""

    bucket: str
    key: str
    etag: str
    # When S3 last wrote it: not part of the identity (events and listings agree on the ETag only).
    last_modified: datetime | None = field(default=None, compare=False)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def source_time(self) -> datetime:
        """The data's time: the key's `dt=` day when it has one, else LastModified (see module doc)."""
        day = key_day(self.key)
        if day is not None:
            return datetime.combine(day, time(), tzinfo=UTC)
        if self.last_modified is None:
            raise ValueError(f"{self.uri} has neither a dt= day in its key nor a LastModified time")
        return self.last_modified

    def as_dict(self) -> dict:
        """For XCom: identity plus the times, as ISO text."""
        return {
            "bucket": self.bucket, "key": self.key, "etag": self.etag,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "source_time": self.source_time.isoformat(),
        }  # fmt: skip


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

    @property
    def input_manifest_uri(self) -> str:
        """Where the batch's input manifest is written: in its output folder, beside the job's outputs."""
        return f"{self.output_uri}input_manifest.json"

    def input_manifest(self) -> str:
        """The Glue job's input manifest (JSON): each input's uri and source_object, oldest data first.

        Keys are data: a list in a JSON object survives any character, where a comma-joined
        argument breaks on a comma.
        """
        inputs = [{"uri": uri, "source_object": uri} for uri in self.input_uris]
        return json.dumps({"batch_id": self.batch_id, "inputs": inputs}, ensure_ascii=False, indent=1)

    def to_xcom(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "objects": [obj.as_dict() for obj in self.objects],
            "skipped": [obj.as_dict() for obj in self.skipped],
            "input_uris": self.input_uris,
            "input_manifest": self.input_manifest_uri,
            "output_uri": self.output_uri,
        }


RAW_SUFFIXES = (".csv", ".csv.gz")


def is_raw_input(bucket: str, key: str, *, expected_bucket: str, raw_prefix: str) -> bool:
    """Only `.csv` and `.csv.gz` objects under the raw prefix of the pipeline's bucket are pipeline input."""
    return bucket == expected_bucket and key.startswith(raw_prefix) and key.lower().endswith(RAW_SUFFIXES)


def normalise_etag(etag: str) -> str:
    """S3 quotes ETags in API responses but not in events: compare them unquoted."""
    return etag.strip().strip('"')


def object_version(obj: Any) -> ObjectVersion:
    """An ObjectVersion from a mapping or tuple (bucket, key, etag[, last_modified]), or an ObjectVersion."""
    if isinstance(obj, ObjectVersion):
        return obj
    if isinstance(obj, Mapping):
        bucket, key, etag = obj["bucket"], obj["key"], obj["etag"]
        last_modified = obj.get("last_modified")
    else:
        bucket, key, etag, *rest = obj
        last_modified = rest[0] if rest else None
    if isinstance(last_modified, str):
        last_modified = datetime.fromisoformat(last_modified)
    return ObjectVersion(bucket, key, normalise_etag(etag), last_modified)


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
            if key and etag and is_raw_input(event_bucket, key, expected_bucket=bucket, raw_prefix=raw_prefix):
                found.add(ObjectVersion(event_bucket, key, etag))
    return sorted(found)


class InvalidKeyDate(ValueError):
    """The key has a `dt=` partition that is not a calendar day (e.g. `dt=2026-02-30`)."""


def key_day(key: str) -> date | None:
    """The producer's as-of day from a `dt=YYYY-MM-DD` partition in the key; None when there is none."""
    match = _KEY_DATE.search(key)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise InvalidKeyDate(f"{key}: dt={match.group(1)} in the key is not a calendar day") from None


def landing_date(key: str, last_modified: datetime) -> date:
    """The day an object belongs to: its `dt=` partition when the key has one, else its upload day."""
    return key_day(key) or last_modified.date()


def window_days(window_end: datetime, lookback_days: int) -> list[date]:
    """The days a run covers, oldest first: `lookback_days` days up to the one `window_end` falls in.

    `window_end` is exclusive when it is a midnight (a daily run's interval end covers the day
    before), else its own day is included (a manual or event-triggered run at 08:00 covers today).
    """
    last_day = window_end.date()
    if window_end.timetz().replace(tzinfo=None) == time():
        last_day -= timedelta(days=1)
    return [last_day - timedelta(days=offset) for offset in reversed(range(lookback_days))]


def dated(
    versions: Iterable[ObjectVersion], raw_prefix: str
) -> tuple[list[ObjectVersion], list[tuple[ObjectVersion, str]]]:
    """The versions whose key is in a layout runs read and can be dated, and the others each with
    the reason (they are recorded `rejected`, once)."""
    good, undatable = [], []
    for version in versions:
        if not _READ_LAYOUT.fullmatch(version.key.removeprefix(raw_prefix)):
            undatable.append((version, f"{version.key}: not in a layout the pipeline reads ({raw_prefix}<file> "
                                       f"or {raw_prefix}dt=YYYY-MM-DD/<file>, the prefixes its sweep lists)"))
            continue
        try:
            key_day(version.key)
        except InvalidKeyDate as error:
            undatable.append((version, str(error)))
        else:
            good.append(version)
    return good, undatable


def objects_in_window(
    listing: Iterable[Mapping], *, bucket: str, raw_prefix: str, days: Iterable[date]
) -> tuple[list[ObjectVersion], list[tuple[ObjectVersion, str]]]:
    """The raw input versions of an S3 listing whose landing day is one of `days`, and the versions
    whose key cannot be read (an invalid `dt=`, a sub-folder), each with the reason.

    `listing` holds `list_objects_v2` entries (`Key`, `ETag`, `LastModified`).
    """
    covered = set(days)
    versions = [
        ObjectVersion(bucket, entry["Key"], normalise_etag(entry["ETag"]), entry["LastModified"])
        for entry in listing
        if is_raw_input(bucket, entry["Key"], expected_bucket=bucket, raw_prefix=raw_prefix)
    ]
    good, undatable = dated(versions, raw_prefix)
    selected = {version for version in good if landing_date(version.key, version.last_modified) in covered}
    return sorted(selected), undatable


def by_source_time(versions: Iterable[ObjectVersion]) -> list[ObjectVersion]:
    """Oldest data first: by source time, then LastModified, then key (the order the Glue job and
    the merge rely on for "the latest wins")."""
    return sorted(versions, key=lambda v: (v.source_time, v.last_modified or v.source_time, v.key, v.etag))


def make_batch_id(run_after: datetime, run_id: str, objects: Iterable[ObjectVersion]) -> str:
    """A batch id that is stable across retries of one run and differs between runs."""
    digest = hashlib.sha256(run_id.encode())
    for obj in sorted(objects):
        digest.update(f"\0{obj.bucket}\0{obj.key}\0{obj.etag}".encode())
    return f"{run_after:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:8]}"


def resolve_batch(
    objects: Iterable[ObjectVersion],
    skipped: Iterable[ObjectVersion],
    *,
    batch_id: str,
    bucket: str,
    processed_prefix: str,
) -> Batch:
    """The batch of a run: its objects oldest data first, and the named versions it skips."""
    return Batch(
        batch_id=batch_id,
        objects=tuple(by_source_time(set(objects))),
        skipped=tuple(sorted(set(skipped))),
        output_uri=f"s3://{bucket}/{processed_prefix}batch_id={batch_id}/",
    )
