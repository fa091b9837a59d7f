"""The AWS emulator as the stack runs it: a real moto server process, provisioned from infra/imdb-pipeline.yaml."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from local_stack import faults, glue_driver
from local_stack.glue_driver import READY_LINE
from local_stack.processes import group_alive, is_alive, wait_until
from local_stack.provision import provision_aws
from tests.fixtures.emulator import running_emulator
from tests.fixtures.processes import KERNEL_HAS_AUTOGROUPS, session_nice

pytestmark = pytest.mark.emulator

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "data" / "imdb_movies_rating.csv"
SEED_KEY = "raw/dt=2026-11-25/imdb_movies_rating.csv"
JVM_START = 'Setting default log level to "WARN"'
FINAL_STATES = {"SUCCEEDED", "FAILED", "STOPPED", "ERROR", "TIMEOUT"}


def wait_for_job_run(glue, job_name: str, run_id: str, timeout: float = 300) -> tuple[dict, set[str]]:
    """Poll GetJobRun until a final state; return the last description and every state seen."""
    seen = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        seen.add(run["JobRunState"])
        if run["JobRunState"] in FINAL_STATES:
            return run, seen
        time.sleep(0.5)
    raise AssertionError(f"job run {run_id} still {seen} after {timeout} s")


def receive_all(sqs, queue_url: str, wait_seconds: int = 2) -> list[dict]:
    messages = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=wait_seconds).get("Messages", []):
        messages += batch
    return messages


def test_provisioning_is_idempotent(emulator):
    first = provision_aws(emulator.endpoint_url, emulator.region)
    second = provision_aws(emulator.endpoint_url, emulator.region)

    assert second == first
    sns, events = emulator.client("sns"), emulator.client("events")
    assert len(sns.list_subscriptions_by_topic(TopicArn=first["notifications_topic_arn"])["Subscriptions"]) == 1
    assert len(events.list_targets_by_rule(Rule="imdb-raw-csv-created")["Targets"]) == 1
    job = emulator.client("glue").get_job(JobName=first["glue_job_name"])["Job"]
    assert job["Command"]["ScriptLocation"] == "s3://imdb-quality-artifacts-local/glue/movies_quality_ingestion.py"
    assert (job["GlueVersion"], job["Timeout"], job["ExecutionProperty"]["MaxConcurrentRuns"]) == ("5.0", 60, 2)
    assert job["DefaultArguments"]["--enable-continuous-cloudwatch-log"] == "true"
    assert emulator.client("iam").get_role(RoleName=first["glue_role_name"])["Role"]["Arn"] == first["glue_role_arn"]


def test_a_csv_in_the_raw_prefix_gives_exactly_one_queue_message(emulator):
    stack = provision_aws(emulator.endpoint_url, emulator.region)
    s3, sqs = emulator.client("s3"), emulator.client("sqs")
    bucket = stack["bucket"]

    s3.put_object(Bucket=bucket, Key="raw/movies.csv", Body=SEED.read_bytes())
    s3.put_object(Bucket=bucket, Key="raw/readme.txt", Body=b"not a csv")
    s3.put_object(Bucket=bucket, Key="elsewhere/movies.csv", Body=b"outside the raw prefix")

    messages = receive_all(sqs, stack["raw_events_queue_url"])
    assert len(messages) == 1
    event = json.loads(messages[0]["Body"])
    assert event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == bucket
    assert event["detail"]["object"]["key"] == "raw/movies.csv"
    # Field names as AWS sends them (moto alone says "eTag").
    assert event["detail"]["object"]["etag"] == s3.head_object(Bucket=bucket, Key="raw/movies.csv")["ETag"].strip('"')


def test_a_gzipped_csv_in_the_raw_prefix_is_queued_too(emulator):
    stack = provision_aws(emulator.endpoint_url, emulator.region)

    emulator.client("s3").put_object(Bucket=stack["bucket"], Key="raw/movies.csv.gz", Body=b"gzip bytes")

    [message] = receive_all(emulator.client("sqs"), stack["raw_events_queue_url"])
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "raw/movies.csv.gz"


def test_the_resources_come_from_the_template_including_those_moto_skips(emulator):
    stack = provision_aws(emulator.endpoint_url, emulator.region)
    cloudformation, sqs, glue = emulator.client("cloudformation"), emulator.client("sqs"), emulator.client("glue")

    [described] = cloudformation.describe_stacks(StackName="imdb-local")["Stacks"]
    parameters = {item["ParameterKey"]: item["ParameterValue"] for item in described["Parameters"]}
    assert (parameters["Deployment"], parameters["DataBucketName"]) == ("local", stack["bucket"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=stack["raw_events_queue_url"],
                                                 AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == stack["raw_csv_rule_arn"]
    table = glue.get_table(DatabaseName="imdb", Name="processed_movies")["Table"]
    assert [key["Name"] for key in table["PartitionKeys"]] == ["batch"]
    assert table["StorageDescriptor"]["Location"] == "s3://imdb-quality-local/processed/"
    view = glue.get_table(DatabaseName="imdb", Name="current_movies")["Table"]
    encoded = view["ViewOriginalText"].removeprefix("/* Presto View: ").removesuffix(" */")
    presto_view = json.loads(base64.b64decode(encoded))
    assert presto_view["schema"] == "imdb"
    assert [column["name"] for column in presto_view["columns"]] == [
        column["Name"] for column in view["StorageDescriptor"]["Columns"]]


def test_a_published_notification_reaches_the_observer_queue(emulator):
    stack = provision_aws(emulator.endpoint_url, emulator.region)

    emulator.client("sns").publish(TopicArn=stack["notifications_topic_arn"], Subject="batch loaded",
                                   Message="999 rows loaded")

    [message] = receive_all(emulator.client("sqs"), stack["notifications_observer_queue_url"])
    envelope = json.loads(message["Body"])
    assert (envelope["Subject"], envelope["Message"]) == ("batch loaded", "999 rows loaded")


def test_update_job_overwrites_the_definition(emulator):
    stack = provision_aws(emulator.endpoint_url, emulator.region)
    glue = emulator.client("glue")
    job = glue.get_job(JobName=stack["glue_job_name"])["Job"]

    glue.update_job(JobName=job["Name"], JobUpdate={"Role": job["Role"], "Command": job["Command"],
                                                    "NumberOfWorkers": 5, "WorkerType": "G.2X"})

    updated = glue.get_job(JobName=job["Name"])["Job"]
    assert (updated["NumberOfWorkers"], updated["WorkerType"]) == (5, "G.2X")
    assert updated.get("DefaultArguments", {}) == {}


def _create_job(emulator, name: str, script: bytes) -> None:
    s3, glue = emulator.client("s3"), emulator.client("glue")
    s3.create_bucket(Bucket="scripts")
    s3.put_object(Bucket="scripts", Key=f"{name}.py", Body=script)
    glue.create_job(Name=name, Role="any", Command={"Name": "glueetl", "ScriptLocation": f"s3://scripts/{name}.py"},
                    DefaultArguments={"--job-language": "python", "--enable-metrics": "true"})


def test_a_failing_script_reports_failed_with_its_error(emulator):
    failing = b"import sys\nprint('starting', sys.argv[1:])\nraise ValueError('line 7 of x.csv breaks rule R')\n"
    _create_job(emulator, "failing-job", failing)
    glue = emulator.client("glue")

    run_id = glue.start_job_run(JobName="failing-job", Arguments={"--batch_id": "B1"})["JobRunId"]
    run, _ = wait_for_job_run(glue, "failing-job", run_id, timeout=60)

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"].startswith("ValueError: line 7 of x.csv breaks rule R")
    log = (emulator.state_dir / "glue-runs" / run_id / "run.log").read_text()
    # Glue's service parameters are consumed, the job's own reach the script.
    assert "starting ['--batch_id', 'B1', '--JOB_NAME', 'failing-job']" in log


def test_a_job_with_a_script_the_stack_did_not_register_is_refused_not_run(emulator, tmp_path):
    marker = tmp_path / "intruder-ran"
    _create_job(emulator, "intruder-job", f"open({str(marker)!r}, 'w').write('ran')\n".encode())
    glue = emulator.client("glue")

    run_id = glue.start_job_run(JobName="intruder-job")["JobRunId"]
    run, _ = wait_for_job_run(glue, "intruder-job", run_id, timeout=60)

    assert run["JobRunState"] == "FAILED"
    assert "s3://scripts/intruder-job.py is not the registered job script" in run["ErrorMessage"]
    time.sleep(1)
    assert not marker.exists()


def test_a_registered_job_script_changed_in_s3_is_refused(emulator, tmp_path):
    stack = provision_aws(emulator.endpoint_url, emulator.region)
    glue, s3 = emulator.client("glue"), emulator.client("s3")
    script = glue.get_job(JobName=stack["glue_job_name"])["Job"]["Command"]["ScriptLocation"]
    marker = tmp_path / "replaced-script-ran"
    bucket, key = script.removeprefix("s3://").split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body=f"open({str(marker)!r}, 'w').write('ran')\n".encode())

    run_id = glue.start_job_run(JobName=stack["glue_job_name"], Arguments={"--batch_id": "B1"})["JobRunId"]
    run, _ = wait_for_job_run(glue, stack["glue_job_name"], run_id, timeout=60)

    assert run["JobRunState"] == "FAILED"
    assert "differs from the registered job script" in run["ErrorMessage"]
    assert not marker.exists()


def test_a_run_writes_its_driver_log_to_cloudwatch_where_the_glue_operator_reads_it(emulator):
    chatty = b"import sys\nprint('movies_quality: read 3 rows from s3://b/raw/a.csv')\n" \
             b"print('warned', file=sys.stderr)\n"
    _create_job(emulator, "chatty-job", chatty)
    glue, logs = emulator.client("glue"), emulator.client("logs")

    run_id = glue.start_job_run(JobName="chatty-job")["JobRunId"]
    run, _ = wait_for_job_run(glue, "chatty-job", run_id, timeout=60)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    # GlueJobOperator(verbose=True) reads <LogGroupName>/output and /error, stream = the run id.
    assert run["LogGroupName"] == "/aws-glue/jobs"
    output = logs.get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run_id)["events"]
    errors = logs.get_log_events(logGroupName="/aws-glue/jobs/error", logStreamName=run_id)["events"]
    assert "movies_quality: read 3 rows from s3://b/raw/a.csv" in [event["message"] for event in output]
    assert "warned" in [event["message"] for event in errors]


def test_a_missing_input_object_fails_the_run_naming_it(emulator):
    _create_job(emulator, "reader-job", b"print('never reached')\n")
    glue = emulator.client("glue")

    manifest = {"inputs": [{"uri": "s3://scripts/raw/absent.csv", "source_object": "s3://scripts/raw/absent.csv"}]}
    emulator.client("s3").put_object(Bucket="scripts", Key="m.json", Body=json.dumps(manifest).encode())
    run_id = glue.start_job_run(JobName="reader-job",
                                Arguments={"--input_manifest": "s3://scripts/m.json"})["JobRunId"]
    run, _ = wait_for_job_run(glue, "reader-job", run_id, timeout=60)

    assert run["JobRunState"] == "FAILED"
    assert "s3://scripts/raw/absent.csv" in run["ErrorMessage"]


def wait_for_ready_driver(warm_directory: Path, timeout: float = 180) -> Path:
    """The log of the driver warming now, once it is ready: the one that logged last (each run
    starts the next)."""
    deadline = time.monotonic() + timeout
    while True:
        log = max(warm_directory.glob("warm-up-*.log"), key=lambda path: path.stat().st_mtime)
        if READY_LINE in log.read_text():
            return log
        assert time.monotonic() < deadline, f"no warm driver became ready in {timeout} s"
        time.sleep(0.5)


def run_job_on_the_seed(emulator, stack: dict, batch_id: str) -> tuple[dict, str, str]:
    """A run of the stack's job over the seed (a partitioned key); its description, id and output prefix."""
    run_id, output_prefix = start_job_on_the_seed(emulator, stack, batch_id)
    run, seen = wait_for_job_run(emulator.client("glue"), stack["glue_job_name"], run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert "RUNNING" in seen
    return run, run_id, output_prefix


def start_job_on_the_seed(emulator, stack: dict, batch_id: str) -> tuple[str, str]:
    """Starts a run of the stack's job over the seed; its id and output prefix."""
    s3, glue = emulator.client("s3"), emulator.client("glue")
    bucket = stack["bucket"]
    # A partitioned key: `=` must reach Spark unescaped when the runner stages the object locally.
    source = f"s3://{bucket}/{SEED_KEY}"
    output_prefix = f"processed/batch_id={batch_id}/"
    s3.put_object(Bucket=bucket, Key=SEED_KEY, Body=SEED.read_bytes())
    manifest_key = output_prefix + "input_manifest.json"
    s3.put_object(Bucket=bucket, Key=manifest_key,
                  Body=json.dumps({"inputs": [{"uri": source, "source_object": source}]}).encode())

    run_id = glue.start_job_run(JobName=stack["glue_job_name"], Arguments={
        "--input_manifest": f"s3://{bucket}/{manifest_key}", "--output_uri": f"s3://{bucket}/{output_prefix}",
        "--batch_id": batch_id,
    })["JobRunId"]
    return run_id, output_prefix


@pytest.mark.spark
def test_a_glue_run_over_the_seed_file_writes_processed_quarantine_and_summary(emulator):
    stack = provision_aws(emulator.endpoint_url, emulator.region)
    assert len(stack["glue_assets_uploaded"]) == 2, "the Glue script and package must exist to run the job"
    s3, bucket, batch_id = emulator.client("s3"), stack["bucket"], "20261125T203000Z-seed"
    source = f"s3://{bucket}/{SEED_KEY}"

    _, run_id, output_prefix = run_job_on_the_seed(emulator, stack, batch_id)

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=output_prefix)["Contents"]]
    assert any(key.startswith(output_prefix + "processed/") and key.endswith(".parquet") for key in keys)
    assert any(key.startswith(output_prefix + "quarantine/") for key in keys)
    assert not any(key.endswith(".crc") for key in keys)
    summary = json.loads(s3.get_object(Bucket=bucket, Key=output_prefix + "summary.json")["Body"].read())
    assert summary["batch_id"] == batch_id
    assert summary["rows_in"] == 1000
    # Apollo 13's Released_Year is "PG".
    assert (summary["rows_valid"], summary["rows_quarantined"]) == (999, 1)
    assert [file["source_object"] for file in summary["files"]] == [source]
    output = emulator.client("logs").get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run_id)
    messages = "\n".join(event["message"] for event in output["events"])
    assert f"movies_quality: read 1000 rows from {source}: 999 valid, 1 quarantined" in messages


