"""Arguments of the Glue entry script and its input manifest (no Spark: plain checks)."""

import json

import pytest
from movies_quality_ingestion import check_arguments, job_settings, resolve_arguments

REQUIRED = ["--JOB_NAME", "local", "--input_manifest", "file:///m.json", "--output_uri", "file:///out"]
KEYS = ["s3://b/raw/a,b.csv", "s3://b/raw/*[x]{y}?.csv"]
MANIFEST = json.dumps({"inputs": [{"uri": f"file:///in/{n}", "source_object": key} for n, key in enumerate(KEYS)]})


def arguments_of(*extra: str):
    return resolve_arguments(["entry.py", *REQUIRED, "--batch_id", "B-1", *extra])


def test_defaults_and_inputs_in_manifest_order():
    settings = job_settings(arguments_of(), MANIFEST)
    assert settings.input_uris == ["file:///in/0", "file:///in/1"]
    assert settings.source_objects == KEYS
    assert (settings.quality_min, settings.quality_max, settings.batch_id) == (8.0, 10.3, "B-1")
    assert settings.max_quarantine_share == 0.5


def test_optional_arguments():
    settings = job_settings(
        arguments_of("--quality_min", "7.5", "--quality_max", "9", "--max_quarantine_share", "0.2"), MANIFEST
    )
    assert (settings.quality_min, settings.quality_max, settings.max_quarantine_share) == (7.5, 9.0, 0.2)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--quality_min", "high"], "--quality_min 'high' is not a number"),
        (["--quality_min", "9", "--quality_max", "8"], "--quality_min 9.0 is not below --quality_max 8.0"),
        (["--max_quarantine_share", "1.5"], "--max_quarantine_share 1.5 is not from 0 to 1"),
    ],
)
def test_bad_arguments_are_named(extra, message):
    with pytest.raises(ValueError, match=message):
        check_arguments(arguments_of(*extra))


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("not json", "--input_manifest is not a list of inputs"),
        (json.dumps({"inputs": [{"uri": "file:///a"}]}), "--input_manifest is not a list of inputs"),
        (json.dumps({"inputs": []}), "--input_manifest names no file"),
        (json.dumps({"inputs": [{"uri": "", "source_object": "s3://b/k"}]}), "empty or non-text"),
    ],
)
def test_bad_manifests_are_named(manifest, message):
    with pytest.raises(ValueError, match=message):
        job_settings(arguments_of(), manifest)


def test_batch_id_pattern():
    with pytest.raises(ValueError, match="--batch_id 'a/b'"):
        check_arguments(resolve_arguments(["entry.py", *REQUIRED, "--batch_id", "a/b"]))
