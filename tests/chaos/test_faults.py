"""local_stack.faults on real processes (cheap ones: shells and sleeps, no services)."""

from __future__ import annotations

import subprocess
import sys
import time

from local_stack import faults
from local_stack.processes import PidFiles, is_alive


def wait_for_children(pid: int, count: int) -> list[faults.Process]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        processes = faults._processes()
        (root,) = [process for process in processes if process.pid == pid]
        tree = faults._tree(root, processes, same_group=False)
        if len(tree) >= count + 1:
            return tree
        time.sleep(0.1)
    raise AssertionError(f"process {pid} did not start {count} children")


def test_kill_takes_the_whole_tree_and_only_it():
    bystander = subprocess.Popen(["sleep", "60"])
    root = subprocess.Popen(["bash", "-c", "sleep 60 & sleep 60 & wait"], start_new_session=True)
    try:
        tree = wait_for_children(root.pid, 2)
        faults._kill(tree)
        root.wait(timeout=10)
        assert not any(is_alive(process.pid) for process in tree[1:])
        assert bystander.poll() is None
    finally:
        bystander.kill()
        root.kill()


def test_same_group_tree_spares_processes_in_sessions_of_their_own():
    """A killed scheduler takes its executor workers; a task started in its own session survives."""
    script = ("import subprocess, time; subprocess.Popen(['sleep', '60']); "
              "subprocess.Popen(['sleep', '60'], start_new_session=True); time.sleep(60)")
    root = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        tree = wait_for_children(root.pid, 2)
        processes = faults._processes()
        own_group = faults._tree(tree[0], processes, same_group=True)
        assert len(own_group) == 2
        survivor = next(process for process in tree if process not in own_group)
        faults._kill(own_group)
        assert is_alive(survivor.pid)
        faults._kill([survivor])
    finally:
        root.kill()


def test_component_is_found_in_the_stacks_airflow_group_only(tmp_path, monkeypatch):
    monkeypatch.setenv("IMDB_LOCAL_DIR", str(tmp_path))
    # A stand-in with the argv shape standalone gives its components: python .../airflow scheduler
    fake_airflow = tmp_path / "airflow"
    fake_airflow.write_text("import time\ntime.sleep(60)\n")
    component = subprocess.Popen([sys.executable, str(fake_airflow), "scheduler"], start_new_session=True)
    try:
        assert faults.component_process("scheduler") is None  # not this stack's: no pid file names its group
        PidFiles(tmp_path / "run").write("airflow", component.pid, 0, tmp_path / "airflow.log")
        found = faults.component_process("scheduler")
        assert found is not None and found.pid == component.pid
        assert faults.kill_component("scheduler") == component.pid
        component.wait(timeout=10)
    finally:
        component.kill()


def test_the_emulator_kill_takes_its_group_and_its_children_in_sessions_of_their_own(tmp_path, monkeypatch):
    """As the emulator's warm Glue drivers: started by it, each in a session of its own."""
    monkeypatch.setenv("IMDB_LOCAL_DIR", str(tmp_path))
    script = ("import subprocess, time; subprocess.Popen(['sleep', '60']); "
              "subprocess.Popen(['bash', '-c', 'sleep 60 & wait'], start_new_session=True); time.sleep(60)")
    emulator = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        tree = wait_for_children(emulator.pid, 3)
        PidFiles(tmp_path / "run").write("emulator", emulator.pid, 0, tmp_path / "emulator.log")

        assert faults.kill_emulator() == emulator.pid

        emulator.wait(timeout=10)
        assert [process.argv for process in tree if is_alive(process.pid)] == []
        assert bystander.poll() is None
    finally:
        emulator.kill()
        bystander.kill()
