-- The row count of the target table that the gate last accepted for another batch: the floor of
-- the target contract's "row count never shrinks" check. Other batches only, so that a re-run of
-- a batch compares against the batch before it. No row when nothing was accepted yet.
with accepted_row_counts as (
    select
        results.value as row_count,
        results.checked_at as checked_at
    from movies.dq_results as results
    where results.contract = %(contract)s
        and results.check_path = 'checks.row_count'
        and results.outcome <> 'fail'
        and results.batch_id <> %(batch_id)s
)

select accepted_row_counts.row_count as row_count
from accepted_row_counts
order by accepted_row_counts.checked_at desc
limit 1
