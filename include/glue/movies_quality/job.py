"""The whole Glue job as one function over a SparkSession: read, type, validate, write."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from movies_quality.cleaning import type_movies
from movies_quality.headers import inspect_files
from movies_quality.outputs import (
    build_summary,
    outcome_counts,
    processed_rows,
    quarantined_rows,
    summary_json,
    write_text,
)
from movies_quality.reading import number_lines, parse_records, scan_lines
from movies_quality.validation import validate_movies

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSettings:
    """The job's arguments, already checked."""

    input_uris: list[str]
    source_objects: list[str]
    output_uri: str
    batch_id: str
    quality_min: float = 8.0
    quality_max: float = 10.3


def run_job(spark, settings: JobSettings, ingested_at: datetime | None = None) -> dict:
    """Runs the batch and returns its summary; outputs under settings.output_uri replace earlier ones.

    ingested_at should be time-zone aware (UTC); it defaults to now.
    """
    ingested_at = ingested_at or datetime.now(UTC)
    # Parquet INT96 timestamps are deprecated; Redshift COPY and pyarrow read microseconds.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    output_uri = settings.output_uri.rstrip("/")
    files = inspect_files(spark, settings.input_uris, settings.source_objects)
    for layout in files:
        if layout.error:
            log.warning("rejected %s", layout.error)
    loadable = [layout for layout in files if layout.error is None]

    # Cached so the line numbering and the parsing share one read of the input.
    lines = scan_lines(spark, loadable).persist()
    typed = type_movies(parse_records(number_lines(lines), loadable))
    validated = validate_movies(
        typed,
        max_year=ingested_at.year + 1,
        quality_min=Decimal(str(settings.quality_min)),
        quality_max=Decimal(str(settings.quality_max)),
    ).persist()
    counts = outcome_counts(validated)
    lines.unpersist()

    processed_rows(validated, settings.batch_id, ingested_at).write.mode("overwrite").parquet(f"{output_uri}/processed")
    quarantined_rows(validated, settings.batch_id).write.mode("overwrite").option("ignoreNullFields", "false").json(
        f"{output_uri}/quarantine"
    )
    validated.unpersist()

    summary = build_summary(counts, files, settings.batch_id, settings.quality_min, settings.quality_max)
    # Written last: its presence says the batch's outputs are complete.
    write_text(spark, f"{output_uri}/summary.json", summary_json(summary))
    log.info(
        "batch %s: %d rows in, %d valid, %d quarantined, %d files rejected",
        settings.batch_id,
        summary["rows_in"],
        summary["rows_valid"],
        summary["rows_quarantined"],
        sum(1 for layout in files if layout.error),
    )
    return summary
