"""`python -m local_stack doctor` (and the end of `make up`): is the stack configured and up?

The settings are checked as Airflow gets them (the environment `airflow_env` gives it), by the same
check the DAG's first task runs (`imdb_pipeline.config`); then each service must answer.
"""

from __future__ import annotations

import sys
import time

from local_stack.environment import airflow_env
from local_stack.processes import StackError, http_ok
from local_stack.settings import REPO_ROOT


def configuration_problems(stack: dict) -> list[str]:
    """What the DAG's configuration check would say about the stack's settings and connections."""
    dags_dir = str(REPO_ROOT / "dags")
    if dags_dir not in sys.path:
        sys.path.insert(0, dags_dir)
    from imdb_pipeline import config

    return config.problems(*config.settings_in_environment(airflow_env(stack)))


def service_problems(stack: dict, with_airflow: bool = True) -> list[str]:
    """Each service of the stack that does not answer, with the way to look further."""
    import psycopg2

    from local_stack.stack import airflow_ready

    found = []
    if not http_ok(f"{stack['aws_endpoint_url']}/moto-api/"):
        found.append(f"the AWS emulator does not answer at {stack['aws_endpoint_url']} "
                     "(see .local/logs/emulator.log; `make up` starts it)")
    try:
        psycopg2.connect(stack["warehouse_dsn"], connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        found.append(f"the warehouse does not accept connections at {stack['warehouse_dsn']}: {reason}")
    if with_airflow and not airflow_ready(stack["airflow_url"]):
        found.append(f"Airflow is not healthy at {stack['airflow_url']}/api/v2/monitor/health "
                     "(see .local/logs/airflow.log; `make up` starts it)")
    return found


def diagnose(stack: dict, with_airflow: bool = True) -> list[str]:
    return configuration_problems(stack) + service_problems(stack, with_airflow)


def require_healthy(stack: dict, with_airflow: bool = True, say=print, patience_seconds: float = 0) -> None:
    """Raise StackError listing every problem still there after `patience_seconds`; else say that all
    was checked."""
    deadline = time.monotonic() + patience_seconds
    found = diagnose(stack, with_airflow)
    while found and time.monotonic() < deadline:
        time.sleep(2)
        found = diagnose(stack, with_airflow)
    if found:
        raise StackError(f"the stack has {len(found)} problem(s):\n" + "\n".join(f"- {line}" for line in found))
    services = "emulator, warehouse" + (", Airflow" if with_airflow else "")
    say(f"doctor     settings and connections valid; {services} answering")


def run_doctor(say=print) -> int:
    """Exit code 0 when the running stack is configured and every service answers."""
    from local_stack.settings import read_stack

    require_healthy(read_stack(), say=say)
    return 0
