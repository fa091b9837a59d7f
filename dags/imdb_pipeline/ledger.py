"""The load ledger (`movies.load_ledger`): what happened to each source object version, per batch.

This module owns the ledger: its states, the transitions allowed between them (`TRANSITIONS`, the
table rendered into docs/interfaces.md), and every read and write, with the SQL in
`include/sql/ledger/`. An object version (bucket, key, ETag) counts as loaded when a row with
status `loaded` exists for it. Functions that take a cursor run inside the caller's transaction;
functions that take a connection commit their own work and roll it back on error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from imdb_pipeline import db
from imdb_pipeline.batch import ObjectVersion, check_batch_id, object_version

SKIPPED = "skipped"
STAGED = "staged"
REJECTED = "rejected"
VERIFIED = "verified"
QUALITY_FAILED = "quality_failed"
LOADED = "loaded"
STATES = (SKIPPED, STAGED, REJECTED, VERIFIED, QUALITY_FAILED, LOADED)
LOADED_SQL = "ledger/update_loaded_rows.sql"
# Width of movies.load_ledger.reason.
REASON_MAX_CHARS = 4096


@dataclass(frozen=True)
class Transition:
    """A ledger row may go from `source` (None: no row yet) to `target` when `step` does what `rule` says."""

    source: tuple[str | None, ...]
    target: str
    step: str
    rule: str


TRANSITIONS = (
    Transition((None,), SKIPPED, "resolve_batch", "an event re-delivered an object version that is already loaded"),
    Transition((None,), REJECTED, "resolve_batch", "the object's key cannot be used (its dt= is no calendar day, "
               "or it lies in a sub-folder the sweep does not list)"),
    Transition((None, STAGED, VERIFIED, SKIPPED, REJECTED, QUALITY_FAILED), STAGED, "load_staging",
               "the Glue job processed the file and its valid rows are in staging (a retry replaces any row "
               "of the batch's earlier attempt but a loaded one)"),
    Transition((None, STAGED, VERIFIED, SKIPPED, REJECTED, QUALITY_FAILED), REJECTED, "load_staging",
               "the Glue job rejected the whole file; the reason names the file and the problem"),
    Transition((STAGED,), VERIFIED, "quality_gate", "the staged batch passed its Soda contract"),
    Transition((STAGED, VERIFIED, QUALITY_FAILED), QUALITY_FAILED, "quality_gate",
               "a fail-level check broke; the reason names every failed check"),
    Transition((VERIFIED,), SKIPPED, "merge_imdb_movies",
               "inside the merge's lock: another batch loaded the same object version meanwhile"),
    Transition((VERIFIED,), LOADED, "merge_imdb_movies",
               "merged with rating history in one transaction; rows_loaded counts the merged rows"),
    Transition((STAGED, VERIFIED), SKIPPED, "merge_imdb_movies (of another batch)",
               "another batch loaded the same object version, so this batch never will"),
)  # fmt: skip


def allowed(source: str | None, target: str) -> bool:
    """Whether a row may go from `source` (None: no row) to `target`."""
    return any(source in transition.source and target == transition.target for transition in TRANSITIONS)


def transitions_markdown() -> str:
    """The transitions as the Markdown table in docs/interfaces.md."""
    lines = ["| from | to | by | when |", "| --- | --- | --- | --- |"]
    for transition in TRANSITIONS:
        sources = ", ".join(f"`{source}`" if source else "(no row)" for source in transition.source)
        lines.append(f"| {sources} | `{transition.target}` | `{transition.step}` | {transition.rule} |")
    return "\n".join(lines)


# --- reads ---------------------------------------------------------------------------------------


def settled_statuses(conn: Any, objects: Iterable[Any]) -> dict[ObjectVersion, set[str]]:
    """For each given object version that has any, its settling statuses (`loaded`, `rejected`,
    `quality_failed`); versions with none are absent."""
    versions = [object_version(obj) for obj in objects]
    if not versions:
        return {}
    wanted = set(versions)
    keys = sorted({version.key for version in versions})
    found: dict[ObjectVersion, set[str]] = {}
    with db.transaction(conn) as cursor:
        db.execute(cursor, db.sql_text("ledger/select_settled_versions.sql"), {"object_keys": keys})
        for bucket, key, etag, status in cursor.fetchall():
            version = ObjectVersion(bucket, key, etag)
            if version in wanted:
                found.setdefault(version, set()).add(status)
    return found


def unknown_versions(conn: Any, objects: Iterable[Any]) -> list[ObjectVersion]:
    """The given object versions that no batch has taken yet (no ledger row at all)."""
    versions = [object_version(obj) for obj in objects]
    if not versions:
        return []
    with db.transaction(conn) as cursor:
        keys = sorted({version.key for version in versions})
        db.execute(cursor, db.sql_text("ledger/select_known_versions.sql"), {"object_keys": keys})
        known = {ObjectVersion(*row) for row in cursor.fetchall()}
    return [version for version in versions if version not in known]


def rows_of_object(conn: Any, bucket: str, key: str) -> list[dict]:
    """Every ledger row of one object (all batches, all versions), newest first."""
    with db.transaction(conn) as cursor:
        db.execute(cursor, db.sql_text("ledger/select_object_rows.sql"), {"bucket": bucket, "object_key": key})
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- writes --------------------------------------------------------------------------------------


def record_skipped(conn: Any, batch_id: str, objects: Iterable[Any]) -> int:
    """Rows `skipped` for re-delivered object versions already loaded; idempotent per (batch, bucket, key)."""
    check_batch_id(batch_id)
    inserted = 0
    with db.transaction(conn) as cursor:
        for version in map(object_version, objects):
            inserted += _insert_row(cursor, batch_id, version, SKIPPED, 0, 0, "already loaded with the same ETag")
    return inserted


def record_rejected(conn: Any, batch_id: str, rejections: Iterable[tuple[Any, str]]) -> int:
    """Rows `rejected` for object versions refused before any job ran (e.g. an undatable key)."""
    check_batch_id(batch_id)
    inserted = 0
    with db.transaction(conn) as cursor:
        for obj, reason in rejections:
            inserted += _insert_row(cursor, batch_id, object_version(obj), REJECTED, 0, 0, clip(reason))
    return inserted


def record_staged_file(cursor: Any, batch_id: str, version: ObjectVersion, file: Mapping) -> None:
    """The row of one file of a staged batch: `staged`, or `rejected` with the Glue job's error.

    `file` is the file's entry in summary.json. A row of an earlier attempt at the batch is
    replaced, unless the merge loaded it.
    """
    status = {"processed": STAGED, "rejected": REJECTED}[file["status"]]
    db.execute(
        cursor,
        db.sql_text("ledger/delete_restaged_row.sql"),
        {"batch_id": batch_id, "bucket": version.bucket, "object_key": version.key},
    )
    _insert_row(cursor, batch_id, version, status, int(file["rows_in"]), int(file["rows_quarantined"]),
                file.get("error"))  # fmt: skip


def merge_start_statements(batch_id: str) -> list[str]:
    """The start of the merge's transaction: lock the ledger (merges serialise), count the batch's
    verified files (the merge fails on none, see warehouse.check_merge_result), then skip verified
    versions that another batch loaded meanwhile."""
    return _rendered(batch_id, "ledger/lock_load_ledger.sql", "ledger/select_verified_files.sql",
                     "ledger/update_already_loaded_rows.sql")  # fmt: skip


def mark_verified(conn: Any, batch_id: str) -> int:
    """The batch's `staged` rows -> `verified`: the merge takes only these. Returns rows changed."""
    with db.transaction(conn) as cursor:
        db.execute(
            cursor,
            db.sql_text("ledger/update_verified_rows.sql"),
            {"updated_at": _now(), "batch_id": batch_id},
        )
        return cursor.rowcount


