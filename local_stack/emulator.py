"""The AWS emulator: moto's server, with Glue job runs executed for real by local_stack.glue_runner.

Run as `python -m local_stack.emulator --port N --state-dir D [--allowed-script s3://...]`. moto is pinned exactly
(requirements-dev.txt) because this module patches its Glue backend: a job run stays STARTING,
then RUNNING while its script runs, then SUCCEEDED or FAILED with the script's error message. Only
the stack's registered job script runs (see GlueRunExecutor); each run's stdout and stderr go to
CloudWatch Logs `/aws-glue/jobs/output` and `/error`, stream = run id, as on AWS Glue.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from local_stack.settings import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, REPO_ROOT

log = logging.getLogger("local_stack.emulator")
READY_LINE = "emulator ready on"
# Status changes come only from the runner: moto's automatic progression is switched off.
_NEVER = {"progression": "manual", "times": 2**62}


# What a warm Glue driver runs the job on before it serves a run: the sample the demo uploads.
WARM_UP_SAMPLE = REPO_ROOT / "data" / "imdb_movies_rating.csv"
# Where AWS Glue writes a run's driver log (stream = the run id); GlueJobOperator(verbose=True)
# prints <LogGroupName>/output and <LogGroupName>/error.
GLUE_LOG_GROUP = "/aws-glue/jobs"
_MAX_LOG_EVENTS, _MAX_LOG_BATCH_BYTES, _MAX_LOG_MESSAGE = 5000, 800_000, 200_000


def registered_job_scripts() -> dict[str, Path]:
    """The stack's own job script: its S3 location (the template's Glue job, with the local stack's
    parameters) -> the checkout's file its content must equal."""
    from local_stack.provision import GLUE_SCRIPT_SOURCE, local_glue_script_location
    from local_stack.settings import REPO_ROOT

    return {local_glue_script_location(): REPO_ROOT / GLUE_SCRIPT_SOURCE}


class GlueRunExecutor:
    """Runs StartJobRun requests on a small thread pool against this emulator's own endpoint.

    Only registered scripts run: the stack's own (whose S3 object must equal the checkout's file)
    and any `extra_scripts` (tests); a run of any other script is FAILED without being staged.
    """

    def __init__(self, endpoint_url: str, runs_dir: Path, max_concurrent_runs: int = 2,
                 extra_scripts: tuple[str, ...] = ()):
        from local_stack.glue_runner import WarmDrivers

        self.endpoint_url = endpoint_url
        self.runs_dir = runs_dir
        registered = registered_job_scripts()
        self.scripts: dict[str, Path | None] = {**registered, **dict.fromkeys(extra_scripts)}
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent_runs, thread_name_prefix="glue-run")
        # Each run of the stack's job would otherwise start its Spark JVM cold: on the seed file most of
        # the run. Beside glue-runs/, not in it: a warming driver is no run.
        (script,) = registered.values()
        self.warm_drivers = WarmDrivers(runs_dir.parent / "glue-warm", script, WARM_UP_SAMPLE)

    def submit(self, job, job_run, region: str) -> None:
        from local_stack.glue_runner import RunRequest

        request = RunRequest(
            run_id=job_run.job_run_id,
            job_name=job.name,
            script_location=(job.command or {}).get("ScriptLocation", ""),
            arguments=dict(job_run.arguments or {}),
        )
        if request.script_location not in self.scripts:
            log.warning("glue run %s of %s refused: unregistered script %s", request.run_id, job.name,
                        request.script_location)
            job_run.error_message = (f"{request.script_location} is not the registered job script; this emulator "
                                     f"runs only {', '.join(sorted(self.scripts))}")
            job_run.execution_seconds = 0
            job_run.completed_on = datetime.now(UTC)
            job_run.status = "FAILED"
            return
        self._pool.submit(self._run, request, job_run, region)

    def _run(self, request, job_run, region: str) -> None:
        import boto3

        from local_stack.glue_runner import execute_run

        job_run.status = "RUNNING"
        started = time.monotonic()
        log.info("glue run %s of %s started", request.run_id, request.job_name)
        def client(service: str):
            return boto3.client(service, endpoint_url=self.endpoint_url, region_name=region,
                                aws_access_key_id=DUMMY_ACCESS_KEY_ID, aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY)

        try:
            expected = self.scripts[request.script_location]
            digest = hashlib.sha256(expected.read_bytes()).hexdigest() if expected else None
            result = execute_run(request, self.runs_dir, client("s3"), script_sha256=digest,
                                 warm_drivers=self.warm_drivers)
            job_run.error_message = result.error_message
            final_status = "SUCCEEDED" if result.succeeded else "FAILED"
            logs = client("logs")
            _put_log_lines(logs, f"{GLUE_LOG_GROUP}/output", request.run_id, result.output_lines)
            _put_log_lines(logs, f"{GLUE_LOG_GROUP}/error", request.run_id, result.error_lines)
        except Exception as error:  # the run must end in a final state whatever broke
            log.exception("glue run %s crashed", request.run_id)
            job_run.error_message = f"local Glue runner error: {type(error).__name__}: {error}"
            final_status = "FAILED"
        job_run.execution_seconds = int(time.monotonic() - started)
        job_run.completed_on = datetime.now(UTC)
        job_run.status = final_status
        log.info("glue run %s %s", request.run_id, final_status)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.warm_drivers.stop()