def _outputs(s3, bucket: str, output_prefix: str) -> dict:
    """A run's processed rows, quarantine rows and summary, without what differs by batch and time."""
    import pyarrow.parquet as pq

    def read(key: str) -> bytes:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=output_prefix)["Contents"]]
    processed = [row for key in keys if key.endswith(".parquet")
                 for row in pq.read_table(io.BytesIO(read(key))).drop(["batch_id", "ingested_at"]).to_pylist()]
    quarantine = [json.loads(line) for key in keys if "/quarantine/part-" in key for line in read(key).splitlines()]
    summary = json.loads(read(output_prefix + "summary.json"))
    return {"processed": sorted(processed, key=lambda row: row["source_line"]),
            "quarantine": sorted(({**row, "batch_id": None} for row in quarantine), key=lambda r: r["line_number"]),
            "summary": {**summary, "batch_id": None}}  # fmt: skip


@pytest.mark.spark
def test_a_run_on_a_warm_driver_writes_what_a_cold_run_writes(emulator):
    stack = provision_aws(emulator.endpoint_url, emulator.region)
    s3, bucket = emulator.client("s3"), stack["bucket"]
    warm_directory = emulator.state_dir / "glue-warm"

    def run_log(run_id: str) -> str:
        return (emulator.state_dir / "glue-runs" / run_id / "run.log").read_text()

    def on_warm_driver(run_id: str) -> bool:
        return "(on warm driver pid" in run_log(run_id)

    if not list(warm_directory.glob("warm-up-*.log")):
        run_job_on_the_seed(emulator, stack, "warm-test-first")  # the first driver warms up after a run
    wait_for_ready_driver(warm_directory)
    # Two runs at once (the job allows 2): one takes the ready driver, the other finds none and starts cold.
    started = [start_job_on_the_seed(emulator, stack, f"warm-test-{n}") for n in (1, 2)]
    for run_id, _ in started:
        run, _ = wait_for_job_run(emulator.client("glue"), stack["glue_job_name"], run_id)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    (warm_id, warm_prefix), (cold_id, cold_prefix) = sorted(started, key=lambda run: not on_warm_driver(run[0]))

    assert (on_warm_driver(warm_id), on_warm_driver(cold_id)) == (True, False)
    # Spark says this once per JVM it starts: the warm run's JVM had started already.
    assert [JVM_START in run_log(run_id) for run_id in (warm_id, cold_id)] == [False, True]
    cold, warm = _outputs(s3, bucket, cold_prefix), _outputs(s3, bucket, warm_prefix)
    assert len(cold["processed"]) == 999 and len(cold["quarantine"]) == 1
    assert warm == cold


