-- Register the merged batch's processed Parquet as a partition of processed_movies.
-- Rendered by Airflow's Jinja in the ingestion DAG: the batch comes from the resolve_batch task.
alter table processed_movies add if not exists
partition (batch = '{{ ti.xcom_pull(task_ids="resolve_batch")["batch_id"] }}')
location '{{ ti.xcom_pull(task_ids="resolve_batch")["output_uri"] }}processed/'
