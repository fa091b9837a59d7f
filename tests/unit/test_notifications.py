"""Notification texts carry what an on-call engineer needs: counts, reasons, verdicts, where to look."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

from imdb_pipeline.glue_package import build_zip
from imdb_pipeline.notifications import gate_summary, nothing_valid_message, skipped_message, success_message

SUMMARY = {
    "batch_id": "B1",
    "rows_in": 1002,
    "rows_valid": 999,
    "rows_quarantined": 1,
    "reasons": {"invalid_year": 1},
    "files": [
        {"source_object": "s3://b/raw/a.csv", "status": "processed", "error": None,
         "rows_in": 1000, "rows_valid": 999, "rows_quarantined": 1},
        {"source_object": "s3://b/raw/bad.csv", "status": "rejected", "error": "missing columns: Gross",
         "rows_in": 0, "rows_valid": 0, "rows_quarantined": 0},
    ],
    "quality_rule": {"rule": "imdb_rating strictly between 8.0 and 10.3", "rows_passed": 322, "rows_failed": 677},
}
GATE = [
    {"contract": "imdb_movies_staging", "name": "has rows", "message": "1000 rows", "outcome": "pass"},
    {"contract": "imdb_movies_staging", "name": "gross_usd mostly present", "message": "25% missing",
     "outcome": "warn"},
]


# The ledger's figures of SUMMARY's batch after its merge (batch_figures.batch_figures).
FIGURES = {"files": 2, "files_loaded": 1, "rows_in": 1000, "rows_loaded": 999, "rows_quarantined": 1}


def test_success_message_summarises_the_batch():
    subject, body = success_message(SUMMARY, GATE, FIGURES, batch_id="B1", run_url="http://airflow/run")
    assert subject.endswith("OK: batch B1")
    assert "Rows in: 1000, loaded: 999, quarantined: 1." in body
    assert "Files loaded: 1 of 2" in body
    assert "invalid_year: 1" in body
    assert "322 passed, 677 failed" in body
    assert "s3://b/raw/bad.csv: rejected: missing columns: Gross" in body
    assert "s3://b/raw/a.csv: 1000 in, 999 valid, 1 quarantined" in body
    assert "http://airflow/run" in body


def test_what_loaded_comes_from_the_ledger_not_from_the_glue_summary():
    # Another batch loaded a.csv meanwhile: the merge skipped it, this batch loaded nothing.
    nothing = {**FIGURES, "files_loaded": 0, "rows_loaded": 0}
    subject, body = success_message(SUMMARY, GATE, nothing, batch_id="B1", run_url="http://airflow/run")
    assert subject.endswith("SKIPPED: batch B1") and "OK" not in subject
    assert "loaded nothing" in body and "Batch B1 loaded." not in body
    assert "http://airflow/run" in body


def test_gate_summary_names_checks_that_did_not_pass():
    text = gate_summary([*GATE, {"contract": "c", "name": "movie_id is unique", "message": "2 duplicates",
                                 "outcome": "fail"}])
    assert text.splitlines()[0] == "Quality gate: 1 passed, 1 warned, 1 failed."
    assert "FAIL c: movie_id is unique: 2 duplicates" in text
    assert "WARN imdb_movies_staging: gross_usd mostly present: 25% missing" in text
    assert "has rows" not in text


def test_skipped_message_lists_the_skipped_objects():
    subject, body = skipped_message(["s3://b/raw/a.csv"], run_id="r1", run_url="u")
    assert "SKIPPED" in subject
    assert "s3://b/raw/a.csv" in body


def test_glue_package_zip_is_reproducible_and_importable_layout(tmp_path: Path):
    package = tmp_path / "movies_quality"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "rules.py").write_text("X = 1\n")
    (package / "notes.txt").write_text("not code")
    first = build_zip(package)
    (package / "sub" / "rules.py").touch()
    assert build_zip(package) == first
    names = zipfile.ZipFile(BytesIO(first)).namelist()
    assert names == ["movies_quality/__init__.py", "movies_quality/sub/rules.py"]


def test_nothing_valid_message_names_rejected_files_and_reasons():
    summary = {**SUMMARY, "rows_valid": 0, "reasons": {"invalid_year": 3}}
    text = nothing_valid_message(summary)
    assert "no valid row" in text
    assert "s3://b/raw/bad.csv: rejected: missing columns: Gross" in text
    assert "invalid_year: 3" in text
    assert "s3://b/raw/a.csv" not in text
