"""`make up` / `make status` / `make down` without Airflow: real emulator and PostgreSQL processes."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from local_stack import doctor, stack
from local_stack.processes import StackError, free_port, is_alive

pytestmark = [pytest.mark.emulator, pytest.mark.postgres]


@pytest.fixture
def stack_environment(monkeypatch):
    """A state directory and free ports of its own, so a developer's running stack is not touched."""
    local = Path(tempfile.mkdtemp(prefix="imdb-test-stack-"))
    ports = {"IMDB_EMULATOR_PORT": free_port(), "IMDB_POSTGRES_PORT": free_port(), "IMDB_AIRFLOW_PORT": free_port(),
             "IMDB_AIRFLOW_DB_PORT": free_port()}
    monkeypatch.setenv("IMDB_LOCAL_DIR", str(local))
    for variable, port in ports.items():
        monkeypatch.setenv(variable, str(port))
    yield local, ports
    stack.down(say=lambda _: None)
    shutil.rmtree(local, ignore_errors=True)


def test_up_is_idempotent_status_reports_and_down_leaves_nothing(stack_environment):
    local, ports = stack_environment
    lines = []

    described = stack.up(with_airflow=False, say=lines.append)
    emulator_pid = json.loads((local / "run" / "emulator.pid").read_text())["pid"]
    again = stack.up(with_airflow=False, say=lines.append)

    assert again == described
    assert json.loads((local / "stack.json").read_text()) == described
    assert described["aws_endpoint_url"] == f"http://127.0.0.1:{ports['IMDB_EMULATOR_PORT']}"
    assert described["warehouse_dsn"].endswith(f":{ports['IMDB_POSTGRES_PORT']}/postgres")
    assert described["raw_events_queue_url"].endswith("/imdb-raw-object-created")
    assert json.loads((local / "run" / "emulator.pid").read_text())["pid"] == emulator_pid
    assert any(line.startswith("emulator   running at") for line in lines)
    # `make up` ends with the doctor's check of the settings Airflow gets and of each service.
    assert any(line.startswith("doctor     settings and connections valid") for line in lines)
    assert doctor.diagnose(described, with_airflow=False) == []
    running = {row["service"]: row["running"] for row in stack.status()}
    # Without Airflow, Airflow's own database server is not started either.
    assert running == {"emulator": True, "postgres": True, "airflow-db": False, "airflow": False}

    assert stack.down(say=lambda _: None) == ["emulator", "postgres"]
    assert not is_alive(emulator_pid)
    assert not (local / "stack.json").exists()
    assert {row["service"]: row["running"] for row in stack.status()} == {
        "emulator": False, "postgres": False, "airflow-db": False, "airflow": False}


def test_a_taken_port_is_named_with_the_way_out(stack_environment):
    _, ports = stack_environment
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["IMDB_EMULATOR_PORT"]))
        squatter.listen()
        with pytest.raises(StackError) as raised:
            stack.up(with_airflow=False, say=lambda _: None)
    message = str(raised.value)
    assert f"Port {ports['IMDB_EMULATOR_PORT']}" in message
    assert "IMDB_EMULATOR_PORT=" in message


def test_a_stale_pid_file_from_a_crashed_run_is_cleaned(stack_environment):
    local, _ = stack_environment
    (local / "run").mkdir(parents=True)
    dead_pid = 2**22 + 1  # above Linux's default pid_max: never a live process
    (local / "run" / "emulator.pid").write_text(json.dumps({"pid": dead_pid, "port": 1, "log": None}))
    lines = []

    stack.up(with_airflow=False, say=lines.append)

    assert any("stale pid file of the emulator" in line for line in lines)
    assert json.loads((local / "run" / "emulator.pid").read_text())["pid"] != dead_pid


def test_missing_java_is_reported_before_anything_starts(stack_environment, monkeypatch):
    local, _ = stack_environment
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)

    with pytest.raises(StackError, match="Java is missing"):
        stack.up(with_airflow=False, say=lambda _: None)
    assert not (local / "run").exists()
