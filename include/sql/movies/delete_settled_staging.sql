-- Staging keeps rows only of batches still on their way (a ledger row staged or verified): the
-- merged batch's rows and those of batches that failed their gate or were skipped go.
delete from movies.imdb_movies_staging
where batch_id not in (
    select ledger.batch_id
    from movies.load_ledger as ledger
    where ledger.status in ('staged', 'verified')
)
