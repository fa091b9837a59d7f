"""Arguments of the Glue entry script (no Spark: the checks run before a session starts)."""

import pytest
from movies_quality_ingestion import job_settings, resolve_arguments

REQUIRED = ["--JOB_NAME", "local", "--input_uris", "file:///a.csv,file:///b.csv", "--output_uri", "file:///out"]


def settings_of(*extra: str):
    return job_settings(resolve_arguments(["entry.py", *REQUIRED, "--batch_id", "B-1", *extra]))


def test_defaults_and_source_objects_fall_back_to_inputs():
    settings = settings_of()
    assert settings.input_uris == settings.source_objects == ["file:///a.csv", "file:///b.csv"]
    assert (settings.quality_min, settings.quality_max, settings.batch_id) == (8.0, 10.3, "B-1")


def test_optional_arguments():
    settings = settings_of(
        "--quality_min", "7.5", "--quality_max", "9", "--source_uris", "s3://b/raw/a.csv,s3://b/raw/b.csv"
    )
    assert settings.source_objects == ["s3://b/raw/a.csv", "s3://b/raw/b.csv"]
    assert (settings.quality_min, settings.quality_max) == (7.5, 9.0)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--source_uris", "s3://b/raw/a.csv"], "--source_uris has 1 names for 2 --input_uris"),
        (["--quality_min", "high"], "--quality_min 'high' is not a number"),
        (["--quality_min", "9", "--quality_max", "8"], "--quality_min 9.0 is not below --quality_max 8.0"),
    ],
)
def test_bad_arguments_are_named(extra, message):
    with pytest.raises(ValueError, match=message):
        settings_of(*extra)


def test_batch_id_pattern():
    with pytest.raises(ValueError, match="--batch_id 'a/b'"):
        job_settings(resolve_arguments(["entry.py", *REQUIRED, "--batch_id", "a/b"]))