@pytest.mark.spark
def test_a_warm_driver_yields_the_cpu_and_dies_with_its_emulator():
    # Outside pytest's basetemp (see tests/fixtures/emulator.py).
    state_dir = Path(tempfile.mkdtemp(prefix="imdb-test-emulator-kill-"))
    driver = None
    try:
        with running_emulator(state_dir) as (emulator, process):
            stack = provision_aws(emulator.endpoint_url, emulator.region)
            run_job_on_the_seed(emulator, stack, "warm-kill")  # a run's end starts the first warm-up
            warm_directory = state_dir / "glue-warm"
            wait_until(lambda: any(warm_directory.glob("warm-up-*.log")), 120, "a warm Glue driver", emulator.log_path)
            (warm_up_log,) = warm_directory.glob("warm-up-*.log")
            driver = int(warm_up_log.stem.removeprefix("warm-up-"))
            # Mid warm-up, its Spark JVM running: only the driver's own watch can end it now (the
            # warm-up would end it too, later, at its first write to the dead emulator's pipe).
            wait_until(lambda: any(Path(found.argv[0]).name == "java" for found in faults.process_tree(driver)), 120,
                       "the warm driver's Spark JVM", warm_up_log)  # fmt: skip
            tree = faults.process_tree(driver)
            driver_session_nice = session_nice(driver)

            # As `kill -9` of the emulator's process group from a terminal: the driver's session is outside it.
            os.killpg(process.pid, signal.SIGKILL)
            killed = time.monotonic()
            while is_alive(driver) and time.monotonic() < killed + 30:
                time.sleep(0.1)
            driver_seconds = time.monotonic() - killed
            # What it started (JVM, Python workers) is in its process group.
            while group_alive(driver) and time.monotonic() < killed + 30:
                time.sleep(0.2)
            group_left = group_alive(driver)
            ready = READY_LINE in warm_up_log.read_text()
    finally:
        if driver is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(driver, signal.SIGKILL)
        shutil.rmtree(state_dir, ignore_errors=True)

    assert tree[0].pgid == driver != process.pid  # a session (and group) of its own
    # Where the kernel shares CPU between sessions first, the driver's whole session runs niced.
    assert driver_session_nice == (str(glue_driver.NICENESS) if KERNEL_HAS_AUTOGROUPS else None)
    assert not ready, "killed after its warm-up: this test must kill it mid warm-up"
    assert driver_seconds < 3, f"the driver outlived its emulator by {driver_seconds:.1f} s"
    assert not group_left, "its JVM or Python workers still ran 30 s after the emulator was killed"


