-- Marks a batch's staged ledger rows as stopped by the quality gate, with the failed checks as
-- the reason. Rows already marked get the newest reason, so a re-run of the gate is idempotent.
-- Parameters: reason, updated_at, batch_id.
update movies.load_ledger
set
    status = 'quality_failed',
    reason = %s,
    updated_at = %s
where batch_id = %s
    and status in ('staged', 'verified', 'quality_failed')
