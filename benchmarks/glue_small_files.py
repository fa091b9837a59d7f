"""Benchmark of the Glue job on many small files: 500 seed-shaped files of 20 rows against one file of
the same 10,000 rows. The plan must not grow per file (goal: at most 3x the one-file time)."""

import csv
import sys
import time
from pathlib import Path

from benchmarks.glue_job import REPO, build_input

FILES, ROWS_PER_FILE = 500, 20


def split_input(source: Path, folder: Path, files: int, rows_per_file: int) -> list[Path]:
    """The rows of `source` cut into `files` files of `rows_per_file` rows, each with the header."""
    folder.mkdir(parents=True, exist_ok=True)
    with source.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    paths = []
    for index in range(files):
        path = folder / f"part-{index:04d}.csv"
        with path.open("w", newline="", encoding="utf-8") as output:
            writer = csv.writer(output, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows[index * rows_per_file : (index + 1) * rows_per_file])
        paths.append(path)
    return paths


def run(tmp_dir) -> dict:
    """Seconds of the job on 500 small files and on one file of the same rows, their ratio and plan sizes."""
    sys.path.insert(0, str(REPO / "include" / "glue"))
    from movies_quality.headers import inspect_files
    from movies_quality.job import JobSettings, run_job
    from movies_quality.reading import parse_records, scan_lines
    from pyspark.sql import SparkSession

    tmp_dir = Path(tmp_dir)
    one_file = tmp_dir / "movies.csv"
    build_input(one_file, FILES * ROWS_PER_FILE)
    small_files = split_input(one_file, tmp_dir / "small", FILES, ROWS_PER_FILE)
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")

    def timed_job(paths: list[Path], output: str) -> tuple[float, dict]:
        uris = [path.as_uri() for path in paths]
        started = time.perf_counter()
        summary = run_job(spark, JobSettings(uris, uris, (tmp_dir / output).as_uri(), "bench"))
        return time.perf_counter() - started, summary

    def plan_characters(paths: list[Path]) -> int:
        uris = [path.as_uri() for path in paths]
        files = inspect_files(spark, uris, uris)
        return len(parse_records(scan_lines(spark, files), files)._jdf.queryExecution().optimizedPlan().toString())

    timed_job(small_files[:5], "warm_up")  # JVM class loading and code generation, not measured
    one_seconds, one_summary = timed_job([one_file], "one")
    many_seconds, many_summary = timed_job(small_files, "many")
    assert many_summary["rows_in"] == one_summary["rows_in"] == FILES * ROWS_PER_FILE
    return {
        "files": FILES,
        "rows_per_file": ROWS_PER_FILE,
        "many_files_seconds": round(many_seconds, 2),
        "reference": f"the same job on one file of {FILES * ROWS_PER_FILE} rows",
        "reference_seconds": round(one_seconds, 2),
        "ratio_to_reference": round(many_seconds / one_seconds, 2),
        "goal_ratio": 3,
        # The optimised plan's text for 1 file and for all: equal lengths up to the listed paths.
        "plan_characters_one_file": plan_characters(small_files[:1]),
        "plan_characters_all_files": plan_characters(small_files),
    }
