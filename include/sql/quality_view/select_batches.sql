-- The quality view's batch list, newest first: one row per batch of the load ledger with its rows
-- in / loaded / quarantined and the rows the merge recorded as new or changed in rating_history.
-- Read-only. Parameters: status (a ledger status a file of the batch must have, or null for any),
-- day (the day the batch was first recorded, 'YYYY-MM-DD', or null for any), batch_id (one batch,
-- or null for all), row_limit.
with ledger_batches as (
    select
        ledger.batch_id,
        min(ledger.created_at) as recorded_at,
        max(ledger.updated_at) as updated_at,
        count(*) as files,
        sum(ledger.rows_in) as rows_in,
        sum(ledger.rows_loaded) as rows_loaded,
        sum(ledger.rows_quarantined) as rows_quarantined,
        sum(case when ledger.status = %(status)s then 1 else 0 end) as files_with_status
    from movies.load_ledger as ledger
    where cast(%(batch_id)s as varchar) is null or ledger.batch_id = %(batch_id)s
    group by ledger.batch_id
),

page as (
    select
        ledger_batches.batch_id,
        ledger_batches.recorded_at,
        ledger_batches.updated_at,
        ledger_batches.files,
        ledger_batches.rows_in,
        ledger_batches.rows_loaded,
        ledger_batches.rows_quarantined
    from ledger_batches
    where
        (cast(%(status)s as varchar) is null or ledger_batches.files_with_status > 0)
        and (
            cast(%(day)s as varchar) is null
            or cast(ledger_batches.recorded_at as date) = cast(%(day)s as date)
        )
    order by ledger_batches.recorded_at desc, ledger_batches.batch_id desc
    limit %(row_limit)s
),

history_by_batch as (
    select
        history.batch_id,
        sum(case when history.change_type = 'new' then 1 else 0 end) as rows_new,
        sum(case when history.change_type = 'changed' then 1 else 0 end) as rows_changed
    from movies.rating_history as history
    inner join page
        on history.batch_id = page.batch_id
    group by history.batch_id
)

select
    page.batch_id,
    page.recorded_at,
    page.updated_at,
    page.files,
    page.rows_in,
    page.rows_loaded,
    page.rows_quarantined,
    coalesce(history_by_batch.rows_new, 0) as rows_new,
    coalesce(history_by_batch.rows_changed, 0) as rows_changed
from page
left join history_by_batch
    on page.batch_id = history_by_batch.batch_id
order by page.recorded_at desc, page.batch_id desc
