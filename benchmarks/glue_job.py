"""Benchmark of the Glue job: the transform against a plain Spark CSV-to-Parquet copy of the same file."""

import csv
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "data" / "imdb_movies_rating.csv"


def build_input(path: Path, rows: int) -> int:
    """Writes `rows` seed rows (titles numbered per copy, so keys stay unique); returns the count."""
    with SEED.open(newline="", encoding="utf-8") as seed_file:
        header, *seed_rows = list(csv.reader(seed_file))
    title = header.index("Series_Title")
    written = 0
    with path.open("w", newline="", encoding="utf-8") as output:
        writer = csv.writer(output, lineterminator="\r\n")
        writer.writerow(header)
        copy = 0
        while written < rows:
            for row in seed_rows[: rows - written]:
                writer.writerow([*row[:title], f"{row[title]} #{copy}", *row[title + 1 :]])
            written = min(rows, written + len(seed_rows))
            copy += 1
    return written


def run(tmp_dir, rows: int = 200_000) -> dict:
    """Rows/s of the Glue job on a seed-shaped file, and its time relative to a plain CSV->Parquet copy."""
    sys.path.insert(0, str(REPO / "include" / "glue"))
    from movies_quality.job import JobSettings, run_job
    from pyspark.sql import SparkSession

    tmp_dir = Path(tmp_dir)
    source = tmp_dir / "movies.csv"
    build_input(source, rows)
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")

    def job(uri: str, output: str) -> dict:
        return run_job(spark, JobSettings([uri], [uri], (tmp_dir / output).as_uri(), "bench"))

    job(SEED.as_uri(), "warm_up")  # JVM class loading and code generation, not measured
    started = time.perf_counter()
    spark.read.option("header", True).csv(source.as_uri()).write.mode("overwrite").parquet(
        (tmp_dir / "reference").as_uri()
    )
    reference_seconds = time.perf_counter() - started
    started = time.perf_counter()
    summary = job(source.as_uri(), "job")
    job_seconds = time.perf_counter() - started
    return {
        "rows": summary["rows_in"],
        "rows_valid": summary["rows_valid"],
        "job_seconds": round(job_seconds, 2),
        "rows_per_second": round(summary["rows_in"] / job_seconds),
        "reference": "spark.read.csv(header) -> parquet on the same file",
        "reference_seconds": round(reference_seconds, 2),
        "ratio_to_reference": round(job_seconds / reference_seconds, 2),
    }