def mark_quality_failed(conn: Any, batch_id: str, failed_checks: Iterable[Any]) -> int:
    """The batch's rows -> `quality_failed`, the reason naming each failed check. Returns rows changed."""
    names = "; ".join(f"{outcome.contract}: {outcome.check} ({outcome.name})" for outcome in failed_checks)
    with db.transaction(conn) as cursor:
        db.execute(
            cursor,
            db.sql_text("ledger/update_quality_failed_rows.sql"),
            {"reason": clip(f"quality gate failed: {names}"), "updated_at": _now(), "batch_id": batch_id},
        )
        return cursor.rowcount


def loaded_statements(batch_id: str) -> list[str]:
    """Statements that turn the batch's `verified` rows `loaded`, counting rows per file from the
    merge's temp table `merge_source`: the end of the merge's transaction (see warehouse.merge_statements)."""
    return _rendered(batch_id, LOADED_SQL)


def _rendered(batch_id: str, *files: str) -> list[str]:
    return [db.render(statement, {"batch_id": batch_id}) for path in files
            for statement in db.split_statements(db.sql_text(path))]  # fmt: skip


def clip(text: str, max_chars: int = REASON_MAX_CHARS) -> str:
    """Text cut to fit a reason or message column, with an ellipsis when cut."""
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


def _insert_row(
    cursor: Any,
    batch_id: str,
    version: ObjectVersion,
    status: str,
    rows_in: int,
    rows_quarantined: int,
    reason: str | None,
) -> int:
    db.execute(
        cursor,
        db.sql_text("ledger/insert_ledger_row.sql"),
        {
            "batch_id": batch_id, "bucket": version.bucket, "object_key": version.key, "etag": version.etag,
            "status": status, "rows_in": rows_in, "rows_quarantined": rows_quarantined, "reason": reason,
            "source_time": _naive_utc(_source_time(version)),
            "last_modified": _naive_utc(version.last_modified),
        },
    )  # fmt: skip
    return cursor.rowcount


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _source_time(version: ObjectVersion) -> datetime | None:
    """The version's data time, or None when it cannot be told (no LastModified, or an undatable key)."""
    try:
        return version.source_time
    except ValueError:
        return None


def _naive_utc(moment: datetime | None) -> datetime | None:
    """The warehouse stores UTC without a zone (Redshift TIMESTAMP)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None

