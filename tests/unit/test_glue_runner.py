"""The local Glue runner's staging: what a run's S3 names may and may not do on local disk."""

import json
from pathlib import Path

import pytest

from local_stack.glue_runner import RunRequest, execute_run


class FakeS3:
    """download_file over a dict of (bucket, key) -> bytes, as boto3's client writes files."""

    def __init__(self, objects: dict[tuple[str, str], bytes]):
        self.objects = objects

    def download_file(self, bucket: str, key: str, filename: str) -> None:
        Path(filename).write_bytes(self.objects[(bucket, key)])


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/raw/../../../../escaped.csv",  # a key climbing out of input/<bucket>/
        "s3://../escaped.csv",  # a "bucket" climbing out of input/
    ],
)
def test_an_input_name_with_dot_dot_cannot_write_outside_the_run_folder(tmp_path, uri):
    runs_dir = tmp_path / "runs"
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    manifest = json.dumps({"inputs": [{"uri": uri, "source_object": uri}]}).encode()
    s3 = FakeS3({("scripts", "job.py"): b"print('ran')\n", (bucket, key): b"a,b\n", ("out", "m.json"): manifest})

    result = execute_run(
        RunRequest("jr_1", "job", "s3://scripts/job.py", {"--input_manifest": "s3://out/m.json"}), runs_dir, s3
    )

    outside = [path for path in tmp_path.rglob("*") if path.is_file() and not path.is_relative_to(runs_dir / "jr_1")]
    assert outside == []
    assert not result.succeeded
    assert "leave the run folder" in result.error_message and uri in result.error_message


def test_a_script_key_ending_in_dot_dot_is_refused(tmp_path):
    s3 = FakeS3({("scripts", "x/.."): b"print('ran')\n"})

    result = execute_run(RunRequest("jr_2", "job", "s3://scripts/x/..", {}), tmp_path / "runs", s3)

    assert not result.succeeded and "leave the run folder" in result.error_message
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == ["run.log"]


def test_inputs_are_staged_from_the_manifest_keeping_names_order_and_suffix(tmp_path):
    keys = ["raw/b, *[x]{y}?.csv", "raw/a é.csv.gz"]
    manifest = {"inputs": [{"uri": f"s3://data/{key}", "source_object": f"s3://data/{key}"} for key in keys]}
    script = b"import sys; print(open(sys.argv[sys.argv.index('--input_manifest') + 1][7:]).read())\n"
    s3 = FakeS3({("scripts", "job.py"): script, ("data", "out/m.json"): json.dumps(manifest).encode(),
                 **{("data", key): key.encode() for key in keys}})

    result = execute_run(
        RunRequest("jr_3", "job", "s3://scripts/job.py", {"--input_manifest": "s3://data/out/m.json"}),
        tmp_path / "runs", s3,
    )

    assert result.succeeded, result.error_message
    staged = json.loads(result.output_lines[0][1])["inputs"]
    assert [entry["source_object"] for entry in staged] == [f"s3://data/{key}" for key in keys]
    for entry, key in zip(staged, keys, strict=True):
        path = Path(entry["uri"].removeprefix("file://"))
        assert path.name == key.rsplit("/", 1)[1] and path.read_bytes() == key.encode()
