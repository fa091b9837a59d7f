-- The quality gate's verdicts (one row per contract and check) of the given batches. Read-only.
-- Parameters: the batch ids, one placeholder each (the view writes them into the in-list).
select
    results.batch_id,
    results.contract,
    results.check_path,
    results.check_name,
    results.outcome,
    results.value,
    results.threshold,
    results.message
from movies.dq_results as results
where results.batch_id in ({batch_ids})
order by results.batch_id, results.contract, results.check_path
