"""The Glue entry script run as other tools run it: a subprocess on the seed file, plain PySpark."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.processed_contract import PROCESSED_SCHEMA

REPO = Path(__file__).resolve().parents[2]
ENTRY = REPO / "include" / "glue" / "movies_quality_ingestion.py"
SEED = REPO / "data" / "imdb_movies_rating.csv"



def run_entry(*arguments: str) -> subprocess.CompletedProcess:
    """The entry script in a clean environment (no PYTHONPATH), from the repository root."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, str(ENTRY), *arguments],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    """One run on the seed file plus an empty file in the same batch; its outputs."""
    folder = tmp_path_factory.mktemp("glue_cli")
    empty = folder / "empty.csv"
    empty.write_bytes(b"")
    output = folder / "out"
    manifest = folder / "input_manifest.json"
    manifest.write_text(json.dumps({"inputs": [{"uri": path.as_uri(), "source_object": path.as_uri()}
                                               for path in (SEED, empty)]}))
    completed = run_entry(
        "--JOB_NAME", "local",
        "--input_manifest", manifest.as_uri(),
        "--output_uri", output.as_uri(),
        "--batch_id", "20261125T203000Z-seed",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads((output / "summary.json").read_text())
    table = pq.read_table(output / "processed")
    quarantine = [
        json.loads(line)
        for part in sorted((output / "quarantine").glob("part-*"))
        for line in part.read_text().splitlines()
    ]
    return summary, table, quarantine


pytestmark = pytest.mark.spark


def test_seed_counts_and_quality_rule(seed_run):
    summary, table, quarantine = seed_run
    assert (summary["rows_in"], summary["rows_valid"], summary["rows_quarantined"]) == (1000, 999, 1)
    assert summary["reasons"] == {"invalid_year": 1}
    assert summary["quality_rule"] == {
        "rule": "imdb_rating present and strictly between 8.0 and 10.3",
        "min_exclusive": 8.0,
        "max_exclusive": 10.3,
        "rows_passed": 322,
        "rows_failed": 677,
    }
    assert table.num_rows == 999 and len(quarantine) == 1
    assert sum(table.column("is_quality_movie").to_pylist()) == 322


def test_summary_reconciles_per_file_and_lists_the_rejected_file(seed_run):
    summary, _, _ = seed_run
    seed_entry, empty_entry = summary["files"]
    assert seed_entry == {
        "source_object": SEED.as_uri(),
        "status": "processed",
        "error": None,
        "rows_in": 1000,
        "rows_valid": 999,
        "rows_quarantined": 1,
    }
    assert empty_entry["status"] == "rejected" and "file is empty" in empty_entry["error"]
    assert empty_entry["rows_in"] == 0


def test_apollo_13_quarantined_for_its_year(seed_run):
    _, _, [apollo] = seed_run
    assert apollo["reasons"] == ["invalid_year"]
    assert apollo["raw"]["Series_Title"] == "Apollo 13" and apollo["raw"]["Released_Year"] == "PG"
    assert apollo["line_number"] == 968 and apollo["source_object"] == SEED.as_uri()
    assert apollo["batch_id"] == "20261125T203000Z-seed"


def test_processed_schema_and_typed_values(seed_run):
    _, table, _ = seed_run
    assert [(field.name, field.type) for field in table.schema] == [
        (field.name, field.type) for field in PROCESSED_SCHEMA
    ]
    rows = {row["series_title"] + f" ({row['released_year']})": row for row in table.to_pylist()}
    shawshank = rows["The Shawshank Redemption (1994)"]
    assert (shawshank["runtime_minutes"], shawshank["gross_usd"], shawshank["imdb_rating"]) == (
        142,
        28341469,
        Decimal("9.3"),
    )
    assert shawshank["source_line"] == 2 and shawshank["is_quality_movie"]
    assert rows["The Godfather (1972)"]["genres"] == "Crime,Drama"
    assert rows["Drishyam (2013)"]["movie_id"] != rows["Drishyam (2015)"]["movie_id"]
    assert len(set(table.column("movie_id").to_pylist())) == 999
    assert sorted(table.column("source_line").to_pylist()) == [line for line in range(2, 1002) if line != 968]


def test_bad_arguments_exit_with_a_clear_error():
    completed = run_entry(
        "--JOB_NAME", "local", "--input_manifest", SEED.as_uri(), "--output_uri", "file:///tmp/x", "--batch_id", "a b"
    )  # fmt: skip
    assert completed.returncode != 0
    assert "--batch_id 'a b' does not match" in completed.stderr
