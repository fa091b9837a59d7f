-- The ledger rows that settle object versions among the given keys: 'loaded' (a merge loaded it),
-- 'rejected' (the file cannot be loaded as it is) and 'quality_failed' (its batch failed the gate;
-- the daily sweep takes it again). Versions are told apart by (bucket, object_key, etag).
select distinct
    ledger.bucket,
    ledger.object_key,
    ledger.etag,
    ledger.status
from movies.load_ledger as ledger
where
    ledger.status in ('loaded', 'rejected', 'quality_failed')
    and ledger.object_key in (%(object_keys)s)
