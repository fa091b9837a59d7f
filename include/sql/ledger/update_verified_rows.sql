-- A batch's staged rows passed the quality gate. The merge takes only 'verified' rows, so rows
-- staged by another run after this gate ran can never be merged unchecked.
update movies.load_ledger
set
    status = 'verified',
    updated_at = %(updated_at)s
where
    batch_id = %(batch_id)s
    and status = 'staged'
