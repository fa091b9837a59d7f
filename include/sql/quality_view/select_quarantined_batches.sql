-- The latest batches with quarantined rows, newest first: the quarantine explorer's choices.
-- Read-only. Parameters: row_limit.
with ledger_batches as (
    select
        ledger.batch_id,
        min(ledger.created_at) as recorded_at,
        sum(ledger.rows_quarantined) as rows_quarantined
    from movies.load_ledger as ledger
    group by ledger.batch_id
)

select
    ledger_batches.batch_id,
    ledger_batches.recorded_at,
    ledger_batches.rows_quarantined
from ledger_batches
where ledger_batches.rows_quarantined > 0
order by ledger_batches.recorded_at desc, ledger_batches.batch_id desc
limit %(row_limit)s
