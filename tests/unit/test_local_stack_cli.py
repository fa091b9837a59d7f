"""The local stack's command line without services: clear one-line errors, doctor, progress, private files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from local_stack import doctor
from local_stack.processes import StackError, free_port, wait_until
from local_stack.settings import REPO_ROOT, write_stack
from tests.fixtures.stack import EXAMPLE_DESCRIPTION


def run_cli(*arguments: str, local_dir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "local_stack", *arguments], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, env={"IMDB_LOCAL_DIR": str(local_dir), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("command", [["airflow", "dags", "list"], ["doctor"]])
def test_without_a_stack_the_cli_ends_with_one_clear_line(command, tmp_path):
    result = run_cli(*command, local_dir=tmp_path)

    assert result.returncode == 1
    assert result.stderr == (f"error: no local stack is running ({tmp_path / 'stack.json'} is missing): "
                             "start it with `make up`\n")


def _stack(tmp_path, **overrides) -> dict:
    """A stack description whose services are all down (ports nothing listens on)."""
    return {
        **EXAMPLE_DESCRIPTION,
        "aws_endpoint_url": f"http://127.0.0.1:{free_port()}",
        "warehouse_dsn": f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
        "airflow_home": str(tmp_path / "airflow"), "airflow_url": f"http://127.0.0.1:{free_port()}",
        **overrides,
    }  # fmt: skip


def test_doctor_checks_the_settings_airflow_would_get(tmp_path):
    assert doctor.configuration_problems(_stack(tmp_path)) == []
    broken = _stack(tmp_path, notifications_topic_arn="", raw_prefix="raw")
    assert [line.split(" ")[0] for line in doctor.configuration_problems(broken)] == [
        "imdb_raw_prefix='raw':", "imdb_sns_topic_arn='':"]


def test_doctor_names_every_service_that_does_not_answer(tmp_path):
    stack = _stack(tmp_path, bucket="Not_A_Bucket")
    with pytest.raises(StackError) as raised:
        doctor.require_healthy(stack, say=lambda _: None)
    lines = str(raised.value).splitlines()
    assert lines[0] == "the stack has 4 problem(s):"
    assert lines[1].startswith("- imdb_bucket='Not_A_Bucket'")
    assert lines[2].startswith(f"- the AWS emulator does not answer at {stack['aws_endpoint_url']}")
    assert lines[3].startswith(f"- the warehouse does not accept connections at {stack['warehouse_dsn']}")
    assert lines[4].startswith(f"- Airflow is not healthy at {stack['airflow_url']}")
    assert len(doctor.diagnose(stack, with_airflow=False)) == 3


def test_the_stack_file_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("IMDB_LOCAL_DIR", str(tmp_path))
    (tmp_path / "stack.json").write_text("{}")
    (tmp_path / "stack.json").chmod(0o644)  # as older versions left it

    path = write_stack({"airflow_password": "secret"})

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"airflow_password": "secret"}


def test_waiting_says_what_it_waits_for_and_for_how_long():
    lines = []
    ready_at = time.monotonic() + 0.35

    wait_until(lambda: time.monotonic() >= ready_at, 5, "the airflow", interval=0.02, say=lines.append,
               say_every=0.1)

    assert 2 <= len(lines) <= 4, lines
    assert lines[0].strip() == "still waiting for the airflow: 0 s of at most 5 s"


def test_an_isolated_stack_uses_its_own_state_and_restores_the_settings_even_when_it_fails(tmp_path, monkeypatch):
    from local_stack import airflow_api
    from local_stack import stack as local_stack

    monkeypatch.setenv("IMDB_LOCAL_DIR", "/elsewhere")
    monkeypatch.delenv("IMDB_AIRFLOW_PORT", raising=False)
    seen, stopped = {}, []
    description = {**EXAMPLE_DESCRIPTION, "airflow_password": "secret"}
    monkeypatch.setattr(local_stack, "up", lambda say: seen.update(
        {name: value for name, value in os.environ.items() if name.startswith("IMDB_")}) or description)
    monkeypatch.setattr(local_stack, "down", lambda say: stopped.append(os.environ["IMDB_LOCAL_DIR"]))
    monkeypatch.setattr(airflow_api, "wait_for_dag", lambda api, timeout: None)

    with pytest.raises(RuntimeError), local_stack.isolated_stack(tmp_path, say=print) as described:
        assert described == description
        raise RuntimeError("a test failed")

    assert seen["IMDB_LOCAL_DIR"] == str(tmp_path) and stopped == [str(tmp_path)]
    assert len({seen[name] for name in ("IMDB_EMULATOR_PORT", "IMDB_POSTGRES_PORT", "IMDB_AIRFLOW_PORT")}) == 3
    assert os.environ["IMDB_LOCAL_DIR"] == "/elsewhere" and "IMDB_AIRFLOW_PORT" not in os.environ


def test_airflows_metadata_database_is_the_stacks_own_postgresql_server():
    """Never SQLite: its single write lock deadlocked Airflow's API server (see local_stack.environment)."""
    from local_stack.environment import airflow_env

    assert airflow_env(EXAMPLE_DESCRIPTION)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg2://postgres@127.0.0.1:5434/postgres"
    )
    assert EXAMPLE_DESCRIPTION["airflow_db_dsn"] != EXAMPLE_DESCRIPTION["warehouse_dsn"]
