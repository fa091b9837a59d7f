-- A batch's figures for the merged table's asset event and the success notice: files, files
-- loaded, rows in / loaded / quarantined from the load ledger, rows new and changed from rating_history, and the quality gate's check outcomes.
-- One row, also for a batch nobody recorded (all zero). Read-only.
-- Parameters: batch_id.
with ledger_figures as (
    select
        coalesce(sum(ledger.rows_in), 0) as rows_in,
        coalesce(sum(ledger.rows_loaded), 0) as rows_loaded,
        coalesce(sum(ledger.rows_quarantined), 0) as rows_quarantined,
        count(*) as files,
        coalesce(sum(case when ledger.status = 'loaded' then 1 else 0 end), 0) as files_loaded
    from movies.load_ledger as ledger
    where ledger.batch_id = %(batch_id)s
),

history_figures as (
    select
        coalesce(sum(case when history.change_type = 'new' then 1 else 0 end), 0) as rows_new,
        coalesce(sum(case when history.change_type = 'changed' then 1 else 0 end), 0) as rows_changed
    from movies.rating_history as history
    where history.batch_id = %(batch_id)s
),

check_figures as (
    select
        coalesce(sum(case when results.outcome = 'pass' then 1 else 0 end), 0) as checks_passed,
        coalesce(sum(case when results.outcome = 'warn' then 1 else 0 end), 0) as checks_warned,
        coalesce(sum(case when results.outcome = 'fail' then 1 else 0 end), 0) as checks_failed
    from movies.dq_results as results
    where results.batch_id = %(batch_id)s
)

select
    ledger_figures.files,
    ledger_figures.files_loaded,
    ledger_figures.rows_in,
    ledger_figures.rows_loaded,
    history_figures.rows_new,
    history_figures.rows_changed,
    ledger_figures.rows_quarantined,
    check_figures.checks_passed,
    check_figures.checks_warned,
    check_figures.checks_failed
from ledger_figures
cross join history_figures
cross join check_figures
