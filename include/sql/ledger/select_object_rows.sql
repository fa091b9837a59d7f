-- Every ledger row of one object, newest first: what happened to each of its versions.
select
    ledger.batch_id,
    ledger.etag,
    ledger.status,
    ledger.rows_in,
    ledger.rows_loaded,
    ledger.rows_quarantined,
    ledger.reason
from movies.load_ledger as ledger
where
    ledger.bucket = %(bucket)s
    and ledger.object_key = %(object_key)s
order by ledger.updated_at desc
