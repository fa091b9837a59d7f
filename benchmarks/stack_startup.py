"""Start-up time of the local stack without Airflow (emulator + PostgreSQL + provisioning).

Reference, measured in the same run: a bare moto server started the same way (`python -m
moto.server`) until it answers, and a bare `python -c pass`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from local_stack.processes import free_port, http_ok, spawn, stop_process_group, wait_until


@contextmanager
def _environment(**variables: str):
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _bare_moto_seconds(tmp_dir: Path) -> float:
    port = free_port()
    started = time.perf_counter()
    process = spawn([sys.executable, "-m", "moto.server", "-p", str(port)], tmp_dir / "moto.log")
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/moto-api/"), 60, "bare moto", interval=0.05)
        return time.perf_counter() - started
    finally:
        stop_process_group(process.pid)
        process.wait()


def _stack_up_seconds() -> float:
    from local_stack import stack

    started = time.perf_counter()
    stack.up(with_airflow=False, say=lambda _: None)
    return time.perf_counter() - started


def run(tmp_dir) -> dict:
    """Seconds to a provisioned stack, cold (fresh state directory) and warm (existing data)."""
    from local_stack import stack

    tmp_dir = Path(tmp_dir)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python_seconds = time.perf_counter() - started
    moto_seconds = _bare_moto_seconds(tmp_dir)
    ports = {name: str(free_port()) for name in ("IMDB_EMULATOR_PORT", "IMDB_POSTGRES_PORT", "IMDB_AIRFLOW_PORT")}
    with _environment(IMDB_LOCAL_DIR=str(tmp_dir / "local"), **ports):
        try:
            cold_seconds = _stack_up_seconds()
            stack.down(say=lambda _: None)
            warm_seconds = _stack_up_seconds()
        finally:
            stack.down(say=lambda _: None)
    return {
        "reference_python_start_s": round(python_seconds, 3),
        "reference_bare_moto_start_s": round(moto_seconds, 3),
        "stack_cold_start_s": round(cold_seconds, 3),
        "stack_warm_start_s": round(warm_seconds, 3),
        "warm_start_vs_bare_moto": round(warm_seconds / moto_seconds, 2),
    }
