"""`make bundle` and `make deploy` against the emulator: the AWS path (awscli's `cloudformation deploy`,
then the artifact upload) run end to end on a real moto server, with the endpoint overridden."""

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
STACK = "imdb-deploy-test"


def make(targets: list[str], emulator, bundle_dir: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint_url, "AWS_ACCESS_KEY_ID": "local-stack",
                   "AWS_SECRET_ACCESS_KEY": "local-stack"}
    parameters = "Deployment=local DataBucketName=imdb-deploy-data ArtifactsBucketName=imdb-deploy-artifacts"
    # `-o`: the tests run inside the .venv make built; a test must never rebuild it.
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", *targets, f"STACK={STACK}",
         f"REGION={emulator.region}", f"BUNDLE_DIR={bundle_dir}", f"PARAMETERS={parameters}"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=540,
    )


@pytest.mark.registry
def test_make_deploy_creates_the_stack_and_uploads_the_bundle(emulator, tmp_path):
    first = make(["deploy"], emulator, tmp_path / "mwaa")
    assert first.returncode == 0, first.stdout + first.stderr
    again = make(["deploy"], emulator, tmp_path / "mwaa")
    assert again.returncode == 0, again.stdout + again.stderr

    cloudformation, s3 = emulator.client("cloudformation"), emulator.client("s3")
    [stack] = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket="imdb-deploy-artifacts")["Contents"]}
    for expected in ("dags/imdb_quality_ingest.py", "dags/.airflowignore", "dags/constraints.txt",
                     "dags/imdb_pipeline/config.py", "dags/include/sql/movies/merge_imdb_movies.sql",
                     "plugins.zip", "requirements.txt", "startup.sh",
                     "glue/movies_quality_ingestion.py", "glue/movies_quality.zip"):
        assert expected in keys, expected
    assert not any("__pycache__" in key for key in keys)
    # The data bucket holds data only: nothing of the bundle lands there.
    assert "Contents" not in s3.list_objects_v2(Bucket="imdb-deploy-data")
    queue_url = emulator.client("sqs").get_queue_url(QueueName="imdb-raw-object-created")["QueueUrl"]
    assert queue_url.endswith("/imdb-raw-object-created")
