-- Clears one batch's verdicts for one contract, so that re-verifying the batch replaces them.
-- Parameters: batch_id, contract.
delete from movies.dq_results
where batch_id = %s
    and contract = %s
