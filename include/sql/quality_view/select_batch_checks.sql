-- The quality gate's verdicts (one row per contract and check) of the given batches. Read-only.
-- Parameters: the batch ids, spliced in as one placeholder each where {batch_ids} stands.
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
