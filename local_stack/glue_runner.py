"""Executes emulated Glue job runs for real: the job's script on local PySpark, S3 staged to disk.

A run is staged under `<runs dir>/<run id>/`: `script/`, `libs/` (the `--extra-py-files`),
`input/<bucket>/<key>` (each object of the `--input_manifest`, which is rewritten to
`input_manifest.json` naming the staged files), `output/` (uploaded back to the run's
`--output_uri` afterwards) and `run.log`, which is kept.

Runs of the stack's registered job script go to a warm driver when one is ready (WarmDrivers): a
process that has already run the job once on the sample file, so its Spark JVM is started and its
code compiled. It serves one run and exits like a cold `python script` run would; a fresh one warms
up after each run. Any other run, or one arriving before a driver is ready, starts cold.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from local_stack import glue_driver

# Spark's own log lines and shutdown chatter: never the reason a run failed.
_NOISE = re.compile(r"^(\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} (INFO|WARN|DEBUG)|Setting default log level|"
                    r"To adjust logging level|\s*$)")
_MAX_ERROR_CHARS = 2000
# How long a run waits for a driver still warming up; a warm-up takes 20-45 s on 2 cores (a cold run
# about as long), so a longer one is stuck and the run goes cold.
WARM_UP_WAIT_SECONDS = 90
# Objects the runner stages are fetched in one GET up to this size: all of them (see _get_object).
ONE_GET_BYTES = 1 << 62
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
                script_sha256: str | None = None, warm_drivers: WarmDrivers | None = None) -> RunResult:
    """Stage, run and publish one Glue job run; never raises for a failing job, reports it instead.

    With `script_sha256`, the script object must have exactly that content, or the run fails unrun;
    such a run (the stack's own job) goes to the driver of `warm_drivers` (waiting for its warm-up to
    end, up to WARM_UP_WAIT_SECONDS), which then warms up the next one.
    """
    if warm_drivers is None or script_sha256 is None:
        return _execute(request, runs_dir, s3_client, python, script_sha256, None)
    driver = None
    try:
        driver = warm_drivers.take(WARM_UP_WAIT_SECONDS)
        return _execute(request, runs_dir, s3_client, python, script_sha256, driver)
    finally:
        if driver is not None:
            warm_drivers.release(driver)
        warm_drivers.replenish()


def _execute(request: RunRequest, runs_dir: Path, s3_client, python: str, script_sha256: str | None,
             driver: WarmDriver | None) -> RunResult:
    run_dir = runs_dir / request.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "run.log"
    result = RunResult(False, None, log_path)
    with log_path.open("w") as log:
        try:
            command, pythonpath, output_uri = _stage(request, run_dir, s3_client, script_sha256)
            if driver is None:
                log.write(f"$ {' '.join(command)}\n")
                log.flush()
                environment = {**_driver_environment(python), "PYTHONPATH": os.pathsep.join(pythonpath)}
                exit_code = _run_script([python, *command], run_dir, environment, log, result)
            else:
                log.write(f"$ {' '.join(command)}  (on warm driver pid {driver.process.pid})\n")
                log.flush()
                exit_code = driver.run(command, run_dir, pythonpath, log, result)
        except Exception as error:  # staging problems are the run's failure, reported like AWS would
            message = f"Glue runner error: {type(error).__name__}: {error}"
            log.write(f"\n{message}\n")
            result.error_lines.append((_now_ms(), message))
            result.error_message = f"{type(error).__name__}: {error}"
            return result
    if exit_code != 0:
        result.error_message = error_summary([line for _, line in result.error_lines], exit_code, log_path)
        return result
    if output_uri:
        _upload_tree(run_dir / "output", output_uri, s3_client)
    result.succeeded = True
    return result


def _now_ms() -> int:
    return int(time.time() * 1000)


def _driver_environment(python: str) -> dict[str, str]:
    return {**os.environ, "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python}


def _run_script(command: list[str], run_dir: Path, environment: dict, log, result: RunResult) -> int:
    """Runs the script cold; run.log gets both streams interleaved, result gets each stream's lines."""
    process = subprocess.Popen(command, cwd=run_dir, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    output = _Output(log)
    output.ready.set()  # a cold script's lines are the run's from the first
    output.attach(log, result)
    output.pump(process)
    return process.wait()


class _Output:
    """Where a script process's lines go: `fallback` until the process is ready (a warm driver says
    READY_LINE) and a run is attached, then the run's log (both streams interleaved) and its result
    (each stream's lines)."""

    def __init__(self, fallback):
        self._fallback = fallback
        self._log = None
        self._result: RunResult | None = None
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.ready = threading.Event()

    def attach(self, log, result: RunResult) -> None:
        with self._lock:
            self._log, self._result = log, result

    def pump(self, process: subprocess.Popen, wait: bool = True) -> None:
        self._threads = [threading.Thread(target=self._copy, args=(process.stdout, "output_lines"), daemon=True),
                         threading.Thread(target=self._copy, args=(process.stderr, "error_lines"), daemon=True)]
        for thread in self._threads:
            thread.start()
        if wait:
            self.join()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _copy(self, stream, lines: str) -> None:
        for line in stream:
            with self._lock:
                if lines == "output_lines" and not self.ready.is_set() and line.rstrip("\n") == glue_driver.READY_LINE:
                    self._fallback.write(line)
                    self._fallback.flush()
                    self.ready.set()
                    continue
                attached = self._result is not None and self.ready.is_set()
                target = self._log if attached else self._fallback
                target.write(line)
                target.flush()
                if attached:
                    getattr(self._result, lines).append((_now_ms(), line.rstrip("\n")))


class WarmDriver:
    """A local_stack/glue_driver.py process: warms up on the sample, then serves one run (see there)."""

    def __init__(self, directory: Path, warm_up: dict, python: str = sys.executable):
        self.process = subprocess.Popen(
            # No PYTHONPATH of the runner's: a run's own comes with its request, as a cold run's in its environment.
            [python, glue_driver.__file__, json.dumps(warm_up), str(os.getpid())], cwd=directory,
            env={**_driver_environment(python), "PYTHONPATH": ""},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
            # Its own session, so its lower priority counts against the other sessions' processes
            # where the kernel shares CPU between sessions first (glue_driver.AUTOGROUP).
            start_new_session=True,
        )  # fmt: skip
        # What the driver says until it serves a run: its warm-up.
        self.warm_up_log = directory / f"warm-up-{self.process.pid}.log"
        self._warm_up_file = self.warm_up_log.open("w")
        self._output = _Output(self._warm_up_file)
        self._output.pump(self.process, wait=False)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def ready(self) -> bool:
        return self._output.ready.is_set() and self.alive

    def wait_until_ready(self, timeout: float) -> bool:
        """Whether it is ready within `timeout` seconds (False at once when it dies warming up)."""
        deadline = time.monotonic() + timeout
        while not self.ready and self.alive and (left := deadline - time.monotonic()) > 0:
            self._output.ready.wait(min(left, 0.5))
        return self.ready

    def run(self, command: list[str], run_dir: Path, pythonpath: list[str], log, result: RunResult) -> int:
        """The run (`command` = script and its arguments) on this driver; its exit code."""
        self._output.attach(log, result)
        request = {"script": command[0], "argv": command[1:], "cwd": str(run_dir), "pythonpath": pythonpath}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # it died meanwhile: its exit code says so
        self._output.join()
        exit_code = self.process.wait()
        self._warm_up_file.close()
        return exit_code

    def stop(self) -> None:
        """Ends the driver at once, warming up, waiting or serving a run, with what it started (its
        Spark JVM and Python workers): they are its process group, whose id the kernel keeps from
        reuse while the driver is unreaped or any of them runs."""
        with contextlib.suppress(ProcessLookupError):  # the driver and all it started are gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._output.join(timeout=30)
        self._warm_up_file.close()


class WarmDrivers:
    """At most one warm driver at a time, warmed up by the job `script` on the `sample` file: a run
    takes it once ready, and the next one starts warming up when a run ends."""

    def __init__(self, directory: Path, script: Path, sample: Path, python: str = sys.executable):
        self.directory = directory
        self._python = python
        manifest = directory / "warm-up-manifest.json"
        directory.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({"inputs": [{"uri": f"file://{sample}", "source_object": f"file://{sample}"}]}))
        self._warm_up = {"script": str(script), "cwd": str(directory), "argv": [
            "--JOB_NAME", "warm-up", "--batch_id", "warm-up", "--input_manifest", f"file://{manifest}",
            "--output_uri", f"file://{directory / 'warm-up-output'}/",
        ]}  # fmt: skip
        self._driver: WarmDriver | None = None
        # Taken by a run (waiting for its warm-up or serving it) until released: still the pool's to
        # stop on shutdown, as a driver runs in a session of its own, out of the emulator's group.
        self._taken: set[WarmDriver] = set()
        self._stopped = False
        self._lock = threading.Lock()

    def take(self, wait_seconds: float) -> WarmDriver | None:
        """The driver, now the caller's, once it is ready. A run that arrives while it warms up waits
        for it, up to `wait_seconds`: the warm-up started before a cold run could, and a cold run beside
        it would share the CPU with it. None when there is none, or it died or was not ready in time
        (then it is stopped, and the run goes cold)."""
        with self._lock:
            driver, self._driver = self._driver, None
            if driver is None:
                return None
            self._taken.add(driver)
        ready = driver.wait_until_ready(wait_seconds)
        with self._lock:
            if ready and not self._stopped:
                return driver
        self.release(driver)
        return None

    def release(self, driver: WarmDriver) -> None:
        """Ends a driver `take` gave out: its run is over (or never reached it)."""
        try:
            driver.stop()
        finally:
            with self._lock:
                self._taken.discard(driver)

    def replenish(self) -> None:
        """Starts warming up a driver unless one is alive (a dead one's log says why it died)."""
        with self._lock:
            if self._stopped or (self._driver is not None and self._driver.alive):
                return
            if self._driver is not None:
                self._driver.stop()
            self._driver = WarmDriver(self.directory, self._warm_up, self._python)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            drivers = [*self._taken, *([self._driver] if self._driver is not None else [])]
            self._driver = None
        for driver in drivers:
            driver.stop()


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
    """The object in one GET, streamed to `target`. Not boto3's default ranged parts (8 MB each):
    moto reads and copies the whole object to answer each range, so the 446 MB 1M-row file took
    11.8 s to stage in 54 parts."""
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import ClientError

    try:
        s3_client.download_file(bucket, key, str(target), Config=TransferConfig(multipart_threshold=ONE_GET_BYTES))
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


def error_summary(lines: list[str], exit_code: int, log_path: Path) -> str:
    """The failing run's error as Glue shows it, from the script's error stream: the exception that
    ended the script, not Spark noise. (Not from run.log: there the script's stdout, flushed at exit,
    can land between the traceback's lines.)"""
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
