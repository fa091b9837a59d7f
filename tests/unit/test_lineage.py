"""imdb_pipeline.lineage and its merge operator: the names tasks report, checked against the providers'
own conversion to OpenLineage datasets (the names the SQL extractor gives warehouse tables)."""

from __future__ import annotations

import json

import pytest
from airflow.providers.openlineage.extractors import OperatorLineage
from airflow.providers.openlineage.utils.utils import translate_airflow_asset
from airflow.sdk import Asset
from airflow.sdk.lineage import HookLineageCollector
from imdb_pipeline import lineage
from openlineage.client.event_v2 import Dataset

# As the batch gives it, with a trailing slash.
OUTPUT_URI = "s3://imdb-quality-local/processed/batch_id=b20260101T000000/"
SCRIPT_ARGS = {
    "--input_manifest": f"{OUTPUT_URI}input_manifest.json",
    "--output_uri": OUTPUT_URI,
    "--batch_id": "b20260101T000000",
}
RAW = ["s3://imdb-quality-local/raw/a.csv", "s3://imdb-quality-local/raw/dt=2026-01-01/b.csv.gz"]
MANIFEST = json.dumps({"batch_id": "b20260101T000000", "inputs": [{"uri": uri, "source_object": uri} for uri in RAW]})


def ol_dataset(uri: str) -> tuple[str, str]:
    dataset = translate_airflow_asset(Asset(uri=uri), None)
    return dataset.namespace, dataset.name


def test_a_glue_run_reads_its_raw_objects_and_writes_processed_and_quarantine():
    inputs, outputs = lineage.glue_run_datasets(SCRIPT_ARGS, MANIFEST)

    assert [ol_dataset(uri) for uri in inputs] == [
        ("s3://imdb-quality-local", "raw/a.csv"), ("s3://imdb-quality-local", "raw/dt=2026-01-01/b.csv.gz")]
    assert [ol_dataset(uri) for uri in outputs] == [
        ("s3://imdb-quality-local", "processed/batch_id=b20260101T000000/processed"),
        ("s3://imdb-quality-local", "processed/batch_id=b20260101T000000/quarantine"),
    ]
    # load_staging's input is the Glue job's output, named the same.
    assert lineage.processed_uri(OUTPUT_URI) == outputs[0]


@pytest.mark.parametrize(("scheme", "authority"), [
    ("postgres", "127.0.0.1:5433"), ("redshift", "imdb-cluster.eu-west-1:5439")])
def test_a_table_asset_converts_to_the_dataset_the_sql_extractor_names(scheme, authority):
    uri = lineage.table_uri(scheme, authority, "imdb", lineage.STAGING_TABLE)

    assert ol_dataset(uri) == lineage.table_dataset(scheme, authority, "imdb", lineage.STAGING_TABLE)
    assert ol_dataset(uri) == (f"{scheme}://{authority}", "imdb.movies.imdb_movies_staging")


def test_warehouse_tables_are_named_from_the_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LINEAGE_TEST_WAREHOUSE", "postgresql://etl:secret@127.0.0.1:5433/imdb")

    uris = lineage.warehouse_table_uris("lineage_test_warehouse", [lineage.STAGING_TABLE, lineage.LEDGER_TABLE])
    pairs = lineage.warehouse_table_datasets("lineage_test_warehouse", [lineage.STAGING_TABLE])

    assert [ol_dataset(uri) for uri in uris] == [
        ("postgres://127.0.0.1:5433", "imdb.movies.imdb_movies_staging"),
        ("postgres://127.0.0.1:5433", "imdb.movies.load_ledger"),
    ]
    assert pairs == [("postgres://127.0.0.1:5433", "imdb.movies.imdb_movies_staging")]


def test_reported_datasets_reach_the_collector_as_inputs_and_outputs():
    collector = HookLineageCollector()

    lineage.report(inputs=["s3://imdb-quality-local/raw/a.csv"], outputs=[f"{OUTPUT_URI}processed"],
                   collector=collector)

    collected = collector.collected_assets
    assert [info.asset.uri for info in collected.inputs] == ["s3://imdb-quality-local/raw/a.csv"]
    assert [info.asset.uri for info in collected.outputs] == [f"{OUTPUT_URI}processed"]


def test_the_glue_post_execute_reports_the_manifests_inputs_and_the_outputs(monkeypatch):
    reported = {}

    def report(inputs=(), outputs=()):
        reported.update(inputs=inputs, outputs=outputs)

    monkeypatch.setattr(lineage, "report", report)

    read = []

    class S3Hook:
        def __init__(self, aws_conn_id):
            assert aws_conn_id == "aws_default"

        def read_key(self, key, bucket):
            read.append((bucket, key))
            return MANIFEST

    monkeypatch.setattr("airflow.providers.amazon.aws.hooks.s3.S3Hook", S3Hook)

    class RenderedTask:
        aws_conn_id = "aws_default"
        script_args = SCRIPT_ARGS

    lineage.report_glue_run({"task": RenderedTask()}, None)

    assert read == [("imdb-quality-local", "processed/batch_id=b20260101T000000/input_manifest.json")]
    assert reported == {"inputs": RAW, "outputs": lineage.glue_outputs(OUTPUT_URI)}


def test_the_merge_operator_adds_the_tables_read_in_ctes_once(monkeypatch):
    from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
    from imdb_pipeline.lineage_operators import SQLWithCteInputsOperator

    monkeypatch.setenv("AIRFLOW_CONN_LINEAGE_TEST_WAREHOUSE", "postgresql://etl:secret@127.0.0.1:5433/imdb")
    namespace = "postgres://127.0.0.1:5433"
    ledger = Dataset(namespace=namespace, name="imdb.movies.load_ledger")
    staging = Dataset(namespace=namespace, name="imdb.movies.imdb_movies_staging")
    # What the SQL parser returns for the merge: the ledger, not the staging table read inside a CTE.
    monkeypatch.setattr(SQLExecuteQueryOperator, "get_openlineage_facets_on_start",
                        lambda self: OperatorLineage(inputs=[ledger]))
    operator = SQLWithCteInputsOperator(task_id="merge", conn_id="lineage_test_warehouse", sql="select 1",
                                        cte_inputs=[lineage.STAGING_TABLE, lineage.LEDGER_TABLE])

    assert operator.get_openlineage_facets_on_start().inputs == [ledger, staging]
