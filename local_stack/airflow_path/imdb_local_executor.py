"""The local stack's executor: Airflow's LocalExecutor whose workers start with the DAG files'
Airflow imports done.

Every task runs in a process forked from a LocalExecutor worker, and parses its DAG file first. The
workers never import the providers the DAG names, so each task imported them afresh (boto3 and the
Amazon provider, about a second of CPU each time): on a small file that was most of each task's
time. Importing them once before the workers are forked is what Airflow's DAG processor does for
its parsing processes (`[dag_processor] parsing_pre_import_modules`); this does the same for tasks.
Only `airflow.*` modules are imported, as there: the project's own code is still read fresh by
every task. This folder is on PYTHONPATH for the local stack's Airflow only, not on MWAA.
"""

from __future__ import annotations

import importlib
import logging

from airflow.configuration import conf
from airflow.executors.local_executor import LocalExecutor
from airflow.utils.file import iter_airflow_imports, list_py_file_paths

log = logging.getLogger(__name__)


class PreImportingLocalExecutor(LocalExecutor):
    """LocalExecutor that imports the DAG files' Airflow modules before it forks its workers."""

    def start(self) -> None:
        pre_import_dag_modules(conf.get("core", "dags_folder"))
        super().start()


def pre_import_dag_modules(dags_folder: str) -> list[str]:
    """Import every `airflow.*` module the DAG files of `dags_folder` import; the modules imported."""
    imported = []
    for path in list_py_file_paths(dags_folder):
        for module in iter_airflow_imports(path):
            try:
                importlib.import_module(module)
            except Exception as error:  # a DAG file's import error is the DAG processor's to report
                log.warning("Could not pre-import %s (named in %s): %s", module, path, error)
            else:
                imported.append(module)
    return imported
