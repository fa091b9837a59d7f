-- Per merged batch: rows loaded, quality movies among them, and source files (marts.batch_quality
-- adds the ledger's quarantine counts and the Soda verdicts, which live in the warehouse).
select
    processed.batch,
    count(*) as rows_loaded,
    count_if(processed.is_quality_movie) as quality_movies,
    count(distinct processed.source_object) as files,
    min(processed.ingested_at) as ingested_at
from processed_movies as processed
group by processed.batch
order by ingested_at
