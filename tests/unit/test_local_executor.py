"""The local stack's executor: a LocalExecutor whose workers fork with the DAG files' Airflow imports done.

Each check runs in a fresh interpreter with the stack's own PYTHONPATH and executor setting, so what
is imported before and after is the executor's doing, not an earlier test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from local_stack.environment import airflow_env
from local_stack.settings import REPO_ROOT
from tests.fixtures.stack import EXAMPLE_DESCRIPTION


def _run(code: str, tmp_path, dags_folder) -> dict:
    stack_env = airflow_env({**EXAMPLE_DESCRIPTION, "airflow_home": str(tmp_path / "home")})
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__EXECUTOR": stack_env["AIRFLOW__CORE__EXECUTOR"],
        "PYTHONPATH": stack_env["PYTHONPATH"],
    }
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_airflow_loads_the_stacks_executor_from_the_stacks_path_as_a_local_executor(tmp_path):
    """`airflow standalone` keeps a configured executor only when it is local (else it forces LocalExecutor)."""
    facts = _run(
        """
        import json
        from airflow.executors.executor_loader import ExecutorLoader
        from airflow.executors.local_executor import LocalExecutor
        executor_class, _ = ExecutorLoader.import_default_executor_cls()
        print(json.dumps({"name": executor_class.__name__, "is_local": executor_class.is_local,
                          "local": issubclass(executor_class, LocalExecutor)}))
        """,
        tmp_path, REPO_ROOT / "dags",
    )
    assert facts == {"name": "PreImportingLocalExecutor", "is_local": True, "local": True}


def test_the_dags_airflow_imports_are_done_before_the_workers_fork_and_the_projects_code_is_not(tmp_path):
    facts = _run(
        """
        import json, os, sys
        from imdb_local_executor import pre_import_dag_modules
        glue = "airflow.providers.amazon.aws.operators.glue"
        before = glue in sys.modules
        imported = pre_import_dag_modules(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
        print(json.dumps({"before": before, "after": glue in sys.modules, "imported": imported,
                          "project": sorted(name for name in sys.modules if name.startswith("imdb_pipeline"))}))
        """,
        tmp_path, REPO_ROOT / "dags",
    )
    assert (facts["before"], facts["after"]) == (False, True)
    assert "airflow.providers.amazon.aws.operators.glue" in facts["imported"]
    assert all(name.startswith("airflow.") for name in facts["imported"])
    assert facts["project"] == []


def test_a_module_that_does_not_import_is_left_to_the_dag_processor_to_report(tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "broken_dag.py").write_text(
        "from airflow.sdk import DAG\nimport airflow.providers.no_such_provider.operators.nothing\n"
    )
    facts = _run(
        """
        import json, os
        from imdb_local_executor import pre_import_dag_modules
        print(json.dumps({"imported": pre_import_dag_modules(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])}))
        """,
        tmp_path, dags,
    )
    assert facts["imported"] == ["airflow.sdk"]