def _put_log_lines(logs, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    """The lines as CloudWatch Logs events of group/stream, in batches PutLogEvents accepts."""
    for create in (lambda: logs.create_log_group(logGroupName=group),
                   lambda: logs.create_log_stream(logGroupName=group, logStreamName=stream)):
        try:
            create()
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
    batch, size = [], 0
    for timestamp, line in lines:
        if not line.strip():
            continue  # CloudWatch refuses empty messages
        message = line[:_MAX_LOG_MESSAGE]
        if len(batch) == _MAX_LOG_EVENTS or size + len(message) > _MAX_LOG_BATCH_BYTES:
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
            batch, size = [], 0
        batch.append({"timestamp": timestamp, "message": message})
        size += len(message) + 26
    if batch:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)


# UpdateJob overwrites the whole definition (AWS semantics); absent fields take these values.
_JOB_UPDATE_FIELDS = {
    "Description": ("description", None), "LogUri": ("log_uri", None), "Role": ("role", None),
    "ExecutionProperty": ("execution_property", {}), "Command": ("command", None),
    "DefaultArguments": ("default_arguments", {}), "NonOverridableArguments": ("non_overridable_arguments", None),
    "Connections": ("connections", None), "MaxRetries": ("max_retries", None),
    "AllocatedCapacity": ("allocated_capacity", None), "Timeout": ("timeout", None),
    "MaxCapacity": ("max_capacity", None), "SecurityConfiguration": ("security_configuration", None),
    "NotificationProperty": ("notification_property", None), "GlueVersion": ("glue_version", None),
    "NumberOfWorkers": ("number_of_workers", None), "WorkerType": ("worker_type", None),
    "CodeGenConfigurationNodes": ("code_gen_configuration_nodes", None),
    "ExecutionClass": ("execution_class", "STANDARD"), "SourceControlDetails": ("source_control_details", None),
}


def install_update_job() -> None:
    """Add Glue UpdateJob, which moto lacks and Airflow's GlueJobOperator calls when a job changed."""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.glue.responses import GlueResponse

    def update_job(self):
        name = self._get_param("JobName")
        job_update = self._get_param("JobUpdate") or {}
        job = self.glue_backend.get_job(name)
        for key, (attribute, default) in _JOB_UPDATE_FIELDS.items():
            value = job_update.get(key, default)
            setattr(job, attribute, dict(value) if isinstance(value, dict) else value)
        job.last_modified_on = utcnow()
        return ActionResult({"JobName": name})

    GlueResponse.update_job = update_job


def install_s3_event_fix() -> None:
    """Name the object's ETag `etag` in S3 events sent to EventBridge, as AWS does (moto says `eTag`)."""
    from moto.events.models import Rule

    original_send = Rule.send_to_targets

    def send_to_targets(self, original_event, transform_input=True):
        s3_object = (original_event.get("detail") or {}).get("object")
        if original_event.get("source") == "aws.s3" and isinstance(s3_object, dict) and "eTag" in s3_object:
            s3_object["etag"] = s3_object.pop("eTag")
        return original_send(self, original_event, transform_input)

    Rule.send_to_targets = send_to_targets


