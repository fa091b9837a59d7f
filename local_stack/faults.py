"""Fault injection for the chaos suite: kill -9 one part of a running local stack, then bring it back.

What each kill hits, and how the part comes back:

- `scheduler`, `triggerer`: `airflow standalone` starts each as a child and never restarts one that
  died (it keeps serving without it). The kill takes the component's process and what it started in
  its own process group (LocalExecutor workers, log server, trigger runner); task processes run in
  sessions of their own and survive, as tasks on MWAA's workers survive a scheduler restart. The
  component comes back as a separate process (`airflow scheduler`) with the stack's Airflow
  environment, recorded in `run/airflow-<component>.pid`; `stop_restarted_components` ends them.
- `emulator`: its whole process group (moto's server and every Glue run with its Spark JVM) and
  its warm Glue drivers (sessions of their own, see local_stack/glue_driver.py). moto
  keeps all state in memory, so S3 objects, queued SQS messages (events and notifications) and Glue
  job runs are gone; `restart_services` (the same `up` as `make up`) starts a new server and
  re-provisions bucket, queues, rule, topic, role, Glue job and Glue assets, nothing else.
  Re-sending the lost raw files is the producer's business.
- `postgres`: the postmaster and its backends; PostgreSQL recovers from its WAL on restart.
- `glue_run`: the process tree of one running Glue job script (`<state dir>/glue-runs/<run id>/`);
  the emulator reports that run FAILED, as AWS does for a crashed job. Nothing is restarted: the
  pipeline's retries are the restart.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from local_stack import postgres
from local_stack.processes import PidFiles, spawn, wait_until
from local_stack.settings import local_dir

AIRFLOW_COMPONENTS = ("scheduler", "triggerer")
KILL_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    pgid: int
    argv: tuple[str, ...]


def _pid_files() -> PidFiles:
    return PidFiles(local_dir() / "run")


def _processes() -> list[Process]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = tuple(arg for arg in (entry / "cmdline").read_bytes().decode(errors="replace").split("\0") if arg)
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if fields[0] != "Z":
            found.append(Process(int(entry.name), int(fields[1]), int(fields[2]), argv))
    return found


def _tree(root: Process, processes: list[Process], same_group: bool) -> list[Process]:
    """`root` and its descendants (only those in root's process group when `same_group`)."""
    tree, frontier = [root], [root.pid]
    while frontier:
        parent = frontier.pop()
        for process in processes:
            if process.ppid == parent and (not same_group or process.pgid == root.pgid):
                tree.append(process)
                frontier.append(process.pid)
    return tree


def _kill(processes: list[Process]) -> None:
    for process in processes:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pids = {process.pid for process in processes}
    wait_until(lambda: not pids & {process.pid for process in _processes()}, KILL_TIMEOUT_SECONDS,
               f"the killed processes {sorted(pids)} to exit")


def _is_component(process: Process, component: str) -> bool:
    """`airflow <component>` as standalone (or `restart_component`) started it: `python .../airflow <component>`."""
    return (len(process.argv) >= 2 and process.argv[-1] == component
            and Path(process.argv[-2]).name == "airflow")


def _airflow_groups() -> set[int]:
    pids = _pid_files()
    names = ["airflow", *(f"airflow-{component}" for component in AIRFLOW_COMPONENTS)]
    return {record["pid"] for name in names if (record := pids.running(name))}


def component_process(component: str) -> Process | None:
    """The running top process of an Airflow component of this stack (not its own sub-processes)."""
    groups = _airflow_groups()
    processes = _processes()
    candidates = [p for p in processes if p.pgid in groups and _is_component(p, component)]
    candidate_pids = {p.pid for p in candidates}
    top = [p for p in candidates if p.ppid not in candidate_pids]
    return top[0] if top else None


def kill_component(component: str) -> int:
    """kill -9 an Airflow component with its own process group's descendants; returns its pid."""
    process = component_process(component)
    if process is None:
        raise RuntimeError(f"no running Airflow {component} belongs to the stack in {local_dir()}")
    _kill(_tree(process, _processes(), same_group=True))
    return process.pid


def restart_component(component: str, airflow_environment: dict[str, str]) -> int:
    """Start the component again as a process of its own (standalone does not); returns its pid."""
    name = f"airflow-{component}"
    pids = _pid_files()
    if pids.running(name) is not None and component_process(component) is not None:
        raise RuntimeError(f"the Airflow {component} is already running")
    log_path = local_dir() / "logs" / f"{name}.log"
    airflow = str(Path(sys.executable).with_name("airflow"))
    process = spawn([airflow, component], log_path, env={**os.environ, **airflow_environment})
    pids.write(name, process.pid, 0, log_path)
    # Up once it has outlived its imports and configuration checks (the usual causes of an early exit).
    time.sleep(5)
    if process.poll() is not None:
        raise RuntimeError(f"the restarted Airflow {component} exited with code {process.returncode}; see {log_path}")
    return process.pid


def stop_restarted_components() -> list[str]:
    """Stop every component `restart_component` started; return their names."""
    pids = _pid_files()
    return [name for component in AIRFLOW_COMPONENTS if pids.stop(name := f"airflow-{component}")]


def process_tree(pid: int) -> list[Process]:
    """The running process `pid` and every process it started, in whatever group or session."""
    processes = _processes()
    return [process for root in processes if root.pid == pid for process in _tree(root, processes, same_group=False)]


def kill_emulator() -> int:
    """kill -9 the emulator's whole process group (moto and its Glue runs) and its warm Glue drivers,
    which run in sessions of their own; returns the group id."""
    record = _pid_files().running("emulator")
    if record is None:
        raise RuntimeError(f"the emulator of the stack in {local_dir()} is not running")
    group = record["pid"]
    in_group = [process for process in _processes() if process.pgid == group]
    _kill(list({process.pid: process for process in [*in_group, *process_tree(group)]}.values()))
    return group


def kill_postgres() -> int:
    """kill -9 the warehouse's postmaster and every backend it started; returns the postmaster's pid."""
    state = postgres.status(local_dir() / "postgres")
    if not state.running:
        raise RuntimeError(f"the PostgreSQL server of the stack in {local_dir()} is not running")
    processes = _processes()
    (postmaster,) = [process for process in processes if process.pid == state.pid]
    _kill(_tree(postmaster, processes, same_group=False))
    return state.pid


def running_glue_runs() -> dict[str, Process]:
    """Run id -> the top process of each Glue job script now running under this stack's glue-runs/."""
    runs_dir = local_dir() / "glue-runs"
    runs = {}
    for process in _processes():
        try:
            cwd = Path(os.readlink(f"/proc/{process.pid}/cwd"))
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
        if cwd.parent == runs_dir and any(arg.endswith(".py") for arg in process.argv[1:2]):
            current = runs.get(cwd.name)
            if current is None or process.pid < current.pid:
                runs[cwd.name] = process
    return runs


def kill_glue_run(run_id: str) -> int:
    """kill -9 one Glue run's script and the processes it started (its Spark JVM); returns the script's pid."""
    process = running_glue_runs().get(run_id)
    if process is None:
        raise RuntimeError(f"the Glue run {run_id} is not running")
    _kill(_tree(process, _processes(), same_group=False))
    return process.pid


def restart_services(say=print) -> dict:
    """Start what of the stack is not running and re-provision it (what `make up` does); returns stack.json."""
    from local_stack import stack

    return stack.up(say=say)
