"""Start, stop and describe the local stack: AWS emulator, PostgreSQL warehouse, Airflow standalone
with its own PostgreSQL metadata database."""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from local_stack import postgres
from local_stack.environment import airflow_env, airflow_password
from local_stack.processes import PidFiles, StackError, free_port, http_ok, port_is_free, spawn, wait_until
from local_stack.settings import (
    AIRFLOW_USER,
    PORT_VARIABLES,
    REGION,
    REPO_ROOT,
    Ports,
    local_dir,
    stack_file,
    write_stack,
)

EMULATOR_START_TIMEOUT = 60
AIRFLOW_START_TIMEOUT = 240
AIRFLOW_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


def _pid_files() -> PidFiles:
    return PidFiles(local_dir() / "run")


def _postgres_dir() -> Path:
    return local_dir() / "postgres"


def _airflow_db_dir() -> Path:
    """Airflow's metadata database: a server apart from the warehouse, so that killing or
    restarting the warehouse (the chaos suite does) leaves the orchestrator running."""
    return local_dir() / "airflow-db"


def _database_servers() -> tuple[tuple[str, Path], ...]:
    """(service, data directory) of each PostgreSQL server of the stack."""
    return ("postgres", _postgres_dir()), ("airflow-db", _airflow_db_dir())


def _start_database(service: str, data_dir: Path, port: int, say) -> str:
    """Start (or find running) one of the stack's PostgreSQL servers; return its DSN."""
    if not postgres.status(data_dir).running:
        say(f"{service:<10} starting on port {port}")
    try:
        dsn = postgres.start(data_dir, port)
    except postgres.PostgresServerError as error:
        raise StackError(f"{error}\n(the {service} port comes from {PORT_VARIABLES[service]})") from error
    say(f"{service:<10} running at {dsn}")
    return dsn


def require_java() -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise StackError("Java is missing: the Glue runner runs the job on local Spark, which needs Java 17+. "
                         "Install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME.")


def _require_free_port(service: str, port: int) -> None:
    if not port_is_free(port):
        variable = PORT_VARIABLES[service]
        raise StackError(
            f"Port {port} for the {service} is already in use by another process. If it is a stack left "
            f"from an earlier run, stop it (`make down`, or find it with `ss -ltnp 'sport = :{port}'`); "
            f"otherwise choose another port, e.g. `{variable}={port + 1} make up`."
        )


def _start_service(service: str, port: int, argv: list[str], ready_url: str, timeout: float,
                   env: dict[str, str] | None = None, ready=None, say=print) -> bool:
    """Start the service unless it already runs; wait until it answers. True if started now."""
    pids = _pid_files()
    record = pids.running(service)
    if record is not None:
        if record["port"] != port:
            raise StackError(f"The {service} already runs on port {record['port']}, not {port}: "
                             f"`make down` first, or set {PORT_VARIABLES[service]}={record['port']}.")
        return False
    _require_free_port(service, port)
    log_path = local_dir() / "logs" / f"{service}.log"
    process = spawn(argv, log_path, env=env, cwd=REPO_ROOT)
    pids.write(service, process.pid, port, log_path)
    say(f"{service:<10} starting; waiting until it answers (up to {timeout:.0f} s, log {log_path})")
    try:
        wait_until(ready or (lambda: http_ok(ready_url)), timeout, f"the {service}", log_path, process, say=say)
    except StackError:
        pids.stop(service)
        raise
    return True


def airflow_ready(url: str) -> bool:
    """Every component the health endpoint reports is healthy."""
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=3) as response:
            health = json.load(response)
    except (OSError, ValueError):
        return False
    return all((health.get(name) or {}).get("status") == "healthy" for name in AIRFLOW_COMPONENTS)


