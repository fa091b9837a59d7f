"""The whole Glue job over files on local disk: rejection, reconciliation, line numbers, re-runs."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from movies_quality.columns import PROCESSED_COLUMNS, SOURCE_COLUMNS
from movies_quality.job import JobSettings, run_job

from tests.unit.glue.movie_rows import csv_text, movie

pytestmark = pytest.mark.spark

INGESTED_AT = datetime(2026, 11, 25, 20, 30, tzinfo=UTC)


def read_outputs(output: Path) -> tuple[dict, list[dict], list[dict]]:
    """summary.json, processed rows (pyarrow) and quarantine lines (json), read without Spark."""
    summary = json.loads((output / "summary.json").read_text())
    processed = pq.read_table(output / "processed").to_pylist()
    quarantine = [
        json.loads(line)
        for part in sorted((output / "quarantine").glob("part-*"))
        for line in part.read_text().splitlines()
    ]
    return summary, processed, quarantine


def run(spark, paths: list[Path], output: Path, batch_id: str = "B1") -> tuple[dict, list[dict], list[dict]]:
    settings = JobSettings(
        input_uris=[path.as_uri() for path in paths],
        source_objects=[f"s3://bucket/raw/{path.name}" for path in paths],
        output_uri=output.as_uri(),
        batch_id=batch_id,
    )
    run_job(spark, settings, ingested_at=INGESTED_AT)
    return read_outputs(output)


@pytest.fixture(scope="module")
def batch(spark, tmp_path_factory):
    """A batch of five files: two loadable ones and three rejected whole."""
    folder = tmp_path_factory.mktemp("batch")
    seed_like = folder / "a.csv"
    seed_like.write_bytes(
        b"\xef\xbb\xbf"
        + csv_text(
            [
                movie(),
                movie(Series_Title='The "Great" Escape, Part 2', Released_Year="1963", IMDB_Rating="8.2"),
                movie(Series_Title="Apollo 13", Released_Year="PG", IMDB_Rating="7.6"),
                movie(Series_Title="Drishyam", Released_Year="2013", IMDB_Rating="8.2", Gross="2,83,41,469"),
            ]
        ).encode()
    )
    lower_lf = folder / "b.csv"
    header = [name.lower() for name in reversed(SOURCE_COLUMNS)]
    rows = [
        movie(Series_Title="Drishyam", Released_Year="2015", IMDB_Rating="8.2"),
        movie(),  # the same movie as a.csv line 2: a duplicate within the batch, and the later one
        movie(Series_Title="Heat", Released_Year="1995", No_of_Votes=""),
    ]
    lines = [",".join(header)] + [
        ",".join(f'"{row[name].replace(chr(34), chr(34) * 2)}"' for name in reversed(SOURCE_COLUMNS)) for row in rows
    ]
    lower_lf.write_text("\n".join(lines) + "\n")
    missing_column = folder / "c.csv"
    missing_column.write_text(csv_text([movie()]).replace(",Gross\r\n", "\r\n", 1))
    empty = folder / "d.csv"
    empty.write_bytes(b"")
    binary = folder / "e.csv"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    paths = [seed_like, lower_lf, missing_column, empty, binary]
    return run(spark, paths, folder / "out")


def test_summary_reconciles_per_file(batch):
    summary, processed, quarantine = batch
    assert summary["rows_in"] == 7 == summary["rows_valid"] + summary["rows_quarantined"]
    assert (summary["rows_valid"], summary["rows_quarantined"]) == (len(processed), len(quarantine)) == (4, 3)
    assert summary["reasons"] == {"invalid_year": 1, "duplicate_key": 1, "missing_votes": 1}
    by_file = {entry["source_object"].rsplit("/", 1)[1]: entry for entry in summary["files"]}
    # a.csv: Apollo 13 (invalid year) and the earlier copy of the duplicate; b.csv: Heat (no votes).
    assert [by_file["a.csv"][key] for key in ("status", "rows_in", "rows_valid", "rows_quarantined")] == [
        "processed",
        4,
        2,
        2,
    ]
    assert [by_file["b.csv"][key] for key in ("status", "rows_in", "rows_valid", "rows_quarantined")] == [
        "processed",
        3,
        2,
        1,
    ]
    assert summary["quality_rule"]["rows_passed"] + summary["quality_rule"]["rows_failed"] == 4


def test_bad_files_are_rejected_whole_with_the_reason(batch):
    summary, _, _ = batch
    by_file = {entry["source_object"].rsplit("/", 1)[1]: entry for entry in summary["files"]}
    for name, reason in [("c.csv", "lacks required columns: Gross"), ("d.csv", "empty"), ("e.csv", "binary")]:
        entry = by_file[name]
        assert entry["status"] == "rejected"
        assert entry["error"].startswith(f"s3://bucket/raw/{name}: ") and reason in entry["error"]
        assert (entry["rows_in"], entry["rows_valid"], entry["rows_quarantined"]) == (0, 0, 0)


def test_processed_rows_carry_schema_source_and_line(batch):
    _, processed, _ = batch
    assert list(processed[0]) == list(PROCESSED_COLUMNS)
    by_title = {(row["series_title"], row["released_year"]): row for row in processed}
    escape = by_title[('The "Great" Escape, Part 2', 1963)]
    assert (escape["source_object"], escape["source_line"]) == ("s3://bucket/raw/a.csv", 3)
    assert by_title[("Drishyam", 2013)]["gross_usd"] == 28341469
    assert by_title[("Drishyam", 2015)]["source_line"] == 2
    assert by_title[("Drishyam", 2013)]["movie_id"] != by_title[("Drishyam", 2015)]["movie_id"]
    assert {row["batch_id"] for row in processed} == {"B1"}
    assert processed[0]["ingested_at"] == INGESTED_AT


def test_quarantine_lines_hold_raw_values_source_line_and_reasons(batch):
    _, _, quarantine = batch
    by_line = {(row["source_object"].rsplit("/", 1)[1], row["line_number"]): row for row in quarantine}
    apollo = by_line[("a.csv", 4)]
    assert apollo["reasons"] == ["invalid_year"] and apollo["raw"]["Released_Year"] == "PG"
    assert list(apollo["raw"]) == list(SOURCE_COLUMNS)
    # The latest row wins, as in the warehouse merge: the batch's last file (b.csv), so a.csv's goes.
    duplicate = by_line[("a.csv", 2)]
    assert duplicate["reasons"] == ["duplicate_key"] and "line 3 of s3://bucket/raw/b.csv" in duplicate["errors"][0]
    heat = by_line[("b.csv", 4)]
    assert heat["reasons"] == ["missing_votes"] and heat["raw"]["no_of_votes"] is None
    assert {row["batch_id"] for row in quarantine} == {"B1"}


def test_rerun_of_a_batch_replaces_its_outputs(spark, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(csv_text([movie(), movie(Released_Year="PG")]))
    first = run(spark, [path], tmp_path / "out")
    second = run(spark, [path], tmp_path / "out")
    assert first == second
    assert (len(second[1]), len(second[2])) == (1, 1)


def test_line_numbers_across_many_splits_of_a_file(spark, tmp_path):
    count = 400
    path = tmp_path / "big.csv"
    path.write_text(
        csv_text([movie(Series_Title=f"Film {line}", Released_Year="2000") for line in range(2, count + 2)])
    )
    spark.conf.set("spark.sql.files.maxPartitionBytes", "4096")
    try:
        summary, processed, _ = run(spark, [path], tmp_path / "out")
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert summary["rows_in"] == summary["rows_valid"] == count
    assert all(row["series_title"] == f"Film {row['source_line']}" for row in processed)


def test_batch_of_rejected_files_only_still_writes_every_output(spark, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    summary, processed, quarantine = run(spark, [path], tmp_path / "out")
    assert (summary["rows_in"], processed, quarantine) == (0, [], [])
    assert summary["files"][0]["status"] == "rejected"
    assert pq.read_schema(next((tmp_path / "out" / "processed").glob("*.parquet"))).names == list(PROCESSED_COLUMNS)
