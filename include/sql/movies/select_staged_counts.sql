-- Staged rows per source file of one batch: they must equal the Glue job's rows_valid per file.
select
    staging.source_object,
    count(*) as staged_rows
from movies.imdb_movies_staging as staging
where staging.batch_id = %(batch_id)s
group by staging.source_object
