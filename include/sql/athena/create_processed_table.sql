-- Glue Data Catalog table over the Glue job's processed Parquet, for Athena (and QuickSight on it).
-- One partition per batch: s3://<bucket>/<processed prefix>batch_id=<id>/processed/. The partition
-- column is named `batch` because `batch_id` is already a data column. Partitions are added
-- explicitly (add_processed_partition.sql) after a batch is merged, so Athena sees only batches
-- that passed the quality gate. Rendered by Airflow's Jinja (AthenaOperator) before it runs.
create external table if not exists processed_movies (
    movie_id string,
    series_title string,
    released_year int,
    certificate string,
    runtime_minutes int,
    genres string,
    primary_genre string,
    imdb_rating decimal(3, 1),
    meta_score int,
    no_of_votes bigint,
    gross_usd bigint,
    director string,
    star1 string,
    star2 string,
    star3 string,
    star4 string,
    overview string,
    poster_link string,
    is_quality_movie boolean,
    source_object string,
    source_line int,
    batch_id string,
    ingested_at timestamp
)
partitioned by (batch string)
stored as parquet
location 's3://{{ var.value.get("imdb_bucket", "imdb-quality") }}/{{ var.value.get("imdb_processed_prefix", "processed/") }}'
tblproperties ('parquet.compression' = 'SNAPPY')
