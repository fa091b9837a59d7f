-- The ledger rows (one per source object) of the given batches. Read-only.
-- Parameters: the batch ids, spliced in as one placeholder each where {batch_ids} stands.
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
