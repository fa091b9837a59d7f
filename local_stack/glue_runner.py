"""Executes emulated Glue job runs for real: the job's script on local PySpark, S3 staged to disk.

A run is staged under `<runs dir>/<run id>/`: `script/`, `libs/` (the `--extra-py-files`),
`input/<bucket>/<key>` (each object of the `--input_manifest`, which is rewritten to
`input_manifest.json` naming the staged files), `output/` (uploaded back to the run's
`--output_uri` afterwards) and `run.log`, which is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# Spark's own log lines and shutdown chatter: never the reason a run failed.
_NOISE = re.compile(r"^(\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} (INFO|WARN|DEBUG)|Setting default log level|"
                    r"To adjust logging level|\s*$)")
_MAX_ERROR_CHARS = 2000
# Glue's special parameters configure the service, not the script: Glue consumes them (a script's
# getResolvedOptions never sees them asked for), so a local script's strict argparse must not get them.
_GLUE_SERVICE_PARAMETERS = {
    "--additional-python-modules", "--class", "--conf", "--continuous-log-conversionPattern",
    "--continuous-log-logGroup", "--continuous-log-logStreamPrefix", "--customer-driver-env-vars",
    "--customer-executor-env-vars", "--datalake-formats", "--executor-cores", "--extra-files",
    "--extra-jars", "--extra-py-files", "--job-bookmark-option", "--job-language",
    "--python-modules-installer-option", "--scriptLocation", "--spark-event-logs-path", "--TempDir",
    "--user-jars-first",
}


@dataclass
class RunRequest:
    """What a StartJobRun asked for, with the job's defaults already merged into `arguments`."""

    run_id: str
    job_name: str
    script_location: str
    arguments: dict[str, str] = field(default_factory=dict)


