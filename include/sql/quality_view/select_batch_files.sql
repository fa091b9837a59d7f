-- The ledger rows (one per source object) of the given batches. Read-only.
-- Parameters: the batch ids, one placeholder each (the view writes them into the in-list).
select
    ledger.batch_id,
    ledger.bucket,
    ledger.object_key,
    ledger.etag,
    ledger.status,
    ledger.rows_in,
    ledger.rows_loaded,
    ledger.rows_quarantined,
    ledger.reason
from movies.load_ledger as ledger
where ledger.batch_id in ({batch_ids})
order by ledger.batch_id, ledger.bucket, ledger.object_key
