-- Marks a batch's staged ledger rows as passed by the quality gate. The merge takes only
-- 'verified' rows, so rows staged by another run after this gate ran can never be merged unchecked.
-- Parameters: updated_at, batch_id.
update movies.load_ledger
set
    status = 'verified',
    updated_at = %s
where batch_id = %s
    and status = 'staged'
