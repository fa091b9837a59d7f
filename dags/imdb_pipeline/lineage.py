"""OpenLineage inputs and outputs of the tasks whose lineage the provider cannot see by itself.

Tasks report the datasets they read and write through Airflow's hook lineage collector, which the
OpenLineage provider turns into the task's event inputs and outputs (when the operator's own
extractor found none). Names follow the provider's: S3 objects as `s3://<bucket>` + key, warehouse
tables as the SQL extractor names them (`postgres://<host>:<port>` or `redshift://<cluster>.<region>:<port>`
+ `<database>.<schema>.<table>`), so the events of consecutive tasks chain:
raw objects -> Glue job -> processed + quarantine -> load_staging -> staging -> merge -> imdb_movies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

STAGING_TABLE = "movies.imdb_movies_staging"
LEDGER_TABLE = "movies.load_ledger"


def glue_outputs(output_uri: str) -> list[str]:
    """The folders the Glue job writes under the batch's output URI (include/glue/movies_quality/job.py)."""
    return [processed_uri(output_uri), f"{output_uri.rstrip('/')}/quarantine"]


def processed_uri(output_uri: str) -> str:
    """The batch's clean rows, as Parquet, which load_staging copies into staging. The output URI ends
    in '/'; Spark's `<output_uri>/processed` lands under the key prefix `...batch_id=<id>/processed/`."""
    return f"{output_uri.rstrip('/')}/processed"


def glue_run_datasets(script_args: Mapping[str, str], manifest_text: str) -> tuple[list[str], list[str]]:
    """Inputs (the raw objects, as the run's input manifest lists them) and outputs of one Glue run."""
    inputs = [entry["source_object"] for entry in json.loads(manifest_text)["inputs"]]
    return inputs, glue_outputs(script_args["--output_uri"])


def table_dataset(scheme: str, authority: str, database: str, table: str) -> tuple[str, str]:
    """The OpenLineage (namespace, name) of `schema.table`, as the provider's SQL extractor names it."""
    return f"{scheme}://{authority}", f"{database}.{table}"


def table_uri(scheme: str, authority: str, database: str, table: str) -> str:
    """An Airflow asset URI for `schema.table` that the postgres and redshift providers convert to the
    OpenLineage dataset the SQL extractor names: namespace `scheme://authority`, name `database.schema.table`."""
    schema, name = table.split(".")
    return f"{scheme}://{authority}/{database}/{schema}/{name}"


def warehouse_table_uris(conn_id: str, tables: Sequence[str]) -> list[str]:
    """Asset URIs of warehouse tables, named from the connection as the provider's SQL lineage names them."""
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection(conn_id)
    info = connection.get_hook().get_openlineage_database_info(connection)
    return [table_uri(info.scheme, info.authority, info.database, table) for table in tables]


def warehouse_table_datasets(conn_id: str, tables: Sequence[str]) -> list[tuple[str, str]]:
    """OpenLineage (namespace, name) pairs of warehouse tables, named from the connection."""
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection(conn_id)
    info = connection.get_hook().get_openlineage_database_info(connection)
    return [table_dataset(info.scheme, info.authority, info.database, table) for table in tables]


def report(inputs: Iterable[str] = (), outputs: Iterable[str] = (), collector: Any = None) -> None:
    """Hand the task's inputs and outputs (asset URIs) to the hook lineage collector (a no-op collector
    when no lineage reader, such as the OpenLineage provider, is enabled)."""
    if collector is None:
        from airflow.sdk.lineage import get_hook_lineage_collector

        collector = get_hook_lineage_collector()
    # The lineage context is the hook that did the I/O; these are reported by the task itself, and
    # the S3, postgres and redshift converters do not use it.
    for uri in inputs:
        collector.add_input_asset(context=None, uri=uri)
    for uri in outputs:
        collector.add_output_asset(context=None, uri=uri)


# --- the tasks' reports (one call each from the DAG) ---------------------------------------------


def report_glue_run(context: Mapping, result: Any = None) -> None:
    """post_execute of the Glue operator (run in the process that sees the job finish, also after a
    deferral): the raw objects in, processed and quarantine out."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    task = context["task"]
    manifest = S3Hook(aws_conn_id=task.aws_conn_id).read_key(*_key_and_bucket(task.script_args["--input_manifest"]))
    inputs, outputs = glue_run_datasets(task.script_args, manifest)
    report(inputs=inputs, outputs=outputs)


def _key_and_bucket(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return key, bucket


def report_staged_batch(batch: Mapping, conn_id: str) -> None:
    """load_staging reads the processed Parquet and writes staging and the batch's ledger rows."""
    report(inputs=[processed_uri(batch["output_uri"])],
           outputs=warehouse_table_uris(conn_id, [STAGING_TABLE, LEDGER_TABLE]))  # fmt: skip


def report_gate(conn_id: str) -> None:
    """quality_gate reads staging and records its verdicts in the ledger."""
    staging, ledger = warehouse_table_uris(conn_id, [STAGING_TABLE, LEDGER_TABLE])
    report(inputs=[staging], outputs=[ledger])
