"""
### IMDb quality movie ingestion

Loads new IMDb movie-rating CSV files from the raw landing prefix into the warehouse, exactly once.

**When it runs**: on arrival (an S3 `Object Created` event for a raw `*.csv` goes through an
EventBridge rule to an SQS queue; the asset watcher on `imdb_raw_landing` turns it into an asset
event), daily (a sweep of the day before; also `airflow backfill create`), on a manual trigger
(conf `{"sweep": true}` for a sweep), and as a follow-up run when files landed during a run.

**What a run takes**: an event only wakes the DAG. Every run takes the raw object versions of its
look-back window (`imdb_lookback_days`, default 14) that the load ledger has not settled (`loaded`
or `rejected`; a sweep run also retakes `quality_failed` ones), plus the versions its events name.
Re-delivered versions already loaded are recorded `skipped`. SQS delivery into Airflow is at most
once; the sweep is the guarantee that no file is missed.

**What a run does**: resolve the batch → confirm the objects exist → Glue job (clean, validate,
quarantine) → load staging → Soda data-contract gate → MERGE + rating history + ledger in one
transaction (under the ledger's lock; the latest data wins) → refresh marts (and QuickSight SPICE where
configured; Athena reads the processed Parquet through partition projection, so no per-batch DDL) →
SNS summary of what the ledger recorded.
A failed task, including a failed quality gate, sends an SNS message naming it and the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pendulum
from airflow.providers.amazon.aws.notifications.sns import SnsNotifier
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.quicksight import QuickSightCreateIngestionOperator
from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, AssetWatcher, CronTriggerTimetable, chain, task
from imdb_pipeline import config, lineage, notifications
from imdb_pipeline.lineage_operators import SQLWithCteInputsOperator
from imdb_pipeline.warehouse import check_merge_result

INCLUDE = config.include_dir()
GLUE_TIMEOUT_MINUTES = 45
# The Glue task waits up to an hour for its run (above the job's own timeout), checking every
# GLUE_POLL_SECONDS.
GLUE_WAIT_SECONDS = 60 * 60
GLUE_POLL_SECONDS = config.seconds_from_environment("imdb_glue_poll_seconds")

raw_landing = Asset(
    name="imdb_raw_landing",
    uri=f"s3://{config.from_environment('imdb_bucket')}/{config.from_environment('imdb_raw_prefix')}",
    watchers=[
        AssetWatcher(
            name="imdb_raw_object_created",
            # Long polling keeps the triggerer's calls few (one per 10 s while nothing lands), so the
            # pause after an empty poll can be short: a message that lands during it waits for it.
            # A message is deleted once received.
            trigger=MessageQueueTrigger(
                scheme="sqs",
                sqs_queue=config.from_environment("imdb_queue_url"),
                aws_conn_id=config.AWS_CONN_ID,
                max_messages=10,
                wait_time_seconds=10,
                waiter_delay=1,
            ),
        )
    ],
)
# Downstream DAGs (reports, exports) can be scheduled on the merged table.
imdb_movies_table = Asset(name="warehouse.movies.imdb_movies")

notify_task_failure = SnsNotifier(
    aws_conn_id=config.AWS_CONN_ID,
    target_arn=config.template("imdb_sns_topic_arn"),
    subject=notifications.TASK_FAILED_SUBJECT,
    message=notifications.TASK_FAILED_MESSAGE,
)

with DAG(
    dag_id=config.DAG_ID,
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 0 * * *", timezone="UTC", interval=timedelta(days=1)),
        assets=[raw_landing],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # Merges of two runs must not interleave: one run at a time (backfills: --max-active-runs 1).
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    template_searchpath=[str(INCLUDE / "sql")],
    tags=["imdb", "glue", "redshift", "soda"],
    default_args={
        "owner": "data-engineering",
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": notify_task_failure,
        # Nothing may block later runs for ever: every task has a time limit (the Glue task its own).
        "execution_timeout": timedelta(minutes=20),
        # Every AWS operator and SQL operator of the DAG uses the same two connections.
        "aws_conn_id": config.AWS_CONN_ID,
        "conn_id": config.WAREHOUSE_CONN_ID,
    },
) as dag:

    @task
    def check_configuration() -> None:
        """Every setting and connection the DAG needs, checked at once: one message lists every problem."""
        from imdb_pipeline.failures import fail_fast

        with fail_fast():
            config.check_airflow()

    @task
    def create_warehouse_tables() -> None:
        """Create the warehouse schema where it is missing (idempotent), so a new environment just works."""
        from imdb_pipeline import db, warehouse

        with db.connect(config.WAREHOUSE_CONN_ID) as conn:
            warehouse.apply_ddl(conn)

    @task
    def resolve_batch(**context) -> dict:
        """The object versions this run loads; an empty batch ends the run as skipped."""
        from airflow.exceptions import AirflowSkipException
        from airflow.providers.amazon.aws.hooks.sns import SnsHook
        from imdb_pipeline import db, runs

        dag_run = context["dag_run"]
        with db.connect(config.WAREHOUSE_CONN_ID) as conn:
            resolved = runs.resolve_run_batch(
                _s3_client(),
                conn,
                asset_event_extras=[e.extra for events in context["triggering_asset_events"].values() for e in events],
                run_id=dag_run.run_id,
                run_after=dag_run.run_after,
                window_end=_window_end(context),
                lookback_days=int(config.get("imdb_lookback_days")),
                # The daily run, its backfills and a manual run with {"sweep": true} retry gate failures too.
                sweep=dag_run.run_type in ("scheduled", "backfill") or bool((dag_run.conf or {}).get("sweep")),
                bucket=config.get("imdb_bucket"),
                raw_prefix=config.get("imdb_raw_prefix"),
                processed_prefix=config.get("imdb_processed_prefix"),
            )
        if not resolved.objects:
            subject, message = notifications.skipped_message(
                [obj.uri for obj in resolved.skipped], run_id=dag_run.run_id, run_url=context["ti"].log_url
            )
            SnsHook(aws_conn_id=config.AWS_CONN_ID).publish_to_target(
                config.get("imdb_sns_topic_arn"), message, subject=subject
            )
            raise AirflowSkipException(f"Nothing new to load ({len(resolved.skipped)} already loaded).")
        lineage.report(inputs=resolved.input_uris)
        runs.write_input_manifest(_s3_client(), resolved)
        return resolved.to_xcom()

    @task
    def publish_glue_code() -> dict:
        """Upload the Glue job's script and transform package to the artifacts bucket (where the Glue role
        reads code and data producers cannot write), so the job runs the code of this repository."""
        from imdb_pipeline import glue_package

        return glue_package.publish(
            _s3_client(), INCLUDE / "glue", config.get("imdb_glue_assets_bucket"), config.get("imdb_glue_assets_prefix")
        )

    @task
    def athena_partition_sql(batch: dict) -> str:
        """The DDL that shows the merged batch in Athena (only merged batches are registered)."""
        from imdb_pipeline import warehouse

        return warehouse.athena_partition_statement(batch["batch_id"], batch["output_uri"])

    @task
    def load_staging(batch: dict) -> dict:
        """Load the batch's processed rows into staging and its files into the ledger."""
        from imdb_pipeline import db, runs
        from imdb_pipeline.failures import fail_fast

        lineage.report_staged_batch(batch, config.WAREHOUSE_CONN_ID)
        with fail_fast(), db.connect(config.WAREHOUSE_CONN_ID) as conn:
            return runs.stage_batch(conn, _s3_client(), batch, config.get("imdb_redshift_iam_role"))

    @task
    def quality_gate(batch: dict) -> list[dict]:
        """Verify staging against its Soda contract; a failed check stops the batch before the merge."""
        from imdb_pipeline import db, quality
        from imdb_pipeline.failures import fail_fast

        lineage.report_gate(config.WAREHOUSE_CONN_ID)
        results = quality.verify_staging(config.WAREHOUSE_CONN_ID, batch["batch_id"])
        with fail_fast(), db.connect(config.WAREHOUSE_CONN_ID) as conn:
            return quality.record_verdicts(conn, _s3_client(), batch["output_uri"], results, "dq_results.json")

    @task
    def merge_sql(batch: dict) -> list[str]:
        """The merge's statements with this batch's id in them, for the merge operator to run."""
        from airflow.sdk import BaseHook
        from imdb_pipeline import warehouse

        dialect = BaseHook.get_connection(config.WAREHOUSE_CONN_ID).conn_type
        return warehouse.merge_statements(batch["batch_id"], dialect)

    @task
    def verify_merged_table(batch: dict) -> list[dict]:
        """Verify imdb_movies after the merge (no duplicates, never shrinks); a breach alerts on SNS."""
        from imdb_pipeline import db, quality
        from imdb_pipeline.failures import fail_fast

        with fail_fast(), db.connect(config.WAREHOUSE_CONN_ID) as conn:
            results = quality.verify_target(conn, config.WAREHOUSE_CONN_ID, batch["batch_id"])
            return quality.record_verdicts(conn, _s3_client(), batch["output_uri"], results, "dq_results_target.json")

    @task(outlets=[imdb_movies_table])
    def publish_batch_figures(batch: dict, *, outlet_events) -> dict:
        """The merged table's asset event carries the batch's figures (Airflow's Assets view shows them)."""
        from imdb_pipeline import batch_figures, db

        with db.connect(config.WAREHOUSE_CONN_ID) as conn:
            figures = batch_figures.batch_figures(conn, batch["batch_id"])
        outlet_events[imdb_movies_table].extra = figures
        return figures

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def athena_configured() -> bool:
        """Athena partitions are registered on AWS only (the local emulator runs no Athena SQL)."""
        return bool(config.get("imdb_athena_database"))

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def quicksight_configured() -> bool:
        """SPICE refresh only where a QuickSight dataset is configured."""
        return bool(config.get("imdb_quicksight_dataset_id"))

    # Whatever this run did, files that landed meanwhile must not wait for the daily sweep.
    @task.short_circuit(trigger_rule="all_done", ignore_downstream_trigger_rules=False)
    def files_waiting(**context) -> bool:
        """True when raw files landed that no batch has taken: a follow-up run is started for them."""
        from imdb_pipeline import db, runs

        with db.connect(config.WAREHOUSE_CONN_ID) as conn:
            waiting = runs.versions_waiting(
                _s3_client(), conn, landed_after=context["dag_run"].start_date, window_end=pendulum.now("UTC"),
                lookback_days=int(config.get("imdb_lookback_days")),
                bucket=config.get("imdb_bucket"), raw_prefix=config.get("imdb_raw_prefix"),
            )  # fmt: skip
        print(f"{len(waiting)} raw object version(s) wait for a run: {[version.uri for version in waiting]}")
        return bool(waiting)

    # The follow-up tasks below run whatever happened, so a run's state no longer follows its last
    # pipeline task: this one fails the run when the pipeline did (its failed task already alerted).
    @task(trigger_rule="one_failed", on_failure_callback=None)
    def pipeline_failed() -> None:
        """Fails the run when a pipeline task failed; skipped otherwise."""
        from airflow.exceptions import AirflowFailException

        raise AirflowFailException("A task of this run failed: see the failed task's log and its SNS alert.")

    @task
    def success_notice(
        batch: dict, summary: dict, gate_results: list[dict], target_results: list[dict], figures: dict, **context
    ) -> dict:
        """Subject and body of the success notification (what loaded, from the ledger's figures)."""
        subject, message = notifications.success_message(
            summary, [*gate_results, *target_results], figures, batch_id=batch["batch_id"],
            run_url=context["ti"].log_url,
        )
        return {"subject": subject, "message": message}

    batch = resolve_batch()

    wait_for_objects = S3KeySensor(
        task_id="wait_for_objects",
        bucket_key=batch["input_uris"],
        deferrable=True,
        poke_interval=10,
        timeout=600,
    )

    glue_code = publish_glue_code()
    clean_validate_quarantine = GlueJobOperator(
        task_id="clean_validate_quarantine",
        job_name=config.template("imdb_glue_job_name"),
        script_location=glue_code["script"],
        iam_role_name=config.template("imdb_glue_role"),
        # The job definition follows the repository: script and settings are updated every run, so every
        # setting of the job lives here (update_config replaces the whole definition with these).
        update_config=True,
        create_job_kwargs={
            "GlueVersion": "5.0",
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            # Minutes; below the operator's waiter budget (GLUE_WAIT_SECONDS).
            "Timeout": GLUE_TIMEOUT_MINUTES,
            "ExecutionProperty": {"MaxConcurrentRuns": 2},
            "DefaultArguments": {
                "--extra-py-files": glue_code["package"],
                "--job-language": "python",
                "--enable-continuous-cloudwatch-log": "true",
                "--enable-metrics": "true",
            },
        },
        script_args={
            "--input_manifest": batch["input_manifest"],
            "--output_uri": batch["output_uri"],
            "--batch_id": batch["batch_id"],
            "--quality_min": config.template("imdb_quality_min"),
            "--quality_max": config.template("imdb_quality_max"),
            "--max_quarantine_share": config.template("imdb_max_quarantine_share"),
        },
        deferrable=True,
        # The job's driver log (CloudWatch /aws-glue/jobs/output and /error; the emulator writes them
        # too) is forwarded into this task's log by the deferred trigger.
        verbose=True,
        # Fixed when the DAG is parsed (not templated): 10 s on AWS, where a run takes minutes; 2 s
        # locally, where a warm run takes seconds and the wait for the next check was most of the task.
        waiter_delay=GLUE_POLL_SECONDS,
        waiter_max_attempts=GLUE_WAIT_SECONDS // GLUE_POLL_SECONDS,
        # Longer than the waiter budget, so the operator reports the run's end, not a kill.
        execution_timeout=timedelta(minutes=70),
        # A retry of this task resumes the Glue run it started instead of starting another; a killed
        # task stops its run.
        resume_glue_job_on_retry=True,
        stop_job_run_on_kill=True,
        post_execute=lineage.report_glue_run,
    )

    summary = load_staging(batch)
    gate_results = quality_gate(batch)
    merge_imdb_movies = SQLWithCteInputsOperator(
        task_id="merge_imdb_movies",
        sql=merge_sql(batch),
        cte_inputs=[lineage.STAGING_TABLE],
        # One transaction: MERGE, rating history and ledger commit together or not at all; the
        # handler fails (and so rolls back) a merge whose batch has nothing verified.
        autocommit=False,
        handler=check_merge_result,
    )
    target_results = verify_merged_table(batch)

    refresh_marts = SQLExecuteQueryOperator(
        task_id="refresh_marts",
        sql="marts/refresh_marts.sql",
        split_statements=True,
        autocommit=False,
    )

    partition_sql = athena_partition_sql(batch)
    add_athena_partition = AthenaOperator(
        task_id="add_athena_partition",
        query=partition_sql,
        database=config.template("imdb_athena_database"),
        workgroup=config.template("imdb_athena_workgroup"),
        output_location=config.template("imdb_athena_output"),
    )

    refresh_quicksight_spice = QuickSightCreateIngestionOperator(
        task_id="refresh_quicksight_spice",
        data_set_id=config.template("imdb_quicksight_dataset_id"),
        ingestion_id=batch["batch_id"],
        wait_for_completion=False,
    )

    figures = publish_batch_figures(batch)
    notice = success_notice(batch, summary, gate_results, target_results, figures)
    notify_success = SnsPublishOperator(
        task_id="notify_success",
        target_arn=config.template("imdb_sns_topic_arn"),
        subject=notice["subject"],
        message=notice["message"],
        # Sent once the merge is verified and the marts are refreshed, whether or not the optional
        # AWS-only refreshes were skipped.
        trigger_rule="none_failed_min_one_success",
    )

    # Every task costs a process start and a DAG parse (seconds on a small file), so tasks that do not
    # need each other's results run side by side: the code upload beside the sensor, the marts beside
    # the asset event and the notice, the "configured?" checks beside the merged table's verification.
    chain(
        check_configuration(),
        create_warehouse_tables(),
        batch,
        # The code is published only for a batch that has files (an empty batch skips both).
        [wait_for_objects, glue_code],
        clean_validate_quarantine,
        summary,
        gate_results,
        merge_imdb_movies,
        target_results,
        [figures, refresh_marts],
    )
    chain(figures, notice)
    # The DDL task sits behind the check too: a short-circuit's skip overwrites its direct downstream's
    # upstream_failed, so a failed DDL task right before add_athena_partition would end unnoticed.
    chain(merge_imdb_movies, athena_configured(), partition_sql, add_athena_partition)
    chain(merge_imdb_movies, quicksight_configured(), refresh_quicksight_spice)
    chain(refresh_marts, [add_athena_partition, refresh_quicksight_spice])
    # The marts are a direct upstream too: the optional refreshes may be skipped before the marts ran.
    chain([notice, refresh_marts, add_athena_partition, refresh_quicksight_spice], notify_success, pipeline_failed())

    trigger_follow_up_run = TriggerDagRunOperator(
        task_id="trigger_follow_up_run",
        trigger_dag_id=config.DAG_ID,
        logical_date=None,
        conf={"follow_up_of": "{{ run_id }}"},
    )
    chain([batch, notify_success], files_waiting(), trigger_follow_up_run)


def _window_end(context) -> datetime:
    """The end of the days a run covers: its data interval's end (daily and backfill runs), else the
    time the run was due (manual, asset-triggered and follow-up runs have no interval)."""
    return context.get("data_interval_end") or context["dag_run"].run_after


def _s3_client():
    """A boto3 S3 client through the DAG's AWS connection (the emulator locally)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=config.AWS_CONN_ID).get_conn()