@dataclass
class RunResult:
    succeeded: bool
    error_message: str | None
    log_path: Path
    # (epoch milliseconds, line) of the script's stdout and stderr: Glue's output and error logs.
    output_lines: list[tuple[int, str]] = field(default_factory=list)
    error_lines: list[tuple[int, str]] = field(default_factory=list)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); anything else raises naming the URI.

    Split by hand, not urlparse: a key is data, and `?` or `#` in it is no query or fragment.
    """
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    return bucket, key


def execute_run(request: RunRequest, runs_dir: Path, s3_client, python: str = sys.executable,
                script_sha256: str | None = None) -> RunResult:
    """Stage, run and publish one Glue job run; never raises for a failing job, reports it instead.

    With `script_sha256`, the script object must have exactly that content, or the run fails unrun.
    """
    run_dir = runs_dir / request.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "run.log"
    result = RunResult(False, None, log_path)
    with log_path.open("w") as log:
        try:
            command, pythonpath, output_uri = _stage(request, run_dir, s3_client, script_sha256)
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            environment = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath),
                           "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python}
            exit_code = _run_script([python, *command], run_dir, environment, log, result)
        except Exception as error:  # staging problems are the run's failure, reported like AWS would
            message = f"Glue runner error: {type(error).__name__}: {error}"
            log.write(f"\n{message}\n")
            result.error_lines.append((_now_ms(), message))
            result.error_message = f"{type(error).__name__}: {error}"
            return result
    if exit_code != 0:
        result.error_message = error_summary(log_path.read_text(errors="replace"), exit_code, log_path)
        return result
    if output_uri:
        _upload_tree(run_dir / "output", output_uri, s3_client)
    result.succeeded = True
    return result


def _now_ms() -> int:
    return int(time.time() * 1000)


def _run_script(command: list[str], run_dir: Path, environment: dict, log, result: RunResult) -> int:
    """Runs the script; run.log gets both streams interleaved, result gets each stream's lines."""
    process = subprocess.Popen(command, cwd=run_dir, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    lock = threading.Lock()

    def pump(stream, lines: list[tuple[int, str]]) -> None:
        for line in stream:
            with lock:
                log.write(line)
                log.flush()
            lines.append((_now_ms(), line.rstrip("\n")))

    pumps = [threading.Thread(target=pump, args=(process.stdout, result.output_lines)),
             threading.Thread(target=pump, args=(process.stderr, result.error_lines))]
    for thread in pumps:
        thread.start()
    for thread in pumps:
        thread.join()
    return process.wait()


def _stage(request: RunRequest, run_dir: Path, s3_client,
           script_sha256: str | None) -> tuple[list[str], list[str], str | None]:
    """Download script, libraries and inputs; return the script's command line, PYTHONPATH, S3 output."""
    arguments = dict(request.arguments)
    script = _download(request.script_location, run_dir / "script", s3_client)
    if script_sha256 and hashlib.sha256(script.read_bytes()).hexdigest() != script_sha256:
        raise ValueError(f"{request.script_location} differs from the registered job script: not run")
    pythonpath = [
        str(_download(uri, run_dir / "libs", s3_client))
        for uri in _split_list(arguments.pop("--extra-py-files", ""))
    ]
    output_uri = None
    if arguments.get("--input_manifest", "").startswith("s3://"):
        arguments["--input_manifest"] = _stage_manifest(arguments["--input_manifest"], run_dir, s3_client)
    if arguments.get("--output_uri", "").startswith("s3://"):
        output_uri = arguments["--output_uri"]
        arguments["--output_uri"] = (run_dir / "output").as_uri() + "/"
    arguments["--JOB_NAME"] = request.job_name
    command = [str(script)]
    for name, value in arguments.items():
        if name not in _GLUE_SERVICE_PARAMETERS and not name.startswith("--enable-"):
            command += [name, value]
    return command, pythonpath, output_uri


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _inside(directory: Path, uri: str, *parts: str) -> Path:
    """directory/parts; ValueError when a part taken from the S3 name would lead out of directory."""
    target = directory.joinpath(*parts)
    if ".." in Path(*parts).parts or not target.resolve().is_relative_to(directory.resolve()):
        raise ValueError(f"{uri}: its name would leave the run folder ({directory}); not staged")
    return target


def _download(uri: str, directory: Path, s3_client) -> Path:
    bucket, key = split_s3_uri(uri)
    target = _inside(directory, uri, key.rsplit("/", 1)[-1])
    target.parent.mkdir(parents=True, exist_ok=True)
    _get_object(s3_client, bucket, key, target, uri)
    return target


def _stage_manifest(uri: str, run_dir: Path, s3_client) -> str:
    """Stage every input the manifest lists; return the URI of a local manifest naming the staged files.

    Each entry keeps its source_object (the S3 name the outputs record) and its order.
    """
    manifest = json.loads(_download(uri, run_dir / "manifest", s3_client).read_text())
    staged = {"inputs": [{**entry, "uri": _stage_input(entry["uri"], run_dir / "input", s3_client)}
                         for entry in manifest["inputs"]]}
    local = run_dir / "input_manifest.json"
    local.write_text(json.dumps(staged, ensure_ascii=False))
    return local.as_uri()


def _stage_input(uri: str, directory: Path, s3_client) -> str:
    if not uri.startswith("s3://"):
        return uri
    bucket, key = split_s3_uri(uri)
    target = _inside(directory, uri, bucket, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    _get_object(s3_client, bucket, key, target, uri)
    # Not Path.as_uri(): Hadoop takes the URI's path literally, so `dt=...` must not become `dt%3D...`.
    return f"file://{target}"


def _get_object(s3_client, bucket: str, key: str, target: Path, uri: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3_client.download_file(bucket, key, str(target))
    except ClientError as error:
        raise FileNotFoundError(f"cannot read {uri}: {error}") from error


def _upload_tree(local_root: Path, output_uri: str, s3_client) -> None:
    """Upload what the job wrote; Hadoop's `.crc` side files stay behind as they do on S3."""
    bucket, prefix = split_s3_uri(output_uri)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    for path in sorted(local_root.rglob("*")):
        if path.is_file() and not path.name.endswith(".crc"):
            s3_client.upload_file(str(path), bucket, prefix + path.relative_to(local_root).as_posix())


def error_summary(log_text: str, exit_code: int, log_path: Path) -> str:
    """The failing run's error as Glue shows it: the exception that ended the script, not Spark noise."""
    lines = log_text.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if starts:
        # The exception lines follow the indented frames of the last traceback.
        tail = lines[starts[-1] + 1:]
        message_lines = []
        for line in tail:
            if message_lines and _NOISE.match(line):
                break
            if not line.startswith(" ") and line.strip():
                message_lines.append(line.rstrip())
        message = "\n".join(message_lines)
    else:
        meaningful = [line.rstrip() for line in lines if not _NOISE.match(line)]
        message = "\n".join(meaningful[-3:])
    message = message or f"the job script exited with code {exit_code}"
    if len(message) > _MAX_ERROR_CHARS:
        message = message[:_MAX_ERROR_CHARS] + " ..."
    return f"{message} (exit code {exit_code}; log: {log_path})"
