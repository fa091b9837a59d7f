"""Poison input on real Spark: every bad file or row ends rejected or quarantined, the rest loads."""

import gzip
from functools import reduce

import pytest
from movies_quality import reasons as R
from movies_quality.columns import SOURCE_COLUMNS
from movies_quality.headers import inspect_files
from movies_quality.job import JobSettings, run_job
from py4j.protocol import Py4JJavaError

from tests.unit.glue.movie_rows import csv_text, movie
from tests.unit.glue.test_job import INGESTED_AT, read_outputs

pytestmark = pytest.mark.spark

# Every Hadoop glob character, a comma and a space: the key is a name, never a pattern.
ODD_NAME = "odd *[x]{a,b}? name.csv"


def run(spark, paths, output, **settings):
    job = JobSettings(
        input_uris=[f"file://{path}" for path in paths],
        source_objects=[f"s3://bucket/raw/{path.name}" for path in paths],
        output_uri=output.as_uri(),
        batch_id="B1",
        **settings,
    )
    run_job(spark, job, ingested_at=INGESTED_AT)
    return read_outputs(output)


def titled(prefix: str, count: int, **changes):
    return [movie(Series_Title=f"{prefix} {line}", Released_Year="2000", **changes) for line in range(count)]


@pytest.fixture(scope="module")
def poisoned_batch(spark, tmp_path_factory):
    """One good file beside a CR-only, a gzip, an oddly named, a shifted and a too-long file."""
    folder = tmp_path_factory.mktemp("poison")
    good = folder / "good.csv"
    good.write_text(csv_text(titled("Good", 3)))
    cr_only = folder / "mac.csv"
    cr_only.write_text(csv_text(titled("Mac", 3), line_end="\r"))
    gzipped = folder / "packed.csv.gz"
    gzipped.write_bytes(gzip.compress(csv_text(titled("Packed", 2)).encode()))
    odd = folder / ODD_NAME
    odd.write_text(csv_text(titled("Odd", 2)))
    # Files whose names an unescaped glob of the odd key would match: they must not be read twice.
    (folder / "odd x.csv").write_text(csv_text(titled("Decoy", 5)))
    shifted = folder / "shifted.csv"
    # Released_Year and IMDB_Rating swapped in the header: only the first row happens to parse.
    header = [{"Released_Year": "IMDB_Rating", "IMDB_Rating": "Released_Year"}.get(n, n) for n in SOURCE_COLUMNS]
    rows = [movie(Series_Title="Lucky", Released_Year="9.0", IMDB_Rating="2000")]
    rows += [movie(Series_Title=f"Shifted {n}", Released_Year="1999", IMDB_Rating="8.5") for n in range(3)]
    body = csv_text(rows).split("\r\n", 1)[1]
    shifted.write_text(",".join(header) + "\r\n" + body)
    too_long = folder / "long.csv"
    too_long.write_text(
        csv_text([*titled("Long", 3), movie(Series_Title="Wordy", Released_Year="2001", Overview="é" * 2100)])
    )
    paths = [good, cr_only, gzipped, odd, shifted, too_long]
    return run(spark, paths, folder / "out")


def file_entry(summary, name):
    [entry] = [entry for entry in summary["files"] if entry["source_object"] == f"s3://bucket/raw/{name}"]
    return entry


def test_cr_only_file_loads_with_its_line_numbers(poisoned_batch):
    summary, processed, _ = poisoned_batch
    assert file_entry(summary, "mac.csv")["rows_valid"] == 3
    lines = {row["series_title"]: row["source_line"] for row in processed if row["series_title"].startswith("Mac")}
    assert lines == {"Mac 0": 2, "Mac 1": 3, "Mac 2": 4}


def test_gzip_file_loads(poisoned_batch):
    summary, processed, _ = poisoned_batch
    assert file_entry(summary, "packed.csv.gz") | {"error": None} == {
        "source_object": "s3://bucket/raw/packed.csv.gz", "status": "processed", "error": None,
        "rows_in": 2, "rows_valid": 2, "rows_quarantined": 0,
    }  # fmt: skip


