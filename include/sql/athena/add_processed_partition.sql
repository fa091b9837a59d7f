-- Register a merged batch's processed Parquet as a partition of processed_movies: only merged
-- batches are registered, so Athena never shows a batch that failed its quality gate.
-- Rendered for one batch by dags/imdb_pipeline/warehouse.py:athena_partition_statement.
alter table processed_movies add if not exists
partition (batch = %(batch_id)s)
location %(location)s
