"""The whole Glue job as one function over a SparkSession: read, type, validate, write."""

import logging
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from movies_quality.cleaning import type_movies
from movies_quality.headers import inspect_files
from movies_quality.outputs import (
    build_summary,
    implausible_files,
    outcome_counts,
    processed_rows,
    quarantined_rows,
    summary_json,
    write_text,
)
from movies_quality.reading import parse_records, scan_lines
from movies_quality.validation import check_movies, repeated_movies, validate_movies

# The job's own lines read "<time> INFO movies_quality: ..." in its driver log: grep for them.
log = logging.getLogger("movies_quality")
# Input bytes per shuffle partition (see shuffle_partitions).
SHUFFLE_PARTITION_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class JobSettings:
    """The job's arguments, already checked."""

    input_uris: list[str]
    source_objects: list[str]
    output_uri: str
    batch_id: str
    quality_min: float = 8.0
    quality_max: float = 10.3
    # A file quarantining more than this share of its rows is rejected whole.
    max_quarantine_share: float = 0.5


def shuffle_partitions(input_bytes: int, parallelism: int) -> int:
    """Shuffle partitions for a batch of `input_bytes`: one per SHUFFLE_PARTITION_BYTES, at least one
    per core. Spark's default of 200 makes every shuffle of a small batch run 200 near-empty tasks
    (AQE cannot coalesce the shuffles inside the job's cached plan): most of a small file's run."""
    return max(parallelism, math.ceil(input_bytes / SHUFFLE_PARTITION_BYTES))


def run_job(spark, settings: JobSettings, ingested_at: datetime | None = None) -> dict:
    """Runs the batch and returns its summary; outputs under settings.output_uri replace earlier ones.

    ingested_at should be time-zone aware (UTC); it defaults to now.
    """
    ingested_at = ingested_at or datetime.now(UTC)
    # Parquet INT96 timestamps are deprecated; Redshift COPY and pyarrow read microseconds.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    # The cache below is read three times and dropped: compressing it (dictionary statistics over
    # every long text) costs more than it saves.
    spark.conf.set("spark.sql.inMemoryColumnarStorage.compressed", "false")
    output_uri = settings.output_uri.rstrip("/")
    files = inspect_files(spark, settings.input_uris, settings.source_objects)
    for layout in files:
        if layout.error:
            log.warning("rejected file %s", layout.error)
    loadable = [layout for layout in files if layout.error is None]
    partitions = shuffle_partitions(sum(layout.stored_bytes for layout in loadable),
                                    spark.sparkContext.defaultParallelism)  # fmt: skip
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))

    typed = type_movies(parse_records(scan_lines(spark, loadable), loadable))
    # Cached once, checked: the duplicate aggregate, the counts and both outputs read it instead
    # of the input. The repeated keys are materialised first so that joining them back is
    # planned with their real (usually tiny) size: a broadcast, not a shuffle of every row.
    checked = check_movies(typed, max_year=ingested_at.year + 1).persist()
    repeats = repeated_movies(checked).persist()
    repeated_keys = repeats.count()
    validated = validate_movies(
        checked,
        repeats,
        quality_min=Decimal(str(settings.quality_min)),
        quality_max=Decimal(str(settings.quality_max)),
    )
    counts = outcome_counts(validated)
    # A rejected file reports zero rows, like one rejected by its header: none of its rows is
    # written, to processed or to quarantine; its message carries its counts.
    implausible = implausible_files(counts, files, settings.max_quarantine_share)
    if implausible:
        for message in implausible.values():
            log.warning("rejected file %s", message)
        files = [replace(layout, error=implausible.get(layout.index, layout.error)) for layout in files]
        counts = [group for group in counts if group["file_index"] not in implausible]
        validated = validated.where(~validated["file_index"].isin(list(implausible)))
    summary = build_summary(counts, files, settings.batch_id, settings.quality_min, settings.quality_max)
    for entry in summary["files"]:
        if entry["status"] == "processed":
            log.info(
                "read %d rows from %s: %d valid, %d quarantined",
                entry["rows_in"], entry["source_object"], entry["rows_valid"], entry["rows_quarantined"],
            )  # fmt: skip
    reasons = ", ".join(f"{code}={rows}" for code, rows in summary["reasons"].items()) or "none"
    log.info("quarantine reasons: %s (%d movie keys repeated)", reasons, repeated_keys)

    processed_rows(validated, settings.batch_id, ingested_at).write.mode("overwrite").parquet(f"{output_uri}/processed")
    log.info("wrote %d rows to %s/processed", summary["rows_valid"], output_uri)
    quarantined_rows(validated, loadable, settings.batch_id).write.mode("overwrite").option(
        "ignoreNullFields", "false"
    ).json(f"{output_uri}/quarantine")
    log.info("wrote %d rows to %s/quarantine", summary["rows_quarantined"], output_uri)
    repeats.unpersist()
    checked.unpersist()

    # Written last: its presence says the batch's outputs are complete.
    write_text(spark, f"{output_uri}/summary.json", summary_json(summary))
    log.info(
        "batch %s: %d rows in, %d valid, %d quarantined, %d files rejected; wrote %s/summary.json",
        settings.batch_id,
        summary["rows_in"],
        summary["rows_valid"],
        summary["rows_quarantined"],
        sum(1 for layout in files if layout.error),
        output_uri,
    )
    return summary