def up(with_airflow: bool = True, say=print) -> dict:
    """Start what is not running, provision (idempotent), write stack.json; return its contents."""
    from local_stack.provision import provision_aws, provision_warehouse

    require_java()
    ports = Ports.from_environment()
    for service in _pid_files().clean_stale():
        say(f"removed the stale pid file of the {service} (left by a crashed run; its process is gone)")
    local = local_dir()
    endpoint_url = f"http://127.0.0.1:{ports.emulator}"
    started = _start_service(
        "emulator", ports.emulator,
        [sys.executable, "-m", "local_stack.emulator", "--port", str(ports.emulator), "--state-dir", str(local)],
        f"{endpoint_url}/moto-api/", EMULATOR_START_TIMEOUT, say=say,
    )
    say(f"emulator   {'started' if started else 'running'} at {endpoint_url}")
    warehouse_dsn = _start_database("postgres", _postgres_dir(), ports.postgres, say)
    stack = {"aws_endpoint_url": endpoint_url, "aws_region": REGION, "warehouse_dsn": warehouse_dsn}
    say("provisioning the emulator's AWS resources and the warehouse schema ...")
    stack.update(provision_aws(endpoint_url, REGION))
    statements = provision_warehouse(warehouse_dsn)
    say(f"provisioned AWS resources and {statements} warehouse DDL statements")
    airflow_home = local / "airflow"
    stack.update({
        "airflow_url": f"http://127.0.0.1:{ports.airflow}",
        "airflow_home": str(airflow_home),
        "airflow_user": AIRFLOW_USER,
        "airflow_password": airflow_password(airflow_home),
    })
    if with_airflow:
        stack["airflow_db_dsn"] = _start_database("airflow-db", _airflow_db_dir(), ports.airflow_db, say)
    write_stack(stack)
    if with_airflow:
        started = _start_service(
            "airflow", ports.airflow, [sys.executable, "-m", "airflow", "standalone"], "",
            AIRFLOW_START_TIMEOUT, env={**os.environ, **airflow_env(stack)},
            ready=lambda: airflow_ready(stack["airflow_url"]), say=say,
        )
        say(f"airflow    {'started' if started else 'running'} at {stack['airflow_url']} "
            f"(user {AIRFLOW_USER}, password {stack['airflow_password']})")
    from local_stack.doctor import require_healthy

    # Just started on a busy machine, Airflow's health may flap for a moment (a late heartbeat).
    require_healthy(stack, with_airflow=with_airflow, say=say, patience_seconds=60)
    say(f"stack description: {stack_file()}")
    return stack


@contextmanager
def isolated_stack(state_dir: Path, say=print) -> Iterator[dict]:
    """A stack of its own (tests, benchmarks): its state under `state_dir`, services on free ports,
    yielded once Airflow has parsed the DAG; stopped, and the settings restored, afterwards."""
    from local_stack.airflow_api import AirflowApi, wait_for_dag

    settings = {"IMDB_LOCAL_DIR": str(state_dir), "IMDB_EMULATOR_PORT": str(free_port()),
                "IMDB_POSTGRES_PORT": str(free_port()), "IMDB_AIRFLOW_PORT": str(free_port()),
                "IMDB_AIRFLOW_DB_PORT": str(free_port())}  # fmt: skip
    with mock.patch.dict(os.environ, settings):
        try:
            description = up(say=say)
            # A loaded machine parses the DAG slowly: be patient rather than fail.
            wait_for_dag(AirflowApi.for_stack(description), timeout=300)
            yield description
        finally:
            down(say=say)


def down(say=print) -> list[str]:
    """Stop every service of the stack; return the names of those that were running."""
    pids = _pid_files()
    stopped = [service for service in ("airflow", "emulator") if pids.stop(service)]
    for service, data_dir in _database_servers():
        if postgres.stop(data_dir):
            stopped.append(service)
    stack_file().unlink(missing_ok=True)
    say(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return stopped


def status() -> list[dict]:
    """Each service with its state, port and log."""
    pids = _pid_files()
    rows = []
    for service in ("emulator", "airflow"):
        record = pids.running(service)
        rows.append({"service": service, "running": record is not None,
                     "port": record["port"] if record else None, "log": record["log"] if record else None})
    for position, (service, data_dir) in enumerate(_database_servers(), start=1):
        database = postgres.status(data_dir)
        rows.insert(position, {"service": service, "running": database.running, "port": database.port,
                               "log": str(database.data_dir / "server.log")})  # fmt: skip
    return rows


def print_status(say=print) -> bool:
    """Print the status table; True if every service runs."""
    rows = status()
    for row in rows:
        state = f"running on port {row['port']}" if row["running"] else "stopped"
        say(f"{row['service']:<10} {state}")
    if stack_file().exists():
        say(f"stack description: {stack_file()}")
    return all(row["running"] for row in rows)
