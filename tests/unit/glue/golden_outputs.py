"""The job's outputs in a comparable form, and the golden copies they are compared with.

The golden files under `golden/` were written by the job as it was at commit 79cae01 (before the
performance work of issue 13), by:

    SPARK_LOCAL_IP=127.0.0.1 .venv/bin/python -m tests.unit.glue.golden_outputs

Processed rows are kept as one short digest per row (the seed's rows alone would be hundreds of
kilobytes); quarantine rows and summary.json are kept whole.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).resolve().parent / "golden"
SEED = REPO / "data" / "imdb_movies_rating.csv"
INGESTED_AT = datetime(2026, 11, 25, 20, 30, tzinfo=UTC)
# Small splits, so that lines are numbered across several splits of one file.
MAX_PARTITION_BYTES = 256 * 1024


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def canonical_outputs(output: Path) -> dict:
    """summary.json, a digest per processed row and the quarantine rows, in a stable order."""
    import pyarrow.parquet as pq

    processed = [
        {name: _plain(value) for name, value in row.items()}
        for row in pq.read_table(output / "processed").to_pylist()
    ]
    processed.sort(key=lambda row: (row["source_object"], row["source_line"]))
    quarantine = [
        json.loads(line)
        for part in sorted((output / "quarantine").glob("part-*"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    quarantine.sort(key=lambda row: (row["source_object"], row["line_number"]))
    return {
        "summary": json.loads((output / "summary.json").read_text(encoding="utf-8")),
        "processed_columns": pq.read_schema(next((output / "processed").glob("part-*"))).names,
        "processed": [
            f"{row['source_object'].rsplit('/', 1)[-1]}:{row['source_line']} "
            + hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]
            for row in processed
        ],
        "quarantine": quarantine,
    }


def run_case(spark, case: str, folder: Path) -> dict:
    """Runs the job on a case's inputs (`seed` or `every_kind`) and returns its canonical outputs."""
    from movies_quality.job import JobSettings, run_job

    from benchmarks.generate import write_every_kind

    inputs = [SEED] if case == "seed" else write_every_kind(folder)
    settings = JobSettings(
        input_uris=[path.as_uri() for path in inputs],
        source_objects=[f"s3://bucket/raw/{path.name}" for path in inputs],
        output_uri=(folder / "out").as_uri(),
        batch_id=f"golden-{case}".replace("_", "-"),
    )
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(MAX_PARTITION_BYTES))
    try:
        run_job(spark, settings, ingested_at=INGESTED_AT)
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    return canonical_outputs(folder / "out")


def golden(case: str) -> dict:
    return json.loads((GOLDEN / f"{case}.json").read_text(encoding="utf-8"))


def main() -> int:
    """Rewrites the golden files from the job as it is now (only ever from the reference commit)."""
    from pyspark.sql import SparkSession

    sys.path.insert(0, str(REPO / "include" / "glue"))
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    GOLDEN.mkdir(exist_ok=True)
    for case in ("seed", "every_kind"):
        with tempfile.TemporaryDirectory() as folder:
            outputs = run_case(spark, case, Path(folder))
        text = json.dumps(outputs, indent=1, ensure_ascii=False, sort_keys=True)
        (GOLDEN / f"{case}.json").write_text(text + "\n", encoding="utf-8")
        print(f"{case}: {len(outputs['processed'])} processed, {len(outputs['quarantine'])} quarantined")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
