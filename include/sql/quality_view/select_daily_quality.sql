-- Quality per day (the day a batch was first recorded in the ledger) over [start_day, end_day):
-- one row per batch, which the view sums per day after adding the quarantine reasons of each
-- batch's summary.json. rows_recorded / quality_rows: rows the merge recorded in rating_history
-- for the batch (new or changed movies) and how many of them pass the quality-movie rule
-- (rating strictly between quality_min and quality_max). Read-only.
-- Parameters: start_day, end_day, quality_min, quality_max.
with batch_days as (
    select
        ledger.batch_id,
        cast(min(ledger.created_at) as date) as batch_day,
        sum(ledger.rows_in) as rows_in,
        sum(ledger.rows_loaded) as rows_loaded,
        sum(ledger.rows_quarantined) as rows_quarantined
    from movies.load_ledger as ledger
    group by ledger.batch_id
),

window_batches as (
    select
        batch_days.batch_id,
        batch_days.batch_day,
        batch_days.rows_in,
        batch_days.rows_loaded,
        batch_days.rows_quarantined
    from batch_days
    where
        batch_days.batch_day >= cast(%(start_day)s as date)
        and batch_days.batch_day < cast(%(end_day)s as date)
),

failed_checks as (
    select
        results.batch_id,
        count(*) as checks_failed
    from movies.dq_results as results
    inner join window_batches
        on results.batch_id = window_batches.batch_id
    where results.outcome = 'fail'
    group by results.batch_id
),

recorded_rows as (
    select
        history.batch_id,
        count(*) as rows_recorded,
        sum(
            case
                when history.imdb_rating > %(quality_min)s and history.imdb_rating < %(quality_max)s then 1
                else 0
            end
        ) as quality_rows
    from movies.rating_history as history
    inner join window_batches
        on history.batch_id = window_batches.batch_id
    group by history.batch_id
)

select
    window_batches.batch_id,
    window_batches.batch_day,
    window_batches.rows_in,
    window_batches.rows_loaded,
    window_batches.rows_quarantined,
    coalesce(failed_checks.checks_failed, 0) as checks_failed,
    coalesce(recorded_rows.rows_recorded, 0) as rows_recorded,
    coalesce(recorded_rows.quality_rows, 0) as quality_rows
from window_batches
left join failed_checks
    on window_batches.batch_id = failed_checks.batch_id
left join recorded_rows
    on window_batches.batch_id = recorded_rows.batch_id
order by window_batches.batch_day, window_batches.batch_id
