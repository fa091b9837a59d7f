"""The job's outputs: processed rows, quarantined rows and the batch summary."""

import json
from collections import Counter

from movies_quality import reasons as R
from movies_quality.columns import PROCESSED_COLUMNS, QUARANTINE_COLUMNS
from movies_quality.headers import FileLayout
from movies_quality.reading import with_raw_values


def processed_rows(validated, batch_id: str, ingested_at):
    """Valid rows in the processed Parquet layout of docs/interfaces.md."""
    from pyspark.sql import functions as F

    return (
        validated.where("is_valid")
        .withColumn("imdb_rating", F.col("imdb_rating").cast("decimal(3,1)"))
        .withColumn("source_line", F.col("line_number"))
        .withColumn("batch_id", F.lit(batch_id))
        .withColumn("ingested_at", F.lit(ingested_at).cast("timestamp"))
        .select(*PROCESSED_COLUMNS)
    )


def quarantined_rows(validated, files: list[FileLayout], batch_id: str):
    """Invalid rows with their raw values, source, line and every reason that applies."""
    from pyspark.sql import functions as F

    invalid = validated.where(~F.col("is_valid")).withColumn("batch_id", F.lit(batch_id))
    return with_raw_values(invalid, files).select(*QUARANTINE_COLUMNS)


def outcome_counts(validated) -> list[dict]:
    """Row counts per file, validity, quality flag and reason list: one small aggregate."""
    counts = validated.groupBy("file_index", "is_valid", "is_quality_movie", "reasons").count()
    return [row.asDict() for row in counts.collect()]


def implausible_files(counts: list[dict], files: list[FileLayout], max_share: float) -> dict[int, str]:
    """file_index -> rejection message of each file quarantining more than max_share of its rows.

    Such a file is more likely shifted or mislabelled than holding a few bad rows: the rows that
    happen to parse would load with wrong values. Rows quarantined only as duplicate_key (a file
    delivered twice) do not count against it.
    """
    rows, implausible, reasons = Counter(), Counter(), {layout.index: Counter() for layout in files}
    for group in counts:
        rows[group["file_index"]] += group["count"]
        if not group["is_valid"] and group["reasons"] != [R.DUPLICATE_KEY]:
            implausible[group["file_index"]] += group["count"]
            reasons[group["file_index"]].update({code: group["count"] for code in group["reasons"]})
    rejected = {}
    for layout in files:
        quarantined, total = implausible[layout.index], rows[layout.index]
        if total and quarantined / total > max_share:
            common = ", ".join(f"{code}={count}" for code, count in reasons[layout.index].most_common(3))
            rejected[layout.index] = (
                f"{layout.source_object}: {quarantined} of {total} rows would be quarantined "
                f"({quarantined / total:.0%}, more than the allowed {max_share:.0%}; mostly {common}): "
                "columns shifted or mislabelled? No row of the file is loaded"
            )
    return rejected


def build_summary(
    counts: list[dict], files: list[FileLayout], batch_id: str, quality_min: float, quality_max: float
) -> dict:
    """summary.json of docs/interfaces.md from the outcome counts; rows_in = valid + quarantined."""
    per_file = {layout.index: Counter() for layout in files}
    reasons: Counter = Counter()
    quality = Counter()
    for group in counts:
        outcome = "rows_valid" if group["is_valid"] else "rows_quarantined"
        per_file[group["file_index"]][outcome] += group["count"]
        for code in group["reasons"]:
            reasons[code] += group["count"]
        if group["is_valid"]:
            quality["rows_passed" if group["is_quality_movie"] else "rows_failed"] += group["count"]
    file_entries = [
        {
            "source_object": layout.source_object,
            "status": "rejected" if layout.error else "processed",
            "error": layout.error,
            "rows_in": per_file[layout.index]["rows_valid"] + per_file[layout.index]["rows_quarantined"],
            "rows_valid": per_file[layout.index]["rows_valid"],
            "rows_quarantined": per_file[layout.index]["rows_quarantined"],
        }
        for layout in files
    ]
    return {
        "batch_id": batch_id,
        "rows_in": sum(entry["rows_in"] for entry in file_entries),
        "rows_valid": sum(entry["rows_valid"] for entry in file_entries),
        "rows_quarantined": sum(entry["rows_quarantined"] for entry in file_entries),
        "reasons": dict(sorted(reasons.items())),
        "files": file_entries,
        "quality_rule": {
            "rule": f"imdb_rating present and strictly between {quality_min} and {quality_max}",
            "min_exclusive": quality_min,
            "max_exclusive": quality_max,
            "rows_passed": quality["rows_passed"],
            "rows_failed": quality["rows_failed"],
        },
    }


def write_text(spark, uri: str, text: str) -> None:
    """Writes (replaces) a small text file through Hadoop FileSystem, so s3:// works on Glue."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    file_system = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = file_system.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def read_text(spark, uri: str) -> str:
    """Reads a small UTF-8 text file through Hadoop FileSystem (s3:// on Glue)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    file_system = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = file_system.open(path)
    try:
        return bytes(stream.readAllBytes()).decode("utf-8")
    finally:
        stream.close()


def summary_json(summary: dict) -> str:
    """The summary as the JSON text written to summary.json."""
    return json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