def test_key_with_glob_characters_comma_and_space_is_read_exactly(poisoned_batch):
    summary, processed, _ = poisoned_batch
    assert file_entry(summary, ODD_NAME)["rows_valid"] == 2
    assert not [row for row in processed if row["series_title"].startswith("Decoy")]
    assert {row["source_object"] for row in processed if row["series_title"].startswith("Odd")} == {
        f"s3://bucket/raw/{ODD_NAME}"
    }


def test_multibyte_value_too_long_for_its_column_is_quarantined(poisoned_batch):
    summary, processed, quarantine = poisoned_batch
    [wordy] = [row for row in quarantine if row["raw"]["Series_Title"] == "Wordy"]
    assert wordy["reasons"] == [R.VALUE_TOO_LONG]
    assert "overview has 4200 bytes, over 4096" in wordy["errors"][0]
    assert file_entry(summary, "long.csv")["rows_valid"] == 3


def test_file_quarantining_most_rows_is_rejected_whole(poisoned_batch):
    summary, processed, quarantine = poisoned_batch
    entry = file_entry(summary, "shifted.csv")
    assert entry["status"] == "rejected"
    assert "3 of 4 rows would be quarantined (75%, more than the allowed 50%" in entry["error"]
    assert (entry["rows_in"], entry["rows_valid"], entry["rows_quarantined"]) == (0, 0, 0)
    assert not [row for row in processed if row["source_object"].endswith("shifted.csv")]
    assert not [row for row in quarantine if row["source_object"].endswith("shifted.csv")]


def test_summary_still_reconciles(poisoned_batch):
    summary, processed, quarantine = poisoned_batch
    assert summary["rows_valid"] == len(processed) == 3 + 3 + 2 + 2 + 3
    assert summary["rows_quarantined"] == len(quarantine) == 1
    assert summary["rows_in"] == sum(entry["rows_in"] for entry in summary["files"])


def test_share_threshold_is_a_setting(spark, tmp_path):
    path = tmp_path / "half.csv"
    path.write_text(csv_text([*titled("Fine", 1), movie(Series_Title="Bad", Released_Year="PG")]))
    summary, *_ = run(spark, [path], tmp_path / "loose")
    assert summary["files"][0]["status"] == "processed"
    summary, *_ = run(spark, [path], tmp_path / "strict", max_quarantine_share=0.4)
    assert summary["files"][0]["status"] == "rejected"


def test_duplicates_do_not_count_against_the_share(spark, tmp_path):
    first, again = tmp_path / "first.csv", tmp_path / "again.csv"
    first.write_text(csv_text(titled("Same", 2)))
    again.write_text(csv_text(titled("Same", 2)))
    summary, processed, quarantine = run(spark, [first, again], tmp_path / "out")
    assert [entry["status"] for entry in summary["files"]] == ["processed", "processed"]
    assert (len(processed), len(quarantine)) == (2, 2)


def test_missing_file_is_rejected(spark, tmp_path):
    [layout] = inspect_files(spark, [(tmp_path / "gone.csv").as_uri()], ["s3://bucket/raw/gone.csv"])
    assert "s3://bucket/raw/gone.csv: cannot be read: java.io.FileNotFoundException" in layout.error


@pytest.mark.parametrize(
    "java_class",
    ["java.net.SocketTimeoutException", "java.io.IOException", "org.apache.hadoop.fs.PathIOException"],
)
def test_transient_read_error_while_probing_fails_the_job(spark, tmp_path, monkeypatch, java_class):
    """Throttling, timeouts and 5xx reach the job as Java IOExceptions: a retry, never a verdict."""
    from movies_quality import headers

    path = tmp_path / "fine.csv"
    path.write_text(csv_text([movie()]))
    # Built from the JVM like the S3 client raises it (a named class with a message).
    java_exception = reduce(getattr, java_class.split("."), spark.sparkContext._jvm)("503 Slow Down")
    error = Py4JJavaError("read_probe", java_exception)

    def failing_probe(*_):
        raise error

    monkeypatch.setattr(headers, "read_probe", failing_probe)
    with pytest.raises(Py4JJavaError):
        headers.inspect_files(spark, [path.as_uri()], ["s3://bucket/raw/fine.csv"])

