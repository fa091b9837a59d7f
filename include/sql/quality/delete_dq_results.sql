-- Clears one batch's verdicts for one contract, so that re-verifying the batch replaces them.
delete from movies.dq_results
where
    batch_id = %(batch_id)s
    and contract = %(contract)s
