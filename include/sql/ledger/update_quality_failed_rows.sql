-- A batch's staged rows were stopped by the quality gate; the reason names the failed checks.
-- Rows already marked get the newest reason, so a re-run of the gate is idempotent.
update movies.load_ledger
set
    status = 'quality_failed',
    reason = %(reason)s,
    updated_at = %(updated_at)s
where
    batch_id = %(batch_id)s
    and status in ('staged', 'verified', 'quality_failed')