def test_an_input_over_the_multipart_size_is_staged_whole(emulator):
    # Prints the SHA-256 of each staged input, as the run's local manifest names it.
    reader = (b"import hashlib, json, sys\n"
              b"manifest = sys.argv[sys.argv.index('--input_manifest') + 1].removeprefix('file://')\n"
              b"for entry in json.load(open(manifest))['inputs']:\n"
              b"    staged = open(entry['uri'].removeprefix('file://'), 'rb').read()\n"
              b"    print('sha256', hashlib.sha256(staged).hexdigest())\n")
    _create_job(emulator, "reader-job", reader)
    s3, glue = emulator.client("s3"), emulator.client("glue")
    body = os.urandom(20 << 20)  # over boto3's 8 MB multipart threshold
    s3.put_object(Bucket="scripts", Key="raw/big.csv", Body=body)
    manifest = {"inputs": [{"uri": "s3://scripts/raw/big.csv", "source_object": "s3://scripts/raw/big.csv"}]}
    s3.put_object(Bucket="scripts", Key="m.json", Body=json.dumps(manifest).encode())

    run_id = glue.start_job_run(JobName="reader-job", Arguments={"--input_manifest": "s3://scripts/m.json"})["JobRunId"]
    run, _ = wait_for_job_run(glue, "reader-job", run_id, timeout=60)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    log = (emulator.state_dir / "glue-runs" / run_id / "run.log").read_text()
    assert f"sha256 {hashlib.sha256(body).hexdigest()}" in log