def install_glue_runner(executor: GlueRunExecutor) -> None:
    """Patch moto's Glue backend so StartJobRun hands the run to `executor`."""
    from moto.glue.models import FakeJobRun, GlueBackend
    from moto.moto_api import state_manager

    state_manager.set_transition("glue::job_run", _NEVER)
    original_start = GlueBackend.start_job_run
    original_as_dict = FakeJobRun.as_dict

    def start_job_run(self, name, *args, **kwargs):
        run_id = original_start(self, name, *args, **kwargs)
        job = self.get_job(name)
        job_run = next(run for run in job.job_runs if run.job_run_id == run_id)
        job_run.completed_on = None
        executor.submit(job, job_run, self.region_name)
        return run_id

    def as_dict(self):
        described = original_as_dict(self)
        described["ExecutionTime"] = getattr(self, "execution_seconds", 0)
        if self.completed_on is None:
            described.pop("CompletedOn", None)
        if getattr(self, "error_message", None):
            described["ErrorMessage"] = self.error_message
        described["LogGroupName"] = GLUE_LOG_GROUP
        return described

    GlueBackend.start_job_run = start_job_run
    FakeJobRun.as_dict = as_dict


class CrossOriginGuard:
    """WSGI middleware refusing browser calls from web pages: a request with an `Origin` header (which
    browsers add to cross-origin and non-GET requests) outside `allowed_origins` gets 403, and no
    response carries CORS headers, so a page open in the developer's browser can neither drive the
    emulator (e.g. start a Glue run) nor read its answers. SDK clients (boto3) send no Origin."""

    def __init__(self, app, allowed_origins: frozenset[str] = frozenset()):
        self.app = app
        self.allowed_origins = allowed_origins

    def __call__(self, environ, start_response):
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            def without_cors(status, headers, exc_info=None):
                kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
                return start_response(status, kept, exc_info)

            return self.app(environ, without_cors)
        if origin in self.allowed_origins:
            return self.app(environ, start_response)
        body = f"The local AWS emulator refuses requests from web pages (Origin {origin}).\n".encode()
        start_response("403 Forbidden", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


def install_cross_origin_guard() -> None:
    """Put CrossOriginGuard in front of moto's server app; origins to allow (for a tool of your own in the
    browser) come comma-separated from IMDB_EMULATOR_ALLOWED_ORIGINS, none by default."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    allowed = frozenset(filter(None, os.environ.get("IMDB_EMULATOR_ALLOWED_ORIGINS", "").replace(" ", "").split(",")))
    dispatch = DomainDispatcherApplication.__call__

    def guarded(self, environ, start_response):
        return CrossOriginGuard(lambda env, respond: dispatch(self, env, respond), allowed)(environ, start_response)

    DomainDispatcherApplication.__call__ = guarded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True, help="Glue run directories go here")
    parser.add_argument("--max-concurrent-runs", type=int, default=2)
    parser.add_argument("--allowed-script", action="append", default=[], metavar="S3_URI",
                        help="a job script to run besides the stack's own (repeatable); no other script runs")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    # The Glue role attaches AWS's managed AWSGlueServiceRole, which moto only knows when asked to.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.server import ThreadedMotoServer

    from local_stack.processes import port_is_free

    # moto's server thread would wait forever on a port it cannot bind: check first.
    if not port_is_free(options.port, options.host):
        print(f"port {options.port} on {options.host} is already in use: pass another --port "
              "(the stack takes it from IMDB_EMULATOR_PORT)", file=sys.stderr)
        return 2
    endpoint_url = f"http://{options.host}:{options.port}"
    # The Glue runner calls this server from inside: a wildcard bind address is not a place to call.
    own_host = "127.0.0.1" if options.host in ("0.0.0.0", "") else options.host
    executor = GlueRunExecutor(f"http://{own_host}:{options.port}", options.state_dir / "glue-runs",
                               options.max_concurrent_runs, tuple(options.allowed_script))
    install_glue_runner(executor)
    install_update_job()
    install_s3_event_fix()
    install_cross_origin_guard()
    server = ThreadedMotoServer(ip_address=options.host, port=options.port, verbose=False)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    server.start()
    print(f"{READY_LINE} {endpoint_url}", flush=True)
    stopping.wait()
    executor.shutdown()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
